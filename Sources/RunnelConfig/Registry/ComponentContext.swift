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
        return PeerSection(type: section.peek("type").flatMap { quietString($0) }, section: section)
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
