public import RunnelCore
import Yams

/// What a component factory gets: its section of the spec, the pipeline's shared resources,
/// and a read-only look at the other sections (a checkpoint store that defaults to the
/// loader's database reads the loader's settings itself, whatever order sections are built in).
public struct ComponentContext {
    /// `extract`, `load`, `checkpoint`, `dead_letter`, `transform[2]`.
    public let role: String
    public let type: String
    public let section: SpecSection
    public let resources: SharedResources
    /// The pipeline's name, for components that key their state by it.
    public let pipeline: String
    let root: SpecSection
    /// The registry's part encoders and unavailable types, for `partEncoder(_:)`.
    var partEncoders: [String: ComponentRegistry.Factory<any PartEncoder>] = [:]
    var partDecoders: [String: any PartDecoder] = [:]
    var unavailable: [String: String] = [:]
    /// The registered types of each top-level section, so `peer` can tell a type that was
    /// already reported as unknown from one that is real.
    var knownTypes: [String: Set<String>] = [:]

    /// The encoder of part format `format` that a connector module registered (`parquet`),
    /// built from this section. Nil, with the problem recorded at `format`, when this binary was
    /// built without the module: the same "rebuild with the trait" message as an unavailable type.
    public func partEncoder(_ format: String) throws -> (any PartEncoder)? {
        guard let make = partEncoders[format] else {
            reportMissingFormat(format, "encoder")
            return nil
        }
        return try make(self)
    }

    /// The decoder of format `format` read by range that a connector module registered
    /// (`parquet`). Nil, with the problem recorded at `format`, when this binary lacks it.
    public func partDecoder(_ format: String) -> (any PartDecoder)? {
        guard let decoder = partDecoders[format] else {
            reportMissingFormat(format, "decoder")
            return nil
        }
        return decoder
    }

    /// The problem at `format` for a format this binary has no `what` (encoder, decoder) of: the
    /// trait to rebuild with when it was left out, as for an unavailable type.
    private func reportMissingFormat(_ format: String, _ what: String) {
        let node = section.peek("format") ?? section.node
        if let trait = unavailable[format] {
            node.problem(
                "format '\(format)' is not built into this binary; rebuild with the '\(trait)' trait "
                    + "(swift build --traits \(trait), or --enable-all-traits) or use the runnel image, which has every trait")
        } else {
            node.problem("format '\(format)' has no \(what) in this binary")
        }
    }

    /// Another top-level section (`load`, `checkpoint`, …) and its `type`, read silently: its
    /// problems are reported where that section is built, once, not again from here. Nil when
    /// the section is missing or not a mapping.
    public func peer(_ role: String) -> PeerSection? {
        guard let node = root.peek(role) else { return nil }
        let quiet = SpecSource(
            file: node.source.file, directory: node.source.directory, environment: node.source.environment,
            problems: SpecProblems())
        let silent = SpecNode(node: node.node, path: node.path, source: quiet)
        guard silent.node.mapping != nil, let section = SpecSection(silent, ignoring: ["type"]) else { return nil }
        let type = section.peek("type").flatMap { quietString($0) }
        // A peer whose type is unknown (or not built in) has its problem reported where it is
        // built; anything said about it from here ("the loader is sqlite3") would be a false
        // follow-on problem, so it is treated as missing.
        if let type, let known = knownTypes[role], !known.contains(type) { return nil }
        return PeerSection(type: type, section: section)
    }

    /// True when section `role` is there but its `type` is unknown to this binary: a problem
    /// already reported there, so settings this component would have taken from it are not
    /// reported missing here as well.
    public func peerTypeIsUnknown(_ role: String) -> Bool {
        guard let node = root.peek(role), case .mapping(let m) = node.node,
            let type = m.first(where: { $0.key.string == "type" })?.value.string
        else { return false }
        if let known = knownTypes[role] { return !known.contains(type) }
        return false
    }

    private func quietString(_ node: SpecNode) -> String? {
        guard node.node.scalar != nil else { return nil }
        return node.string
    }
}

/// A sibling section seen from another component's factory.
public struct PeerSection {
    /// The section's `type`, nil when it is missing or cannot be read.
    public let type: String?
    /// Reads on it record nothing: problems there are reported by that section's own build.
    public let section: SpecSection
}
