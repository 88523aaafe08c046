import Foundation
import RunnelTesting
import Testing

/// A table the SQLite loader creates without `columns:` takes its column types from the casts,
/// and `validate` says so.
@Suite struct ColumnTypeInferenceTests {
    @Test func castsTypeTheColumnsOfACreatedTableAndValidateSaysWhich() throws {
        let dir = try CommandRunner.temporaryDirectory("runnel-affinity")
        try write("id,amount,at,label,tag\n10,2.50,2024-01-02T03:04:05Z,x,a\n9,10,2024-01-01T00:00:00Z,y,b\n", to: dir + "/in.csv")
        try write(
            """
            pipeline: typed
            extract: {type: csv, path: in.csv}
            transform:
              - {type: cast, fields: {id: int, amount: double, at: timestamp}}
              - {type: rename, fields: {amount: total}}
              - {type: map, fields: {twice: "total * 2.0"}}
            load: {type: sqlite, path: out.db, table: t, key: [id]}
            validate: {on_invalid: drop}
            """, to: dir + "/pipeline.yaml")
        let validate = try CommandRunner.run(batchBinary, ["validate", dir + "/pipeline.yaml"])
        #expect(validate.exitCode == 0, "\(validate.stderr)")
        #expect(
            validate.stdout.contains("load: columns typed from the stages: at TEXT, id INTEGER, total REAL; other columns untyped"),
            "\(validate.stdout)")
        let run = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml"])
        #expect(run.exitCode == 0, "\(run.stderr)")
        #expect(
            try dump(dir + "/out.db", "SELECT name, type FROM pragma_table_info('t') ORDER BY cid")
                == [["id", "INTEGER"], ["total", "REAL"], ["at", "TEXT"], ["label", ""], ["tag", ""], ["twice", ""]])
        // What a user notices in ad-hoc SQL: with INTEGER affinity a quoted number matches (an
        // untyped column compares the text '9' with the integer 9 and finds nothing).
        #expect(try dump(dir + "/out.db", "SELECT total FROM t WHERE id = '9'") == [["10.0"]])
    }
}
