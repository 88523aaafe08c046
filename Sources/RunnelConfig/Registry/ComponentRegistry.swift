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
    /// Decoders of formats read by range (`parquet`), for the extractors of other modules (S3):
    /// see `ComponentContext.partDecoder`.
    public var partDecoders: [String: any PartDecoder] = [:]
    /// Types this build knows of but was built without, with the package trait that enables them.
    public var unavailable: [String: String] = [:]
    /// The declared keys of each registered type, by role (`Role.extract`: `csv` → its keys).
    public var declarations: [Role: [String: ComponentKeys]] = [:]

    /// The kinds of component a type is registered as.
    public enum Role: String, Sendable, CaseIterable {
        case extract, transform, load, checkpoint
        case deadLetter = "dead_letter"
        case validationRule = "validation rule"
        case partEncoder = "part encoder"
    }

    /// The declared keys of `type` in `role`; `.undeclared` when it declared none.
    public func keys(_ role: Role, _ type: String) -> ComponentKeys { declarations[role]?[type] ?? .undeclared }

    private mutating func declare(_ role: Role, _ type: String, _ keys: ComponentKeys) {
        declarations[role, default: [:]][type] = keys
    }

    public init() {}

    public mutating func registerExtractor(
        _ type: String, keys: ComponentKeys = .undeclared, _ factory: @escaping Factory<any Extractor>
    ) {
        extractors[type] = factory
        declare(.extract, type, keys)
    }
    public mutating func registerLoader(
        _ type: String, keys: ComponentKeys = .undeclared, _ factory: @escaping Factory<any Loader>
    ) {
        loaders[type] = factory
        declare(.load, type, keys)
    }
    public mutating func registerCheckpointStore(
        _ type: String, keys: ComponentKeys = .undeclared, _ factory: @escaping Factory<any CheckpointStore>
    ) {
        checkpointStores[type] = factory
        declare(.checkpoint, type, keys)
    }
    public mutating func registerDeadLetterQueue(
        _ type: String, keys: ComponentKeys = .undeclared, _ factory: @escaping Factory<any DeadLetterQueue>
    ) {
        deadLetterQueues[type] = factory
        declare(.deadLetter, type, keys)
    }
    public mutating func registerTransformer(
        _ type: String, keys: ComponentKeys = .undeclared, _ factory: @escaping Factory<any Transformer>
    ) {
        transformers[type] = factory
        declare(.transform, type, keys)
    }
    /// A kind of validation rule recognised by `key` (`{expr: ..., code: ...}` by `expr`).
    public mutating func registerValidationRule(
        key: String, keys: ComponentKeys = .undeclared, _ factory: @escaping Factory<any Validator>
    ) {
        validationRules[key] = factory
        declare(.validationRule, key, keys)
    }

    /// The encoder of part format `format` (`format: parquet` of the file and S3 loaders); its
    /// factory reads the options it needs (`compression`) from the loader's section.
    public mutating func registerPartEncoder(
        _ format: String, keys: ComponentKeys = .undeclared, _ factory: @escaping Factory<any PartEncoder>
    ) {
        partEncoders[format] = factory
        declare(.partEncoder, format, keys)
    }

    /// The decoder of format `format` read by range (`format: parquet` of the S3 extractor).
    public mutating func registerPartDecoder(_ format: String, _ decoder: any PartDecoder) {
        partDecoders[format] = decoder
    }

    /// Records `types` as known but not built in, so a spec naming one is told which trait to enable.
    public mutating func markUnavailable(_ types: [String], trait: String) {
        for t in types { unavailable[t] = trait }
    }

    /// The registered types of the sections other sections look at (`ComponentContext.peer`).
    var knownTypes: [String: Set<String>] {
        [
            "extract": Set(extractors.keys), "load": Set(loaders.keys), "checkpoint": Set(checkpointStores.keys),
            "dead_letter": Set(deadLetterQueues.keys),
        ]
    }

    /// Every type name registered, in any role.
    public var registeredTypes: Set<String> {
        Set(extractors.keys).union(loaders.keys).union(checkpointStores.keys).union(deadLetterQueues.keys)
            .union(transformers.keys)
    }

    /// Builds the component of `section` from `factories`, reporting an unknown or unavailable
    /// type, unknown keys, and errors the factory throws.
    func build<T>(
        _ factories: [String: Factory<T>], kind: Role, section: SpecSection, role: String, resources: SharedResources,
        pipeline: String, root: SpecSection
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
        // Declared keys are valid whether or not the factory gets to read them (it may return
        // early on an earlier problem): no false "unknown key" follows a real problem.
        section.declare(keys(kind, type))
        let context = ComponentContext(
            role: role, type: type, section: section, resources: resources, pipeline: pipeline, root: root,
            partEncoders: partEncoders, partDecoders: partDecoders, unavailable: unavailable, knownTypes: knownTypes)
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
