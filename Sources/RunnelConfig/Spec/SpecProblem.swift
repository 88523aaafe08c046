public import RunnelCore
import Synchronization

/// One thing wrong with a spec, located as `file:line:column` with the key path.
public struct SpecProblem: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    /// The key path, e.g. `load.table` or `transform[2].fields.amount`.
    public var path: String
    public var message: String

    public var description: String {
        var where_ = file
        if let line { where_ += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        return path.isEmpty ? "\(where_): \(message)" : "\(where_): \(path): \(message)"
    }
}

/// Collects every problem in a spec, so `validate` can list them all at once.
public final class SpecProblems: Sendable {
    private let list = Mutex<[SpecProblem]>([])
    public init() {}

    /// Adds `p`, unless the same message was already given at the same place: a node that two
    /// sections share (a YAML alias, `connection: *db`) is reported once, not once per section.
    public func add(_ p: SpecProblem) {
        list.withLock { list in
            let again = p.line != nil && list.contains { $0.line == p.line && $0.column == p.column && $0.message == p.message }
            if !again { list.append(p) }
        }
    }
    public var all: [SpecProblem] { list.withLock { $0 } }
    public var isEmpty: Bool { list.withLock { $0.isEmpty } }

    private let undeclared = Mutex<[String]>([])
    /// Keys a component read that its declaration does not list (`load.tabel` read by a
    /// factory that declared `table`): a bug in the component, not in the spec. Not a problem
    /// for the user; the shipped-spec tests check that it stays empty.
    public var undeclaredReads: [String] { undeclared.withLock { $0 } }
    func addUndeclaredRead(_ path: String) { undeclared.withLock { if !$0.contains(path) { $0.append(path) } } }

    /// A config error listing every problem, or nil when there are none.
    public var error: RunnelError? {
        let all = self.all
        guard !all.isEmpty else { return nil }
        let noun = all.count == 1 ? "problem" : "problems"
        return RunnelError(.config, "spec has \(all.count) \(noun):\n" + all.map { "  " + $0.description }.joined(separator: "\n"))
    }
}

/// The closest of `choices` to `word`, when it is close enough to be a likely typo.
func suggestion(for word: String, in choices: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var prev = row[0]
            row[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[b.count]
    }
    let w = Array(word)
    let best = choices.map { ($0, distance(w, Array($0))) }.min { $0.1 < $1.1 }
    guard let best, best.1 <= max(2, word.count / 3) else { return nil }
    return best.0
}
