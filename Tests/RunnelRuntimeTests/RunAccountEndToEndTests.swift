import Foundation
import RunnelTesting
import Testing

/// A run explains itself through the binary: windows that cannot be read are refused, a failed
/// run names its rejections, and the counts of the summary, the JSON summary and the logs agree.
@Suite struct RunAccountEndToEndTests {
    /// `--from "June 1"` used to read nothing and exit 0.
    @Test(arguments: [
        (["--from", "June 1"], [String: String](), "--from 'June 1' is not a time or a number"),
        (["--from", "xyz"], [:], "--from 'xyz' is not"),
        (["--from", "2013-06-02", "--to", "2013-06-01"], [:], "--from '2013-06-02' is not before --to '2013-06-01'"),
        ([], ["RUNNEL_FROM": "2024-13-45"], "RUNNEL_FROM '2024-13-45' is not"),
        (["--to", "2024-03-01"], ["RUNNEL_FROM": "2024-04-01"], "RUNNEL_FROM '2024-04-01' is not before --to '2024-03-01'"),
    ])
    func aWindowThatCannotBeReadExitsTwoNamingTheFlag(flags: [String], environment: [String: String], message: String) throws {
        let dir = try quickstartCopy()
        let run = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml"] + flags, environment: environment)
        #expect(run.exitCode == 2, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains(message), "\(run.stderr)")
        if !message.contains("is not before") {
            #expect(run.stderr.contains("2013-06-01T10:00:00Z"), "the accepted forms: \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/quickstart.db"))
    }

    @Test func aBackfillSummaryShowsItsWindow() throws {
        let dir = try quickstartCopy()
        let json = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--from", "2024-03-01", "--to", "2024-04-01", "--summary-json"])
        #expect(json.exitCode == 0, "\(json.stderr)")
        let window = try #require(try summary(json)["window"] as? [String: Any])
        #expect(window["from"] as? String == "2024-03-01" && window["to"] as? String == "2024-04-01")
        let text = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--from", "2024-03-01", "--no-progress"])
        #expect(text.stdout.contains("window        from 2024-03-01 (inclusive) to the end (exclusive)"), "\(text.stdout)")
    }

    /// A run stopped by max_invalid_ratio said `read 0 · rejected 0` and nothing about why.
    @Test func aRunStoppedByTheInvalidRatioNamesItsTopRejections() throws {
        let dir = try quickstartCopy()
        var spec = try String(contentsOfFile: dir + "/pipeline.yaml", encoding: .utf8)
        spec = spec.replacingOccurrences(of: "ordered_at: {type: timestamp, format: \"%Y-%m-%d\"}", with: "ordered_at: {type: timestamp, format: \"%d/%m/%Y\"}")
        try write(spec, to: dir + "/pipeline.yaml")
        let json = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--summary-json"])
        #expect(json.exitCode == 3)
        let s = try summary(json)
        #expect(s["read"] as? Int == 5000 && s["rejected"] as? Int == 5000 && s["loaded"] as? Int == 0, "\(s)")
        let top = try #require((s["top_rejections"] as? [[String: Any]])?.first)
        // The broken rows (about 1%) fail on an earlier field of the cast.
        #expect(top["code"] as? String == "cast_failed" && top["field"] as? String == "ordered_at" && (top["count"] as? Int ?? 0) > 4900)
        #expect((top["value"] as? String)?.hasPrefix("2024-") == true, "\(top)")
        let text = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--no-progress"])
        #expect(text.stdout.contains("read          5,000"), "\(text.stdout)")
        #expect(text.stdout.contains("top rejects   cast_failed ×4,9"), "\(text.stdout)")
        #expect(text.stdout.contains("at transform:cast, field ordered_at, e.g. '2024-"), "\(text.stdout)")
        #expect(text.stdout.contains("not dead-lettered: their batch was not committed"))
    }

    /// After SIGINT the log said exit_code 0; a dry run said `dead-lettered 200`; `dead-letter
    /// list --limit 3` said "3 dead letters" of 200.
    @Test func logsDryRunsAndTheDeadLetterListTellTheTruth() throws {
        let dir = try quickstartCopy(maxRecords: 500)
        let spec = dir + "/pipeline.yaml"
        let dry = try CommandRunner.run(batchBinary, ["run", spec, "--dry-run", "--summary-json"])
        let d = try summary(dry)
        #expect(d["dead_lettered"] as? Int == 0 && d["rejected"] as? Int == 200, "\(d)")

        let run = try CommandRunner.run(batchBinary, ["run", spec, "--summary-json", "--json-logs", "--log-level", "debug"])
        #expect(run.exitCode == 0)
        let s = try summary(run)
        let read = s["read"] as? Int ?? -1
        #expect(read == 20_000)
        #expect(read == ["loaded", "superseded", "filtered", "rejected", "uncommitted"].reduce(0) { $0 + (s[$1] as? Int ?? 0) })
        let logs = run.stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let finished = try #require(logs.first { $0["message"] as? String == "run finished" })
        for key in ["read", "loaded", "superseded", "filtered", "rejected"] {
            #expect(finished[key] as? Int == s[key] as? Int, "\(key)")
        }
        #expect(finished["exit_code"] as? Int == 0)
        var batchRead = 0
        for b in logs where b["message"] as? String == "batch committed" {
            let r = b["read"] as? Int ?? -1
            batchRead += r
            #expect(r == ["loaded", "superseded", "filtered", "rejected"].reduce(0) { $0 + (b[$1] as? Int ?? 0) })
        }
        #expect(batchRead == read)

        let list = try CommandRunner.run(batchBinary, ["dead-letter", "list", spec, "--limit", "3"])
        #expect(list.stdout.contains("showing 3 of 200 dead letters; by code: "), "\(list.stdout)")
        #expect(list.stdout.contains("cast_failed "))
    }

    @Test func aSignalStopLogsTheExitCodeTheProcessEndsWith() throws {
        let dir = try quickstartCopy(maxRecords: 50)
        let started = try CommandRunner.start(batchBinary, ["run", dir + "/pipeline.yaml", "--json-logs", "--summary-json"])
        // Stop once the run has committed something.
        let db = dir + "/out/quickstart.db"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: db), Date() < deadline { usleep(20_000) }
        started.kill(SIGINT)
        let code = started.wait()
        let err = String(decoding: started.stderrPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let logs = err.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let last = try #require(logs.last { ($0["message"] as? String ?? "").hasPrefix("run ") && $0["exit_code"] != nil })
        #expect(last["exit_code"] as? Int == Int(code), "\(err)")
        if code == 1 { #expect(last["level"] as? String == "error") }
    }
}
