import Foundation
import RunnelFiles
import RunnelTesting
import Testing

/// A run killed between creating a part's temporary file and renaming it leaves the file; the
/// next run's loader removes it, and never a live writer's.
@Suite struct AtomicFileTests {
    @Test func abandonedTemporaryFilesAreRemovedAndLiveOnesKept() throws {
        let dir = try CommandRunner.temporaryDirectory()
        // A process that has exited: its pid names no process (until reused, which a test this
        // short does not meet).
        let gone = try CommandRunner.start("/bin/true", [])
        let deadPid = gone.process.processIdentifier
        _ = gone.wait()
        let own = ProcessInfo.processInfo.processIdentifier
        for name in [".tmp-\(deadPid)-part-a.parquet", ".tmp-\(own)-part-b.parquet", "part-c.parquet", ".tmp-x"] {
            FileManager.default.createFile(atPath: dir + "/" + name, contents: Data("x".utf8))
        }
        AtomicFile.removeAbandoned(in: dir)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(left == [".tmp-\(own)-part-b.parquet", ".tmp-x", "part-c.parquet"])
    }
}
