#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A run lease held as an exclusive `flock` on a lock file, for the stores that live in local
/// files (SQLite, the file checkpoint store).
///
/// The kernel drops the lock when its holder's file descriptor closes — also when the process is
/// killed (SIGKILL, the OOM killer) — so a dead holder never blocks the next run: there is no
/// expiry to wait for and no renewal to keep up. The holder writes who it is (pid, host, start
/// time) into the file so that the run that is turned away can say who holds it.
public struct FileLease: RunLease {
    /// The folder the lock files go in; created if missing.
    public let directory: String
    /// Lock files are named `<prefix><pipeline>.<scope>.lock`.
    public let prefix: String

    public init(directory: String, prefix: String = "") {
        self.directory = directory
        self.prefix = prefix
    }

    /// The lock file of a pipeline and scope: the scope (`incremental`, or a window and shard) made
    /// safe for a file name, plus a hash of it so that two scopes never share a file.
    public func path(pipeline: String, scope: String) -> String {
        let safe = String(scope.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(80))
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable across processes, unlike Hasher
        for b in scope.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        return "\(directory)/\(prefix)\(pipeline).\(safe).\(String(hash, radix: 16)).lock"
    }

    public func acquire(pipeline: String, scope: String) async throws -> any LeaseHandle {
        try FileLease.makeDirectories(directory)
        let file = path(pipeline: pipeline, scope: scope)
        let fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RunnelError.io("cannot open the lease file '\(file)'", errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            // The holder writes who it is right after it locks: a run that lost the race by
            // microseconds finds the file empty, so it looks again for a moment before it
            // names "a run that is starting".
            var holder = Self.readHolder(fd)
            for _ in 0..<40 where holder.isEmpty && code == EWOULDBLOCK {
                try? await Task.sleep(for: .milliseconds(5))
                holder = Self.readHolder(fd)
            }
            close(fd)
            guard code == EWOULDBLOCK else { throw RunnelError.io("cannot lock the lease file '\(file)'", errno: code) }
            throw RunnelError(
                .leaseHeld,
                "another run holds the lease of pipeline '\(pipeline)' (\(scope)): \(holder.isEmpty ? "a run that is starting" : holder) "
                    + "(lock file \(file)); nothing was read or written")
        }
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let holder = "pid \(getpid()) on \(String(cString: host)) since \(Timestamp.now.iso8601)"
        ftruncate(fd, 0)
        _ = holder.withCString { pwrite(fd, $0, strlen($0), 0) }
        return Handle(fd: fd)
    }

    private static func readHolder(_ fd: Int32) -> String {
        var bytes = [UInt8](repeating: 0, count: 512)
        let n = pread(fd, &bytes, bytes.count, 0)
        return n > 0 ? String(decoding: bytes[0..<n], as: UTF8.self) : ""
    }

    static func makeDirectories(_ dir: String) throws(RunnelError) {
        var current = dir.hasPrefix("/") ? "" : "."
        for part in dir.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw RunnelError.io("cannot create directory '\(current)'", errno: errno)
            }
        }
    }

    /// Closing the descriptor releases the lock. The file stays: removing it would race with a
    /// run that has it open and is about to lock it (it would lock a file no one else sees).
    struct Handle: LeaseHandle {
        let fd: Int32
        func release() async { close(fd) }
    }
}
