public import RunnelCore
public import Yams

/// What every node of one spec file shares: where it came from and how to expand it.
public struct SpecSource: Sendable {
    /// The spec file as the user named it (used in messages).
    public var file: String
    /// The folder relative paths in the spec resolve against.
    public var directory: String
    public var environment: Environment
    public var problems: SpecProblems

    public init(file: String, directory: String, environment: Environment, problems: SpecProblems) {
        self.file = file
        self.directory = directory
        self.environment = environment
        self.problems = problems
    }
}

/// A node of the spec with its key path, so every problem can say where it is.
public struct SpecNode {
    public let node: Node
    public let path: String
    public let source: SpecSource

    public init(node: Node, path: String, source: SpecSource) {
        self.node = node
        self.path = path
        self.source = source
    }

    /// Records a problem at this node.
    public func problem(_ message: String) {
        source.problems.add(
            SpecProblem(file: source.file, line: node.mark?.line, column: node.mark?.column, path: path, message: message))
    }

    /// Records a problem at a position inside this scalar's text (line and column 1-based, within
    /// the text), located in the file: the scalar's own position, moved past the opening quote of a
    /// quoted scalar, or to the lines below a block scalar (`|`, `>`), whose content is indented by
    /// `blockIndent` (the YAML default for a key's value is the key's column + 2).
    public func problem(_ message: String, textLine: Int, textColumn: Int) {
        guard let mark = node.mark, case .scalar(let scalar) = node else {
            problem(message)
            return
        }
        var line = mark.line + textLine - 1
        var column = textLine == 1 ? mark.column + textColumn - 1 : textColumn
        switch scalar.style {
        case .singleQuoted, .doubleQuoted:
            if textLine == 1 { column += 1 }
        case .literal, .folded:
            // The text starts on the line after the indicator, indented under the parent key.
            line = mark.line + textLine
            column = textColumn + blockIndent
        default: break
        }
        source.problems.add(SpecProblem(file: source.file, line: line, column: column, path: path, message: message))
    }

    /// Indentation of a block scalar's content, guessed from the key path depth (2 spaces a level).
    private var blockIndent: Int { 2 * (path.split(separator: ".").count + path.filter { $0 == "[" }.count) }

    func child(_ node: Node, key: String) -> SpecNode {
        SpecNode(node: node, path: path.isEmpty ? key : "\(path).\(key)", source: source)
    }

    func element(_ node: Node, index: Int) -> SpecNode {
        SpecNode(node: node, path: "\(path)[\(index)]", source: source)
    }

    /// The mapping's entries in order, or nil (with a problem) when this is not a mapping.
    public var entries: [(key: String, value: SpecNode)]? {
        guard case .mapping(let m) = node else {
            problem("expected a mapping of keys to values, found \(kind)")
            return nil
        }
        return m.compactMap { k, v in k.string.map { ($0, child(v, key: $0)) } }
    }

    /// The sequence's elements, or nil (with a problem) when this is not a sequence.
    public var elements: [SpecNode]? {
        guard case .sequence(let s) = node else {
            problem("expected a list, found \(kind)")
            return nil
        }
        return s.enumerated().map { element($1, index: $0) }
    }

    var kind: String {
        switch node {
        case .scalar(let s): s.string.isEmpty ? "an empty value" : "'\(s.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// The scalar's text with `${VAR}` expanded, or nil (with a problem).
    public var string: String? {
        guard case .scalar(let s) = node else {
            problem("expected a single value, found \(kind)")
            return nil
        }
        do { return try source.environment.expand(s.string) } catch {
            problem(error.message)
            return nil
        }
    }

    public var int: Int? {
        guard let s = string else { return nil }
        guard let i = Int(s.filter { $0 != "_" }) else {
            problem("expected a whole number, found '\(s)'")
            return nil
        }
        return i
    }

    public var double: Double? {
        guard let s = string else { return nil }
        guard let d = Double(s), d.isFinite else {
            problem("expected a number, found '\(s)'")
            return nil
        }
        return d
    }

    public var bool: Bool? {
        guard let s = string else { return nil }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            problem("expected true or false, found '\(s)'")
            return nil
        }
    }

    /// `250ms`, `10s`, `5m`, `1h`, or a number of seconds.
    public var duration: Duration? {
        guard let s = string else { return nil }
        if let d = Duration(text: s) { return d }
        problem("expected a duration such as 250ms, 10s, 5m or 1h, found '\(s)'")
        return nil
    }

    /// `8MiB`, `512KiB`, `1MB`, or a number of bytes.
    public var bytes: Int? {
        guard let s = string?.trimmingWhitespace() else { return nil }
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1),
        ]
        for (suffix, scale) in units where s.hasSuffix(suffix) {
            if let v = Double(String(s.dropLast(suffix.count)).trimmingWhitespace()), v > 0 { return Int(v * Double(scale)) }
        }
        if let v = Int(s), v > 0 { return v }
        problem("expected a size such as 8MiB, 512KiB or 1000000, found '\(s)'")
        return nil
    }

    /// A list of strings; a single string is taken as a list of one.
    public var strings: [String]? {
        if case .scalar = node { return string.map { [$0] } }
        guard let elements else { return nil }
        let values = elements.compactMap(\.string)
        return values.count == elements.count ? values : nil
    }

    /// The node as a `Value`: YAML's plain scalars keep their types (`12` is an int, `true` a bool,
    /// `~` null); quoted scalars are strings; lists and mappings become arrays and objects.
    public var value: Value? {
        switch node {
        case .scalar(let s):
            guard let text = string else { return nil }
            if s.style != .plain { return .string(text) }
            if text != s.string { return .string(text) }  // expanded from the environment: text
            switch node.tag.description {
            case Tag.Name.int.rawValue: return node.int.map { .int(Int64($0)) } ?? .string(text)
            case Tag.Name.float.rawValue: return node.float.map(Value.double) ?? .string(text)
            case Tag.Name.bool.rawValue: return node.bool.map(Value.bool) ?? .string(text)
            case Tag.Name.null.rawValue: return .null
            default: return .string(text)
            }
        case .sequence:
            guard let elements else { return nil }
            let values = elements.compactMap(\.value)
            return values.count == elements.count ? .array(values) : nil
        case .mapping:
            guard let entries else { return nil }
            var o = Object()
            for (k, v) in entries { if let value = v.value { o.set(k, value) } }
            return .object(o)
        case .alias:
            problem("aliases are not supported")
            return nil
        }
    }
}

