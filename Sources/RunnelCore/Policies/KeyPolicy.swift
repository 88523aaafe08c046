/// What a run does with a record whose key an earlier record of the same run already had
/// (`key_policy` in the spec). Across runs, the loader's upsert (and version guard) decides.
public struct KeyPolicy: Sendable, Hashable, CustomStringConvertible {
    private enum Base: String, Sendable, Hashable {
        case lastWins = "last_wins", firstWins = "first_wins", reject
    }
    private let base: Base
    private init(_ base: Base) { self.base = base }

    /// Every record is written; the later one overwrites (subject to the version guard). The
    /// earlier ones are counted as superseded. The default.
    public static let lastWins = KeyPolicy(.lastWins)
    /// The first record of a key is written; later ones are left out and counted as superseded.
    public static let firstWins = KeyPolicy(.firstWins)
    /// A later record of a key is rejected with code `duplicate_key` (to the dead letter queue).
    public static let reject = KeyPolicy(.reject)

    /// The policy a spec names (`last_wins`, `first_wins`, `reject`), or nil.
    public init?(name: String) {
        guard let base = Base(rawValue: name) else { return nil }
        self.base = base
    }

    public static let names = ["last_wins", "first_wins", "reject"]

    public var description: String { base.rawValue }
}
