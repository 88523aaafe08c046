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
        var rng = SeededGenerator(seed: 42)
        var kills = 0
        var attempts = 0
        // Kill at seeded random instants until 6 kills have landed. A run that finishes before its
        // kill has its checkpoint reset, so the next one reads (and reloads, idempotently) from the
        // start and can be interrupted again: the end state must still equal the reference.
        while kills < 6, attempts < 40 {
            attempts += 1
            let p = try CommandRunner.start(batchBinary, ["run", dir + "/pipeline.yaml"])
            // A random instant within a debug run's span (~1 s): early, mid-batch, mid-commit.
            usleep(UInt32(rng.next() % 900_000))
            p.kill(SIGKILL)
            let code = p.wait()
            if code == 0 {
                #expect(try CommandRunner.run(batchBinary, ["checkpoint", "reset", dir + "/pipeline.yaml"]).exitCode == 0)
                continue
            }
            #expect(code == 128 + SIGKILL)
            kills += 1
        }
        #expect(try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml"]).exitCode == 0)
        #expect(kills >= 6, "the test must actually interrupt runs")
        #expect(try dump(dir + "/out/quickstart.db", tableSQL) == expectedTable)
        #expect(try dump(dir + "/out/quickstart.db", lettersSQL) == expectedLetters)
        let final = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--summary-json"])
        #expect(try summary(final)["read"] as? Int == 0, "the checkpoint reached the end")
    }
}
