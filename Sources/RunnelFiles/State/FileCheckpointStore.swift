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

    /// A part's key holds a '/' (`orders#topic/3`): it is written `%2F` (and '%' `%25`), so that
    /// every checkpoint is one file in the folder.
    private func file(_ key: String) -> String {
        "\(directory)/\(key.replacingAll("%", with: "%25").replacingAll("/", with: "%2F")).checkpoint"
    }

    public func load(pipeline: String) async throws -> Checkpoint? {
        let path = file(pipeline)
        guard access(path, F_OK) == 0 else { return nil }
        guard let bytes = LocalFile.read(path) else {
            throw RunnelError.io("checkpoint file '\(path)' exists but cannot be read; fix it or run `checkpoint reset`", errno: errno)
        }
        return Checkpoint(String(decoding: bytes, as: UTF8.self))
    }

    public func save(_ checkpoint: Checkpoint, pipeline: String) async throws {
        try makeDirectories(directory)
        try AtomicFile.write(Array(checkpoint.position.utf8), to: file(pipeline))
    }

    public func reset(pipeline: String) async throws {
        var paths = [file(pipeline)]
        let parts = CheckpointCommit.key(pipeline: pipeline, part: "")
        if let dir = opendir(directory) {
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name.hasPrefix(parts), name.hasSuffix(".checkpoint") { paths.append(directory + "/" + name) }
            }
        }
        for path in paths where unlink(path) != 0 && errno != ENOENT {
            throw RunnelError.io("cannot remove '\(path)'", errno: errno)
        }
    }
}

extension String {
    /// Every occurrence of `target` replaced (the standard library has no such method without Foundation).
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
