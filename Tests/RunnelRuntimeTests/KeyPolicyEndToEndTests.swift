import Foundation
import RunnelTesting
import Testing

/// `key_policy` as a user meets it: the summary, `--summary-json`, the table and the dead letters.
@Suite struct KeyPolicyEndToEndTests {
    private func runCarriers(_ loadExtra: String) throws -> (CommandRunner.Output, CommandRunner.Output, String) {
        let dir = try CommandRunner.temporaryDirectory("runnel-keys")
        var text = "carrier,flight\n"
        for i in 0..<2_000 { text += "C\(i % 14),\(i)\n" }
        try write(text, to: dir + "/flights.csv")
        try write(
            """
            pipeline: carriers
            extract: {type: csv, path: flights.csv}
            load: {type: sqlite, path: out.db, table: carriers, key: [carrier]\(loadExtra)}
            dead_letter: {type: sqlite}
            """, to: dir + "/pipeline.yaml")
        let json = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--summary-json"])
        let text2 = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--no-progress"])
        return (json, text2, dir)
    }

    @Test func theSummarySaysHowManyRecordsWereSuperseded() throws {
        let (json, plain, dir) = try runCarriers("")
        #expect(json.exitCode == 0, "\(json.stderr)")
        let s = try summary(json)
        #expect(s["loaded"] as? Int == 14 && s["superseded"] as? Int == 1_986 && s["key_policy"] as? String == "last_wins")
        #expect(plain.stdout.contains("loaded        14, superseded 1,986 (same key, later record won)"), "\(plain.stdout)")
        #expect(try dump(dir + "/out.db", "SELECT count(*) FROM carriers") == [["14"]])
        #expect(try dump(dir + "/out.db", "SELECT flight FROM carriers WHERE carrier = 'C0'") == [["1988"]])
    }

    @Test func rejectParksTheDuplicatesAsDeadLetters() throws {
        let (json, _, dir) = try runCarriers(", key_policy: reject")
        #expect(json.exitCode == 0, "\(json.stderr)")
        let s = try summary(json)
        #expect(s["loaded"] as? Int == 14 && s["dead_lettered"] as? Int == 1_986)
        #expect(try dump(dir + "/out.db", "SELECT flight FROM carriers WHERE carrier = 'C0'") == [["0"]])
        #expect(try dump(dir + "/out.db", "SELECT error_code, count(*) FROM runnel_dead_letters GROUP BY 1") == [["duplicate_key", "1986"]])
    }

    @Test func anUnknownPolicyIsASpecError() throws {
        let dir = try CommandRunner.temporaryDirectory("runnel-keys")
        try write("carrier\nC1\n", to: dir + "/flights.csv")
        try write(
            "pipeline: carriers\nextract: {type: csv, path: flights.csv}\n"
                + "load: {type: sqlite, path: out.db, table: carriers, key: [carrier], key_policy: newest}\n"
                + "dead_letter: {type: sqlite}\n", to: dir + "/pipeline.yaml")
        let run = try CommandRunner.run(batchBinary, ["validate", dir + "/pipeline.yaml"])
        #expect(run.exitCode == 2)
        #expect(run.stderr.contains("pipeline.yaml:3:") && run.stderr.contains("'newest' is not one of last_wins, first_wins, reject"), "\(run.stderr)")
    }
}
