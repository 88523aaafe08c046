import Foundation
import RunnelTesting
import Testing

private let spec = """
    pipeline: bad-input
    extract: {type: csv, path: input.csv}
    transform:
      - {type: cast, fields: {id: int}}
    load: {type: sqlite, path: out.db, table: t, key: [id]}
    checkpoint: {type: sqlite}
    dead_letter: {type: sqlite}
    """

private func runOn(_ bytes: [UInt8], name: String = "input.csv", extraSpec: String = "") throws -> (CommandRunner.Output, String) {
    let dir = try CommandRunner.temporaryDirectory("runnel-bad")
    FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(bytes))
    try write(spec.replacingOccurrences(of: "input.csv", with: name) + extraSpec, to: dir + "/pipeline.yaml")
    return (try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--summary-json"]), dir)
}

@Suite struct BadInputTests {
    @Test func invalidUTF8AndAnUnterminatedQuoteAreDeadLetteredAndTheRestLoads() throws {
        let bytes = Array("id,name\n1,a\n2,\"open\n3,c\n".utf8) + [0x34, 0x2C, 0xC3, 0x28, 0x0A] + Array("5,e\n".utf8)
        let (run, dir) = try runOn(bytes)
        #expect(run.exitCode == 0, "\(run.stderr)")
        #expect(try dump(dir + "/out.db", "SELECT id FROM t ORDER BY id") == [["1"], ["3"], ["5"]])
        let letters = try dump(dir + "/out.db", "SELECT line, error FROM runnel_dead_letters ORDER BY line")
        #expect(letters.map { $0[0] } == ["3", "5"])
        #expect(letters[0][1].contains("unterminated"))
        #expect(letters[1][1].contains("UTF-8"))
    }

    @Test func aOneMegabyteLineAndAnEmptyFileAndATruncatedLastLine() throws {
        let big = String(repeating: "z", count: 1 << 20)
        let (run, dir) = try runOn(Array("id,name\n1,\(big)\n2,tail-without-newline".utf8))
        #expect(run.exitCode == 0)
        #expect(try dump(dir + "/out.db", "SELECT id, length(name) FROM t ORDER BY id") == [["1", "1048576"], ["2", "20"]])

        let (empty, _) = try runOn([])
        #expect(empty.exitCode == 0)
        #expect(try summary(empty)["read"] as? Int == 0)
    }

    @Test func aTruncatedGzipFileLoadsEveryDecodableRowParksTheDamageAndExitsThree() throws {
        var text = "id,name\n"
        for i in 0..<20_000 { text += "\(i),name-\(i)-\(i * 7919 % 10007)\n" }
        let dir = try CommandRunner.temporaryDirectory("runnel-gz")
        try write(text, to: dir + "/whole.csv")
        #expect(try CommandRunner.run("/bin/gzip", ["-k", dir + "/whole.csv"]).exitCode == 0)
        let full = try Data(contentsOf: URL(fileURLWithPath: dir + "/whole.csv.gz"))
        let cut = Data(full.prefix(full.count / 2))
        try cut.write(to: URL(fileURLWithPath: dir + "/cut.csv.gz"))
        // What zlib can decode of the cut file (Python's binding of it): every complete line of it
        // must be loaded.
        let inflate = "import sys, zlib; sys.stdout.buffer.write(zlib.decompressobj(31).decompress(open(sys.argv[1], 'rb').read()))"
        let decoded = try CommandRunner.run("/usr/bin/env", ["python3", "-c", inflate, dir + "/cut.csv.gz"]).stdout
        let completeRows = decoded.split(separator: "\n", omittingEmptySubsequences: false).dropLast().count - 1
        #expect(completeRows > 5_000)

        let (run, out) = try runOn(Array(cut), name: "input.csv.gz", extraSpec: "\nbatching: {max_records: 3000}\n")
        #expect(run.exitCode == 3, "\(run.stdout) \(run.stderr)")
        let result = try summary(run)
        #expect((result["error"] as? String ?? "").contains("input.csv.gz"))
        #expect(result["loaded"] as? Int == completeRows)
        #expect(try dump(out + "/out.db", "SELECT count(*), min(id), max(id) FROM t") == [["\(completeRows)", "0", "\(completeRows - 1)"]])
        let letters = try dump(out + "/out.db", "SELECT error_code, source, line, \"offset\" FROM runnel_dead_letters")
        #expect(letters.count == 1)
        #expect(letters.first?[0] == "truncated_input")
        #expect(letters.first?[1].hasSuffix("input.csv.gz") == true)
        #expect(letters.first?[2] == "\(completeRows + 2)", "the line after the last complete row")
        let completeBytes = decoded.utf8.count - decoded.utf8.reversed().prefix { $0 != 0x0A }.count
        #expect(letters.first?[3] == "\(completeBytes)", "the byte offset where the incomplete row starts")
        #expect(!run.stderr.contains("Fatal error"))
    }

