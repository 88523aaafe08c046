import Foundation
import RunnelTesting
import Testing

/// JSON Lines → local Parquet parts with the built `runnel-batch`, SIGKILLed at random instants and
/// restarted: the part files end byte for byte as an uninterrupted run leaves them (a replayed
/// batch rewrites its part under the same name, atomically), so the rows read back are the same.
@Suite struct ParquetCrashTests {
    static let batch = CommandRunner.binary("runnel-batch")

    static func setUp() throws -> String {
        let dir = try CommandRunner.temporaryDirectory("runnel-parquet-crash")
        var lines = ""
        for i in 0..<30_000 {
            let note = i % 11 == 0 ? "null" : "\"note \(i) ü\""
            lines += "{\"id\": \(i), \"amount\": \(Double(i) / 8), \"note\": \(note), \"at\": \"2024-01-01T00:00:\(String(format: "%02d", i % 60))Z\"}\n"
        }
        try lines.write(toFile: dir + "/in.jsonl", atomically: true, encoding: .utf8)
        try """
        pipeline: parquet-crash
        extract: {type: jsonl, path: \(dir)/in.jsonl}
        transform:
          - {type: cast, fields: {at: timestamp}}
        load: {type: parquet, path: \(dir)/out, compression: zstd, row_group_size: 500}
        checkpoint: {type: file, path: \(dir)/state}
        dead_letter: {type: jsonl, path: \(dir)/state}
        batching: {max_records: 1500}
        """.write(toFile: dir + "/pipeline.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    static func parts(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir + "/out") where name.hasSuffix(".parquet") {
            out[name] = try Data(contentsOf: URL(fileURLWithPath: dir + "/out/" + name))
        }
        return out
    }

    @Test func sigkillLeavesTheSamePartFilesAsAnUninterruptedRun() throws {
        let reference = try Self.setUp()
        let ref = try CommandRunner.run(Self.batch, ["run", reference + "/pipeline.yaml", "--no-progress"])
        #expect(ref.exitCode == 0, "\(ref.stderr)")
        let expected = try Self.parts(reference)
        #expect(expected.count == 20)

        let dir = try Self.setUp()
        var rng = SeededGenerator(seed: 7)
        var kills = 0
        var attempts = 0
        while kills < 6, attempts < 40 {
            attempts += 1
            let p = try CommandRunner.start(Self.batch, ["run", dir + "/pipeline.yaml", "--no-progress"])
            usleep(UInt32(50_000 + rng.next() % 900_000))
            p.kill(SIGKILL)
            if p.wait() == 0 {
                #expect(try CommandRunner.run(Self.batch, ["checkpoint", "reset", dir + "/pipeline.yaml"]).exitCode == 0)
                continue
            }
            kills += 1
        }
        let last = try CommandRunner.run(Self.batch, ["run", dir + "/pipeline.yaml", "--no-progress"])
        #expect(last.exitCode == 0, "\(last.stderr)")
        #expect(kills >= 6, "the test must actually interrupt runs")
        let got = try Self.parts(dir)
        #expect(got.keys.sorted() == expected.keys.sorted())
        #expect(got == expected, "a part differs from the uninterrupted run's")
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/out").allSatisfy { $0.hasSuffix(".parquet") })
    }
}
