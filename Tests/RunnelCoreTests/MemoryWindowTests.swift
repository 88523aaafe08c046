import Foundation
import RunnelCore
import Testing

/// Reading the container's memory limit from cgroup files laid out as a kernel would, and the
/// window derived from it.
@Suite struct ContainerMemoryLimitTests {
    private func tree(_ files: [String: String]) throws -> String {
        let root = NSTemporaryDirectory() + "runnel-cgroup-" + UUID().uuidString
        for (path, text) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        return root
    }

    @Test func cgroupV2TakesTheSmallestLimitFromTheProcessUpToTheRoot() throws {
        let root = try tree([
            "cgroup.controllers": "cpu memory\n",
            "kubepods/memory.max": "max\n",
            "kubepods/pod1/memory.max": "268435456\n",
            "kubepods/pod1/app/memory.max": "max\n",
        ])
        let limit = ContainerMemoryLimit.read(procCgroup: "0::/kubepods/pod1/app\n", root: root)
        #expect(limit == ContainerMemoryLimit(bytes: 256 << 20, source: "cgroup v2"))
    }

    @Test func aContainerMountedAtItsOwnCgroupIsFoundFromTheHostPath() throws {
        // v1, as Docker and this project's CI machine mount it: /sys/fs/cgroup/memory is the
        // container's own cgroup, while /proc/self/cgroup names the path from the host's root.
        let root = try tree([
            "memory/memory.limit_in_bytes": "9223372036854771712\n",
            "memory/job/memory.limit_in_bytes": "134217728\n",
        ])
        let proc = "12:pids:/docker/abc\n4:memory:/docker/abc/job\n0::/\n"
        #expect(ContainerMemoryLimit.read(procCgroup: proc, root: root) == ContainerMemoryLimit(bytes: 128 << 20, source: "cgroup v1"))
    }

    @Test func noLimitAnywhereIsNone() throws {
        let root = try tree(["cgroup.controllers": "memory\n", "a/memory.max": "max\n", "memory/memory.limit_in_bytes": "9223372036854771712\n"])
        #expect(ContainerMemoryLimit.read(procCgroup: "0::/a\n4:memory:/\n", root: root) == nil)
        #expect(ContainerMemoryLimit.read(procCgroup: "", root: root) == nil)
    }

    @Test func theWindowIsAShareOfTheLimitOrTheSpecsOwnNumber() {
        let limited = MemoryWindow(policy: .init(), limit: .init(bytes: 128 << 20, source: "cgroup v2"))
        #expect(limited.bytes == 64 << 20 && limited.batchBytes == 16 << 20 && limited.recordBytes == 8 << 20)
        #expect(limited.keyBytes == 4 << 20 && limited.cacheBytes == 8 << 20)
        #expect(limited.description == "64 MiB (50% of the cgroup v2 limit, 128 MiB)")
        let fixed = MemoryWindow(policy: .init(maxBytes: 32 << 20), limit: .init(bytes: 1 << 30, source: "cgroup v2"))
        #expect(fixed.bytes == 32 << 20 && fixed.description == "32 MiB (memory.max_bytes)")
        let none = MemoryWindow(policy: .init(maxFraction: 0.25), limit: nil)
        #expect(none.bytes == MemoryWindow.unboundedDefault && none.limit == nil)
    }
}
