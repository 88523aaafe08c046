import Foundation
import RunnelCore
import RunnelTesting
import Testing

/// Two runs of one spec started at once (a CronJob's Job started twice): exactly one does the
/// work, the other exits 4 naming the holder; a SIGKILLed holder is taken over at once.
@Suite struct EmbeddedLeaseTests {
    /// A spec over `rows` CSV rows with the checkpoint in `checkpoint`.
    private func pipeline(rows: Int, checkpoint: String) throws -> String {
        let dir = try CommandRunner.temporaryDirectory("runnel-lease")
        var text = "id,name\n"
        for i in 0..<rows { text += "\(i),name-\(i)\n" }
        try write(text, to: dir + "/input.csv")
        try write(
            """
            pipeline: leased
            extract: {type: csv, path: input.csv}
            load: {type: sqlite, path: out.db, table: t, key: [id]}
            checkpoint: \(checkpoint)
            dead_letter: {type: sqlite}
            batching: {max_records: 2000}
            """, to: dir + "/pipeline.yaml")
        return dir
    }

    private func checkpointRead(_ dir: String) throws -> CommandRunner.Output {
        try CommandRunner.run(batchBinary, ["checkpoint", "show", dir + "/pipeline.yaml"])
    }

    @Test(arguments: ["{type: sqlite}", "{type: file, path: state}"])
    func concurrentStartsLetExactlyOneRunWork(checkpoint: String) throws {
        let rows = 200_000
        let dir = try pipeline(rows: rows, checkpoint: checkpoint)
        // Both at once, each drained by its own thread (CommandRunner.run reads both pipes).
        let results = Locked<[CommandRunner.Output]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            if let out = try? CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--summary-json"]) {
                results.withLock { $0.append(out) }
            }
        }
        let outputs = results.value
        #expect(outputs.map(\.exitCode).sorted() == [0, 4], "\(outputs.map(\.stdout))")
        if let loser = outputs.first(where: { $0.exitCode == 4 }), let winner = outputs.first(where: { $0.exitCode == 0 }) {
            let error = try summary(loser)["error"] as? String ?? ""
            #expect(error.contains("another run holds the lease of pipeline 'leased' (incremental): pid "), "\(error)")
            #expect(error.range(of: #"pid [0-9]+ on [^ ]+ since "#, options: .regularExpression) != nil, "names the holder: \(error)")
            #expect(try summary(loser)["read"] as? Int == 0, "the turned-away run read nothing")
            #expect(try summary(winner)["loaded"] as? Int == rows)
        }
        #expect(try dump(dir + "/out.db", "SELECT count(*), count(DISTINCT id), max(CAST(id AS INTEGER)) FROM t") == [["\(rows)", "\(rows)", "\(rows - 1)"]])
        #expect(try checkpointRead(dir).stdout.contains("input.csv"))
        let again = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--summary-json"])
        let againRead = try summary(again)["read"] as? Int
        #expect(again.exitCode == 0 && againRead == 0, "the checkpoint is at the end")
    }

    @Test(arguments: ["{type: sqlite}", "{type: file, path: state}"])
    func aKilledHolderIsTakenOverAtOnce(checkpoint: String) throws {
        let rows = 300_000
        let dir = try pipeline(rows: rows, checkpoint: checkpoint)
        let holder = try CommandRunner.start(batchBinary, ["run", dir + "/pipeline.yaml"])
        // Kill it once it has committed a batch (a checkpoint exists), not at an arbitrary time.
        let deadline = Date().addingTimeInterval(60)
        var committed = ""
        while Date() < deadline {
            let shown = try checkpointRead(dir).stdout
            if shown.contains("input.csv") {
                committed = shown
                break
            }
        }
        holder.kill(SIGKILL)
        #expect(holder.wait() == 128 + SIGKILL)
        #expect(!committed.isEmpty, "the holder committed a batch before the kill")
        let next = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--summary-json"])
        #expect(next.exitCode == 0, "the lease of a dead holder is free: \(next.stdout) \(next.stderr)")
        let read = try summary(next)["read"] as? Int ?? -1
        #expect(read > 0 && read < rows, "resumed from the holder's checkpoint, which did not move backwards")
        #expect(try dump(dir + "/out.db", "SELECT count(*), count(DISTINCT id) FROM t") == [["\(rows)", "\(rows)"]])
    }
}
