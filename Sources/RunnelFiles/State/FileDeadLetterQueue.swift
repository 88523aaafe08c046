public import RunnelCore

#if canImport(Glibc)
    import Glibc
#endif

/// Dead letters as a JSON Lines file per pipeline, one envelope per line. Writes merge by key and
/// replace the file atomically, so a replayed batch parks nothing twice.
public struct FileDeadLetterQueue: DeadLetterQueue {
    public let directory: String
    public init(directory: String) { self.directory = directory }

    public var target: String { "jsonl files in \(directory)" }

    private func file(_ pipeline: String) -> String { "\(directory)/\(pipeline).dead-letters.jsonl" }

    public func write(_ letters: [DeadLetter]) async throws {
        guard let pipeline = letters.first?.pipeline else { return }
        let all = DeadLetter.merging(letters, into: try await list(pipeline: pipeline, limit: nil))
        try save(all, pipeline: pipeline)
    }

    public func list(pipeline: String, limit: Int?) async throws -> [DeadLetter] {
        let path = file(pipeline)
        guard access(path, F_OK) == 0 else { return [] }
        guard let bytes = LocalFile.read(path) else { throw RunnelError.io("cannot read dead letters '\(path)'", errno: errno) }
        return try DeadLetter.envelopes(in: bytes, source: path, limit: limit)
    }

    public func remove(pipeline: String, keys: [String]) async throws {
        let drop = Set(keys)
        let kept = try await list(pipeline: pipeline, limit: nil).filter { !drop.contains($0.key) }
        try save(kept, pipeline: pipeline)
    }

    private func save(_ letters: [DeadLetter], pipeline: String) throws {
        try makeDirectories(directory)
        try AtomicFile.write(DeadLetter.envelopeLines(letters), to: file(pipeline))
    }
}


