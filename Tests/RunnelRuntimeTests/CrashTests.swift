import Foundation
import RunnelTesting
import Testing

/// Kill the batch job at random instants and restart it: the target and the dead letters must
/// end exactly as an uninterrupted run leaves them.
@Suite struct CrashTests {
    @Test func sigkillAtRandomInstantsLosesAndDoublesNothing() throws {
        let reference = try quickstartCopy(maxRecords: 400)
        #expect(try CommandRunner.run(batchBinary, ["run", reference + "/pipeline.yaml"]).exitCode == 0)
        let tableSQL = "SELECT * FROM orders ORDER BY order_id"
        // Keys name the input file by path; the two copies live in different folders.
        let lettersSQL = "SELECT substr(key, instr(key, 'data/')) AS k, stage, error_code, attempts, raw, record FROM runnel_dead_letters ORDER BY k"
        let expectedTable = try dump(reference + "/out/quickstart.db", tableSQL)
        let expectedLetters = try dump(reference + "/out/quickstart.db", lettersSQL)

        let dir = try quickstartCopy(maxRecords: 400)
        var rng = SplitMix(seed: 42)
        var kills = 0
        var finished = false
        for _ in 0..<12 {
            let p = try CommandRunner.start(batchBinary, ["run", dir + "/pipeline.yaml"])
            // A random instant within a debug run's span (~1 s): early, mid-batch, mid-commit.
            usleep(UInt32(rng.next() % 900_000))
            p.kill(SIGKILL)
            let code = p.wait()
            if code == 0 {
                finished = true
                break
            }
            #expect(code == 128 + SIGKILL)
            kills += 1
        }
        if !finished {
            #expect(try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml"]).exitCode == 0)
        }
        #expect(kills >= 3, "the test must actually interrupt runs")
        #expect(try dump(dir + "/out/quickstart.db", tableSQL) == expectedTable)
        #expect(try dump(dir + "/out/quickstart.db", lettersSQL) == expectedLetters)
        let final = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--summary-json"])
        #expect(try summary(final)["read"] as? Int == 0, "the checkpoint reached the end")
    }
}

/// A small seeded generator, so a failing kill schedule can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt32 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt32(truncatingIfNeeded: z ^ (z >> 31))
    }
}
