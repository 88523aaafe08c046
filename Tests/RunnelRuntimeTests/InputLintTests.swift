import Foundation
import RunnelTesting
import Testing

/// `validate` looks at a file source's data: the path matches, the names the spec uses are in
/// the header (or the first JSON Lines records), a timestamp format matches the values.
@Suite struct InputLintTests {
    private func quickstart(_ edit: (String) -> String) throws -> String {
        let dir = try quickstartCopy()
        let spec = try String(contentsOfFile: dir + "/pipeline.yaml", encoding: .utf8)
        try write(edit(spec), to: dir + "/pipeline.yaml")
        return dir
    }

    @Test func validatePrintsTheResolvedInputAndItsFields() throws {
        let dir = try quickstart { $0 }
        let run = try CommandRunner.run(batchBinary, ["validate", dir + "/pipeline.yaml"])
        #expect(run.exitCode == 0, "\(run.stderr)")
        #expect(run.stdout.contains("input: \(dir)/data/orders.csv: 1 file"), "\(run.stdout)")
        #expect(run.stdout.contains("input fields (the header of \(dir)/data/orders.csv): order_id,"), "\(run.stdout)")
    }

    /// `validate` passed all three; the run then failed or rejected every record.
    @Test func aMissingFileAFieldTypoAndAFormatThatMatchesNothingFailValidate() throws {
        let missing = try quickstart { $0.replacingOccurrences(of: "path: data/orders.csv", with: "path: data/flights.csv") }
        let m = try CommandRunner.run(batchBinary, ["validate", missing + "/pipeline.yaml"])
        #expect(m.exitCode == 2)
        #expect(m.stderr.contains("pipeline.yaml:7:3: extract.path '\(missing)/data/flights.csv' matches no file (resolved: \(missing)/data/flights.csv)"), "\(m.stderr)")

        let typo = try quickstart {
            $0.replacingOccurrences(of: "      order_id: int\n", with: "      order_idd: int\n")
                .replacingOccurrences(of: "cursor: ordered_at", with: "cursor: orderd_at")
        }
        let t = try CommandRunner.run(batchBinary, ["validate", typo + "/pipeline.yaml"])
        #expect(t.exitCode == 2)
        #expect(t.stderr.contains("pipeline.yaml:7:3: extract.cursor: no field 'orderd_at' in the header of \(typo)/data/orders.csv (did you mean 'ordered_at'?)"), "\(t.stderr)")
        #expect(t.stderr.contains("transform[2] (cast): no field 'order_idd' in the header of \(typo)/data/orders.csv (did you mean 'order_id'?)"), "\(t.stderr)")

        let format = try quickstart { $0.replacingOccurrences(of: "format: \"%Y-%m-%d\"", with: "format: \"%d/%m/%Y\"") }
        let f = try CommandRunner.run(batchBinary, ["validate", format + "/pipeline.yaml"])
        #expect(f.exitCode == 2)
        #expect(f.stderr.contains("transform[2] (cast): timestamp format '%d/%m/%Y' matches none of the first"), "\(f.stderr)")
        #expect(f.stderr.contains("values of 'ordered_at' (e.g. '2024-"))
    }

    @Test func aNameTheFirstJSONLinesRecordsLackIsAWarning() throws {
        let dir = try CommandRunner.temporaryDirectory("runnel-lint")
        try write("{\"id\": 1}\n", to: dir + "/in.jsonl")
        try write(
            """
            pipeline: lint
            extract: {type: jsonl, path: in.jsonl}
            transform: [{type: cast, fields: {id: int, note: string}}]
            load: {type: sqlite, path: out.db, table: t, key: [id]}
            validate: {on_invalid: drop}
            """, to: dir + "/pipeline.yaml")
        let run = try CommandRunner.run(batchBinary, ["validate", dir + "/pipeline.yaml"])
        #expect(run.exitCode == 0, "\(run.stderr)")
        #expect(run.stdout.contains("pipeline.yaml:3:13: transform[0] (cast): no field 'note' in the first 20 records of"), "\(run.stdout)")
    }
}
