import Foundation
import RunnelTesting
import Testing

/// `runnel-batch schema` and `runnel-stream schema`, and what `validate` says when one problem
/// used to bring false ones after it.
@Suite struct SchemaCommandTests {
    @Test func bothBinariesPrintTheSameJSONSchema() throws {
        let batch = try CommandRunner.run(batchBinary, ["schema"])
        #expect(batch.exitCode == 0, "\(batch.stderr)")
        let parsed = try JSONSerialization.jsonObject(with: Data(batch.stdout.utf8)) as? [String: Any]
        #expect(parsed?["$schema"] as? String == "http://json-schema.org/draft-07/schema#")
        #expect(
            (parsed?["definitions"] as? [String: Any])?.keys.sorted() == [
                "checkpoint", "dead_letter", "extract", "load", "transform",
            ])
        let stream = try CommandRunner.run(CommandRunner.binary("runnel-stream"), ["schema"])
        #expect(stream.exitCode == 0 && stream.stdout == batch.stdout)
    }

    @Test func markdownIsTheCommittedKeyTables() throws {
        let run = try CommandRunner.run(batchBinary, ["schema", "--markdown"])
        #expect(run.exitCode == 0)
        #expect(run.stdout.hasPrefix("# Components and their keys"))
        #expect(run.stdout.contains("### `extract` type `csv`"))
        #expect(run.stdout.contains("| `cursor` | string |"))
    }

    @Test func validateReportsAnUnsetVariableWithoutFollowOnProblems() throws {
        let dir = try CommandRunner.temporaryDirectory("runnel-schema-cli")
        try write(
            """
            pipeline: orders
            extract: {type: csv, path: "${RUNNEL_TEST_UNSET_INPUT}", cursor: updated_at}
            load: {type: sqlite3, path: out.db, table: orders, key: [id]}
            checkpoint: {type: sqlite}
            dead_letter: {type: sqlite}
            """, to: dir + "/pipeline.yaml")
        let run = try CommandRunner.run(batchBinary, ["validate", dir + "/pipeline.yaml"])
        #expect(run.exitCode == 2)
        #expect(run.stderr.contains("spec has 2 problems:"), "\(run.stderr)")
        #expect(
            run.stderr.contains("pipeline.yaml:2:") && run.stderr.contains("RUNNEL_TEST_UNSET_INPUT is not set"),
            "\(run.stderr)")
        #expect(
            run.stderr.contains("pipeline.yaml:3:") && run.stderr.contains("did you mean 'sqlite'?"), "\(run.stderr)")
    }
}
