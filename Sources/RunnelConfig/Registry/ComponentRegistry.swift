public import RunnelCore

/// Maps the `type:` names of a spec to factories. `ComponentRegistry.standard` holds every
/// connector built into this binary; a Swift package that depends on Runnel registers its own
/// stages and passes the registry to the same entry point (`RunnelCommand`).
public struct ComponentRegistry: Sendable {
    public typealias Factory<T> = @Sendable (ComponentContext) throws -> T?

    public var extractors: [String: Factory<any Extractor>] = [:]
    public var loaders: [String: Factory<any Loader>] = [:]
    public var checkpointStores: [String: Factory<any CheckpointStore>] = [:]
    public var deadLetterQueues: [String: Factory<any DeadLetterQueue>] = [:]
    public var transformers: [String: Factory<any Transformer>] = [:]
    /// Validation rules other than the field checks, chosen by a key the rule has (`expr`).
    public var validationRules: [String: Factory<any Validator>] = [:]
    /// Encoders of part-file formats a connector module brings (`parquet`), by format name, for
    /// the part-file loaders of other modules (files, S3): see `ComponentContext.partEncoder`.
    public var partEncoders: [String: Factory<any PartEncoder>] = [:]
    /// Types this build knows of but was built without, with the package trait that enables them.
    public var unavailable: [String: String] = [:]

    public init() {}

    public mutating func registerExtractor(_ type: String, _ factory: @escaping Factory<any Extractor>) {
        extractors[type] = factory
    }
    public mutating func registerLoader(_ type: String, _ factory: @escaping Factory<any Loader>) {
        loaders[type] = factory
    }
    public mutating func registerCheckpointStore(_ type: String, _ factory: @escaping Factory<any CheckpointStore>) {
        checkpointStores[type] = factory
    }
    public mutating func registerDeadLetterQueue(_ type: String, _ factory: @escaping Factory<any DeadLetterQueue>) {
        deadLetterQueues[type] = factory
    }
    public mutating func registerTransformer(_ type: String, _ factory: @escaping Factory<any Transformer>) {
        transformers[type] = factory
    }
    /// A kind of validation rule recognised by `key` (`{expr: ..., code: ...}` by `expr`).
    public mutating func registerValidationRule(key: String, _ factory: @escaping Factory<any Validator>) {
        validationRules[key] = factory
    }

    /// The encoder of part format `format` (`format: parquet` of the file and S3 loaders); its
    /// factory reads the options it needs (`compression`) from the loader's section.
    public mutating func registerPartEncoder(_ format: String, _ factory: @escaping Factory<any PartEncoder>) {
        partEncoders[format] = factory
    }

    /// Records `types` as known but not built in, so a spec naming one is told which trait to enable.
    public mutating func markUnavailable(_ types: [String], trait: String) {
        for t in types { unavailable[t] = trait }
    }

    /// Every type name registered, in any role.
    public var registeredTypes: Set<String> {
        Set(extractors.keys).union(loaders.keys).union(checkpointStores.keys).union(deadLetterQueues.keys)
            .union(transformers.keys)
    }

    /// Builds the component of `section` from `factories`, reporting an unknown or unavailable
    /// type, unknown keys, and errors the factory throws.
    func build<T>(
        _ factories: [String: Factory<T>], section: SpecSection, role: String, resources: SharedResources, pipeline: String,
        root: SpecSection
    ) -> T? {
        guard let typeNode = section.node("type", required: true), let type = typeNode.string else { return nil }
        guard let factory = factories[type] else {
            if let trait = unavailable[type] {
                typeNode.problem(
                    "'\(type)' is not built into this binary; rebuild with the '\(trait)' trait "
                        + "(swift build --traits \(trait), or --enable-all-traits) or use the runnel image, which has every trait")
            } else {
                let choices = factories.keys.sorted()
                var message = "unknown \(role) type '\(type)'"
                if let s = suggestion(for: type, in: choices) { message += " (did you mean '\(s)'?)" }
                typeNode.problem(message + "; valid types: \(choices.joined(separator: ", "))")
            }
            return nil
        }
        let context = ComponentContext(
            role: role, type: type, section: section, resources: resources, pipeline: pipeline, root: root,
            partEncoders: partEncoders, unavailable: unavailable)
        do {
            let built = try factory(context)
            section.finish("\(role) (\(type))")
            return built
        } catch let e as RunnelError {
            section.node.problem(e.message)
        } catch {
            section.node.problem("\(error)")
        }
        return nil
    }
}
