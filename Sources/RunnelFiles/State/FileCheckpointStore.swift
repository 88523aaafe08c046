public import RunnelCore

#if canImport(Glibc)
    import Glibc
#endif

/// Checkpoints as small JSON files, one per pipeline, replaced atomically.
public struct FileCheckpointStore: CheckpointStore {
    public let directory: String
    public init(directory: String) { self.directory = directory }

    /// An `flock` on `<pipeline>.<scope>.<hash>.lock` in the checkpoint folder, held for the run
    /// (see `FileLease`).
    public var lease: (any RunLease)? { FileLease(directory: directory) }

    private func file(_ pipeline: String) -> String { "\(directory)/\(pipeline).checkpoint" }

    public func load(pipeline: String) async throws -> Checkpoint? {
        let path = file(pipeline)
        guard access(path, F_OK) == 0 else { return nil }
        guard let bytes = readWholeFile(path) else {
            throw RunnelError.io("checkpoint file '\(path)' exists but cannot be read; fix it or run `checkpoint reset`", errno: errno)
        }
        return Checkpoint(String(decoding: bytes, as: UTF8.self))
    }

    public func save(_ checkpoint: Checkpoint, pipeline: String) async throws {
        try makeDirectories(directory)
        try AtomicFile.write(Array(checkpoint.position.utf8), to: file(pipeline))
    }

    public func reset(pipeline: String) async throws {
        if unlink(file(pipeline)) != 0 && errno != ENOENT {
            throw RunnelError.io("cannot remove '\(file(pipeline))'", errno: errno)
        }
    }
}