    @Test func aHeaderNameWithAControlCharacterIsAContractErrorNamingLineAndColumn() throws {
        let (run, _) = try runOn(Array("id,na\u{0}me\n1,a\n".utf8))
        #expect(run.exitCode == 3, "\(run.stderr)")
        let error = try summary(run)["error"] as? String ?? ""
        #expect(error.contains("input.csv:1: header column 2"), "\(error)")
        #expect(error.contains("U+0000"))
        let (dup, _) = try runOn(Array("id,name,name\n1,a,b\n".utf8))
        #expect(dup.exitCode == 3)
        #expect((try summary(dup)["error"] as? String ?? "").contains("header column 3 names 'name' again (first in column 2)"))
        let (blank, _) = try runOn(Array("id,,x\n1,a,b\n".utf8))
        #expect(blank.exitCode == 3)
        #expect((try summary(blank)["error"] as? String ?? "").contains("header column 2 has no name"))
    }

    @Test func tooManyInvalidRowsFailWithTheContractExitCode() throws {
        var text = "id,name\n"
        for i in 0..<100 { text += (i % 3 == 0 ? "x\(i)" : "\(i)") + ",n\n" }
        let (run, _) = try runOn(Array(text.utf8), extraSpec: "\nvalidate: {max_invalid_ratio: 0.1}\n")
        #expect(run.exitCode == 3)
        #expect((try summary(run)["error"] as? String ?? "").contains("max_invalid_ratio 0.1"))
    }
}

@Suite struct CommandLineTests {
    @Test func validateListsEveryProblemAndExitsTwo() throws {
        let dir = try CommandRunner.temporaryDirectory("runnel-cli")
        try write("pipeline: x\nextract: {type: csvv, path: a.csv}\nload: {type: sqlite, table: t, key: [id]}\n", to: dir + "/bad.yaml")
        let run = try CommandRunner.run(batchBinary, ["validate", dir + "/bad.yaml"])
        #expect(run.exitCode == 2)
        #expect(run.stderr.contains("bad.yaml:2:") && run.stderr.contains("did you mean 'csv'"))
        #expect(run.stderr.contains("missing required key 'path'"))
        let good = try CommandRunner.run(batchBinary, ["validate", repositoryRoot + "/examples/quickstart/pipeline.yaml"])
        #expect(good.exitCode == 0, "\(good.stderr)")
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try CommandRunner.run(batchBinary, ["run"]).exitCode == 2)
        #expect(try CommandRunner.run(batchBinary, ["run", "x.yaml", "--no-such-flag"]).exitCode == 2)
        #expect(try CommandRunner.run(batchBinary, ["run", "/nonexistent/spec.yaml"]).exitCode == 2)
        #expect(try CommandRunner.run(batchBinary, ["--version"]).exitCode == 0)
    }

    @Test func aWindowComesFromTheEnvironmentAndLeavesTheCheckpointAlone() throws {
        let dir = try quickstartCopy()
        let spec = dir + "/pipeline.yaml"
        let run = try CommandRunner.run(
            batchBinary, ["run", spec, "--summary-json"], environment: ["RUNNEL_FROM": "2024-03-01", "RUNNEL_TO": "2024-04-01"])
        #expect(run.exitCode == 0, "\(run.stderr)")
        let read = try summary(run)["read"] as? Int ?? 0
        #expect(read > 1000 && read < 2500, "about one month of 12")
        #expect(try dump(dir + "/out/quickstart.db", "SELECT count(*) FROM orders WHERE ordered_at < '2024-03-01' OR ordered_at >= '2024-04-01'") == [["0"]])
        #expect(try CommandRunner.run(batchBinary, ["checkpoint", "show", spec]).stdout.contains("no checkpoint"))
    }
}
