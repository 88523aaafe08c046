import Foundation
import RunnelTesting
import Testing

/// Records whose shape varies — a field a batch lacks, a first batch with no valid record, a
/// number beyond double range — through the binary, the way the fault trials met them.
@Suite struct DataShapeEndToEndTests {
    private func run(_ input: String, name: String, spec body: String, flags: [String] = []) throws -> (CommandRunner.Output, String) {
        let dir = try CommandRunner.temporaryDirectory("runnel-shape")
        try write(input, to: dir + "/" + name)
        try write("pipeline: shape\n" + body + "\ncheckpoint: {type: sqlite}\ndead_letter: {type: sqlite}\n", to: dir + "/pipeline.yaml")
        return (try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--summary-json"] + flags), dir)
    }

    /// In batches of one, a record without the optional `note` failed the run with exit 2.
    @Test func aFieldABatchLacksIsNullForJSONLines() throws {
        let (out, dir) = try run(
            """
            {"id": 1, "amount": "2.5", "note": " x "}
            {"id": 2, "amount": "3"}
            {"id": 3, "amount": "4", "note": null}
            """, name: "in.jsonl",
            spec: """
                extract: {type: jsonl, path: in.jsonl}
                transform:
                  - {type: rename, fields: {note: comment}}
                  - {type: trim, fields: [comment]}
                  - {type: cast, fields: {id: int, amount: double}}
                  - {type: select, fields: [id, amount, comment]}
                validate:
                  rules: [{field: comment, max_length: 5}]
                load: {type: sqlite, path: out.db, table: t, key: [id], columns: {id: integer, amount: real, comment: text}}
                batching: {max_records: 1}
                """)
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        #expect(try dump(dir + "/out.db", "SELECT id, coalesce(comment, 'NULL') FROM t ORDER BY id") == [["1", "x"], ["2", "NULL"], ["3", "NULL"]])
    }

    @Test func aCSVHeaderWithoutANamedColumnIsAContractErrorNamingFileAndColumn() throws {
        let (out, _) = try run(
            "id,amount\n1,2\n", name: "in.csv",
            spec: """
                extract: {type: csv, path: in.csv}
                transform: [{type: cast, fields: {id: int, discount: double}}]
                load: {type: sqlite, path: out.db, table: t, key: [id]}
                """)
        #expect(out.exitCode == 3, "\(out.stdout)\(out.stderr)")
        let error = try summary(out)["error"] as? String ?? ""
        #expect(error.contains("in.csv has no column 'discount'") && error.contains("columns: id, amount"), "\(error)")
    }

    /// `prepare load: key or version field 'id' is not among the columns ()`, exit 2.
    @Test func aFirstBatchWithNoValidRecordIsParkedAndTheRunGoesOn() throws {
        let (out, dir) = try run(
            """
            {"id": "x"}
            {"id": "2", "name": "b"}
            """, name: "in.jsonl",
            spec: """
                extract: {type: jsonl, path: in.jsonl}
                transform: [{type: cast, fields: {id: int}}]
                load: {type: sqlite, path: out.db, table: t, key: [id]}
                batching: {max_records: 1}
                """)
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        let s = try summary(out)
        #expect(s["loaded"] as? Int == 1 && s["dead_lettered"] as? Int == 1)
        #expect(try dump(dir + "/out.db", "SELECT id, name FROM t") == [["2", "b"]])
        #expect(try dump(dir + "/out.db", "SELECT error_code FROM runnel_dead_letters") == [["cast_failed"]])
    }

    /// `{"amount": 1e400}` loaded as NULL with status ok.
    @Test func aJSONNumberBeyondDoubleRangeIsRejectedNotNull() throws {
        let (out, dir) = try run(
            """
            {"id": 1, "amount": 1e400}
            {"id": 2, "amount": 1.5}
            """, name: "in.jsonl",
            spec: """
                extract: {type: jsonl, path: in.jsonl}
                load: {type: sqlite, path: out.db, table: t, key: [id]}
                """)
        #expect(out.exitCode == 0, "\(out.stdout)\(out.stderr)")
        #expect(try dump(dir + "/out.db", "SELECT id, amount FROM t") == [["2", "1.5"]])
        #expect(try dump(dir + "/out.db", "SELECT error_code FROM runnel_dead_letters") == [["number_out_of_range"]])
    }
}
