import Foundation
import RunnelTesting
import Testing

@Suite struct QuickstartTests {
    @Test func loadsEveryGoodRowAndParksEveryBadOne() throws {
        let dir = try quickstartCopy()
        let run = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--summary-json"])
        #expect(run.exitCode == 0, "\(run.stderr)")
        let s = try summary(run)
        #expect(s["read"] as? Int == 20_000)
        #expect(s["dead_lettered"] as? Int == 200)
        // Rows that update earlier orders supersede them: loaded counts the rows the table holds.
        #expect(s["loaded"] as? Int == 19_501 && s["superseded"] as? Int == 299)
        #expect((s["loaded"] as! Int) + (s["superseded"] as! Int) + (s["dead_lettered"] as! Int) == 20_000)
        let db = dir + "/out/quickstart.db"
        #expect(try dump(db, "SELECT count(*) FROM orders") == [["19501"]])
        #expect(try dump(db, "SELECT count(*) FROM orders WHERE discount IS NULL") != [["0"]], "NA became null")
        let reasons = try dump(db, "SELECT stage, error_code, count(*) FROM runnel_dead_letters GROUP BY 1, 2 ORDER BY 1, 2")
        #expect(reasons == [["extract", "malformed_row", "50"], ["transform:cast", "cast_failed", "100"], ["validate", "required", "50"]])
        let lines = try dump(db, "SELECT source, line FROM runnel_dead_letters WHERE stage = 'extract' ORDER BY line LIMIT 1")
        #expect(lines.first?[0].hasSuffix("data/orders.csv") == true && Int(lines.first?[1] ?? "") ?? 0 > 1)
    }

    @Test func aSecondRunLoadsNothingAndAResetRunLeavesTheSameTable() throws {
        let dir = try quickstartCopy()
        let spec = dir + "/pipeline.yaml"
        let db = dir + "/out/quickstart.db"
        #expect(try CommandRunner.run(batchBinary, ["run", spec]).exitCode == 0)
        let table = try dump(db, "SELECT * FROM orders ORDER BY order_id")
        let letters = try dump(db, "SELECT key, stage, error_code FROM runnel_dead_letters ORDER BY key")

        let again = try CommandRunner.run(batchBinary, ["run", spec, "--summary-json"])
        #expect(again.exitCode == 0)
        #expect(try summary(again)["read"] as? Int == 0)

        let reset = try CommandRunner.run(batchBinary, ["checkpoint", "reset", spec])
        #expect(reset.exitCode == 0)
        #expect(try CommandRunner.run(batchBinary, ["checkpoint", "show", spec]).stdout.contains("no checkpoint"))
        let rerun = try CommandRunner.run(batchBinary, ["run", spec, "--summary-json"])
        #expect(try summary(rerun)["read"] as? Int == 20_000)
        #expect(try dump(db, "SELECT * FROM orders ORDER BY order_id") == table)
        #expect(try dump(db, "SELECT key, stage, error_code FROM runnel_dead_letters ORDER BY key") == letters)
    }

    @Test func aDryRunReportsButWritesNothing() throws {
        let dir = try quickstartCopy()
        let run = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--dry-run", "--summary-json"])
        #expect(run.exitCode == 0)
        let s = try summary(run)
        #expect(s["dry_run"] as? Bool == true && s["loaded"] as? Int == 19_501 && s["superseded"] as? Int == 299)
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/quickstart.db"))
    }

    @Test func redriveLoadsFixedRecordsAndEmptiesTheQueue() throws {
        let dir = try quickstartCopy()
        let spec = dir + "/pipeline.yaml"
        #expect(try CommandRunner.run(batchBinary, ["run", spec]).exitCode == 0)
        // The fix: amounts written with a decimal comma become null instead of failing the cast,
        // and a missing amount is allowed.
        var text = try String(contentsOfFile: spec, encoding: .utf8)
        text = text.replacingOccurrences(of: "    fields: [discount]\n    values: [\"NA\", \"\"]", with: "    fields: [discount, amount]\n    values: [\"NA\", \"\", \"12,50\", \"abc\", \"$19.99\", \"1e\"]")
        text = text.replacingOccurrences(of: "{field: amount, required: true,", with: "{field: amount, required: false,")
        try write(text, to: spec)
        let redrive = try CommandRunner.run(batchBinary, ["dead-letter", "redrive", spec])
        #expect(redrive.exitCode == 0, "\(redrive.stderr)")
        #expect(redrive.stdout.contains("200 examined, 50 loaded"), "\(redrive.stdout)")
        let db = dir + "/out/quickstart.db"
        #expect(try dump(db, "SELECT count(*) FROM runnel_dead_letters") == [["150"]])
        #expect(try dump(db, "SELECT count(*) FROM runnel_dead_letters WHERE attempts = 2") == [["150"]])
        #expect(try dump(db, "SELECT count(*) FROM orders WHERE amount IS NULL") == [["50"]])
    }
}
