#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The memory limit of the container the process runs in, read from its cgroup: `memory.max`
/// (cgroup v2) or `memory.limit_in_bytes` (v1), the smallest along the path from the process's
/// cgroup up to the hierarchy's root, since every ancestor's limit applies.
///
/// Inside a container the cgroup file system is usually mounted at the container's own cgroup,
/// while `/proc/self/cgroup` names the full path from the host's root; so the path is tried whole
/// and then without its leading parts until it names a folder under the mount (as the JVM and
/// Go's automaxprocs do).
public struct ContainerMemoryLimit: Sendable, Hashable {
    public let bytes: Int
    /// `cgroup v2` or `cgroup v1`.
    public let source: String

    public init(bytes: Int, source: String) {
        self.bytes = bytes
        self.source = source
    }

    /// This process's limit, nil when there is none.
    public static func current() -> ContainerMemoryLimit? {
        guard let text = readText("/proc/self/cgroup") else { return nil }
        return read(procCgroup: text, root: "/sys/fs/cgroup")
    }

    /// The limit for a process whose `/proc/self/cgroup` reads `procCgroup`, with the cgroup file
    /// systems mounted under `root` (v2 at `root` or `root/unified`, v1's memory controller at
    /// `root/memory`).
    public static func read(procCgroup: String, root: String) -> ContainerMemoryLimit? {
        var found: [ContainerMemoryLimit] = []
        for line in procCgroup.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let path = String(parts[2])
            if parts[0] == "0", parts[1].isEmpty {
                for mount in [root, root + "/unified"] where exists(mount + "/cgroup.controllers") {
                    if let b = smallest(mount: mount, path: path, file: "memory.max") {
                        found.append(.init(bytes: b, source: "cgroup v2"))
                    }
                }
            } else if parts[1].split(separator: ",").contains("memory") {
                if let b = smallest(mount: root + "/memory", path: path, file: "memory.limit_in_bytes") {
                    found.append(.init(bytes: b, source: "cgroup v1"))
                }
            }
        }
        return found.min { $0.bytes < $1.bytes }
    }

    /// The smallest limit from the process's folder up to the mount; nil when none is set.
    private static func smallest(mount: String, path: String, file: String) -> Int? {
        var components = path.split(separator: "/").map(String.init)
        // The longest tail of the path that exists under the mount is the process's folder.
        while !components.isEmpty, !exists(mount + "/" + components.joined(separator: "/")) {
            components.removeFirst()
        }
        var best: Int?
        while true {
            let dir = ([mount] + components).joined(separator: "/")
            if let text = readText(dir + "/" + file), let n = limitValue(text) { best = min(best ?? n, n) }
            if components.isEmpty { break }
            components.removeLast()
        }
        return best
    }

    /// `max` and v1's "unlimited" (a page-rounded 2⁶³−1) are no limit.
    private static func limitValue(_ text: String) -> Int? {
        let t = text.trimmed(of: " \n")
        guard t != "max", let n = Int(t), n > 0, n < 1 << 62 else { return nil }
        return n
    }

    private static func readText(_ path: String) -> String? {
        LocalFile.read(path, limit: 1 << 20).map { String(decoding: $0, as: UTF8.self) }
    }

    private static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

}

extension String {
    fileprivate func trimmed(of set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