/// A mapping whose keys are read one by one; keys never read are reported as unknown, with the
/// valid choices.
public final class SpecSection {
    public let node: SpecNode
    private let map: [(key: String, value: SpecNode)]
    private var known: [String] = []
    /// Keys handled outside the section (`type`).
    private var ignored: Set<String>
    /// The declared keys, when the component declared any: then they, not the reads, decide
    /// what is unknown.
    private var declared: [String]?

    public init?(_ node: SpecNode, ignoring: Set<String> = []) {
        guard let entries = node.entries else { return nil }
        self.node = node
        self.map = entries
        self.ignored = ignoring
    }

    public var path: String { node.path }
    public var source: SpecSource { node.source }

    /// Declares the section's keys (a component's `ComponentKeys`, a pipeline section's): a
    /// declared key is never unknown, even when nothing reads it.
    public func declare(_ keys: ComponentKeys) {
        guard keys.isDeclared else { return }
        declared = keys.names
    }

    /// The node under `key`, recording `key` as valid. A missing required key is a problem.
    public func node(_ key: String, required: Bool = false) -> SpecNode? {
        if !known.contains(key) { known.append(key) }
        if let declared, !declared.contains(key), !ignored.contains(key) {
            source.problems.addUndeclaredRead(path.isEmpty ? key : "\(path).\(key)")
        }
        if let v = map.first(where: { $0.key == key })?.value { return v }
        if required { node.problem("missing required key '\(key)'") }
        return nil
    }

    public func has(_ key: String) -> Bool { map.contains { $0.key == key } }

    /// The node under `key` without recording it as read (for looking at another section).
    public func peek(_ key: String) -> SpecNode? { map.first(where: { $0.key == key })?.value }

    /// A whole number under `key` within `range`, with a problem naming the range otherwise.
    public func int(_ key: String, in range: ClosedRange<Int>, required: Bool = false) -> Int? {
        guard let n = node(key, required: required), let v = n.int else { return nil }
        guard range.contains(v) else {
            if range.upperBound == Int.max {
                n.problem("must be at least \(range.lowerBound)")
            } else {
                n.problem("must be \(range.lowerBound) to \(range.upperBound)")
            }
            return nil
        }
        return v
    }

    public func string(_ key: String, required: Bool = false) -> String? { node(key, required: required)?.string }
    public func int(_ key: String, required: Bool = false) -> Int? { node(key, required: required)?.int }
    public func double(_ key: String, required: Bool = false) -> Double? { node(key, required: required)?.double }
    public func bool(_ key: String) -> Bool? { node(key)?.bool }
    public func duration(_ key: String) -> Duration? { node(key)?.duration }
    public func bytes(_ key: String) -> Int? { node(key)?.bytes }
    public func strings(_ key: String, required: Bool = false) -> [String]? { node(key, required: required)?.strings }

    /// A string that must be one of `choices`.
    public func choice(_ key: String, _ choices: [String], required: Bool = false) -> String? {
        guard let n = node(key, required: required), let s = n.string else { return nil }
        guard choices.contains(s) else {
            n.problem("'\(s)' is not one of \(choices.joined(separator: ", "))")
            return nil
        }
        return s
    }

    /// A path resolved against the spec file's folder (absolute paths stay as they are).
    public func path(_ key: String, required: Bool = false) -> String? {
        string(key, required: required).map { resolve($0) }
    }

    public func resolve(_ p: String) -> String {
        if p.hasPrefix("/") || source.directory.isEmpty || source.directory == "." { return p }
        return source.directory + "/" + p
    }

    /// Reports keys that were never read as unknown, naming the valid ones. Call once, after all reads.
    /// With declared keys, those (and the ignored ones) are the valid keys.
    public func finish(_ what: String) {
        let valid: [String]
        if let declared {
            valid = ignored.sorted().filter { $0 == "type" } + declared + ignored.sorted().filter { $0 != "type" && !declared.contains($0) }
        } else {
            valid = known
        }
        for (key, value) in map where !valid.contains(key) && !ignored.contains(key) {
            var message = "unknown key '\(key)' in \(what)"
            if let s = suggestion(for: key, in: valid) { message += " (did you mean '\(s)'?)" }
            message += "; valid keys: \(valid.joined(separator: ", "))"
            source.problems.add(
                SpecProblem(
                    file: source.file, line: value.node.mark?.line, column: value.node.mark?.column,
                    path: path.isEmpty ? key : "\(path).\(key)", message: message))
        }
    }
}
