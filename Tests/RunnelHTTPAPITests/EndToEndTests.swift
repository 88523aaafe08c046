import Foundation
import RunnelCore
import RunnelSQLite
import RunnelTesting
import Testing

let batchBinary = CommandRunner.binary("runnel-batch")

/// A spec reading the test server into SQLite, in a fresh folder.
func httpSpec(
    _ server: TestServer, style: String = "offset", extra: String = "", auth: String = #"{bearer: "${API_TOKEN}"}"#
) throws
    -> String
{
    let dir = try CommandRunner.temporaryDirectory("runnel-http")
    let pagination =
        style == "offset"
        ? "{type: offset, limit: 50}" : "{type: next_url, field: links.next}"
    let spec = """
        pipeline: http-e2e
        extract:
          type: http
          url: \(server.base)/\(style)/items
          query: {limit: "50"}
          auth: \(auth)
          records: data
          pagination: \(pagination)
          cursor: {field: updated_at, param: updated_since, initial: "2000-01-01T00:00:00Z"}
          retry: {base_delay: 20ms}
        \(extra)
        load: {type: sqlite, path: out/items.db, table: items, key: [id], version: updated_at}
        checkpoint: {type: sqlite}
        dead_letter: {type: sqlite}
        """
    try spec.write(toFile: dir + "/pipeline.yaml", atomically: true, encoding: .utf8)
    return dir
}

func dump(_ dbPath: String, _ sql: String) throws -> [[String]] {
    let db = SQLiteDatabase(.init(path: dbPath))
    return try db.withConnection { try $0.query(sql) }.map { $0.map(\.text) }
}

/// What the server serves, as the table must hold it: `id, name, amount, updated_at`.
func expectedRows(_ n: Int) -> [[String]] {
    (1...n).map { i in
        let minutes = i
        let t = String(format: "2024-01-%02dT%02d:%02d:00Z", 1 + minutes / 1440, (minutes % 1440) / 60, minutes % 60)
        return [String(i), "item-\(i)", Value.double(Double(i) * 1.25).text, t]
    }
}

@Suite struct EndToEndTests {
    static let tableSQL = "SELECT id, name, amount, updated_at FROM items ORDER BY id"

    /// `tap` opened the extractor and never shut the shared HTTP client down: a debug build
    /// trapped with "Client not shut down before the deinit" (exit 132).
    @Test func tapShutsTheHTTPClientDown() throws {
        let server = try TestServer(["--records", "20", "--token", "t0k"])
        defer { server.stop() }
        let dir = try httpSpec(server)
        let tap = try CommandRunner.run(batchBinary, ["tap", dir + "/pipeline.yaml", "--limit", "3"], environment: ["API_TOKEN": "t0k"])
        #expect(tap.exitCode == 0, "\(tap.stdout)\(tap.stderr)")
        #expect(tap.stdout.contains("== extract: 3 records"), "\(tap.stdout)")
        #expect(!tap.stderr.contains("not shut down"))
        // The other commands that build the spec's components end as cleanly.
        for args in [["validate"], ["checkpoint", "show"], ["dead-letter", "list"]] {
            let run = try CommandRunner.run(batchBinary, args + [dir + "/pipeline.yaml"], environment: ["API_TOKEN": "t0k"])
            #expect(run.exitCode == 0, "\(args): \(run.stderr)")
        }
    }

    @Test func sigkillAtRandomInstantsLosesAndDoublesNothing() throws {
        // Faults on too: every 9th request is cut mid-body and retried.
        let server = try TestServer(["--records", "3000", "--token", "t0k", "--drop-every", "9"])
        defer { server.stop() }
        let dir = try httpSpec(server)
        let env = ["API_TOKEN": "t0k"]
        var rng = SeededGenerator(seed: 11)
        var kills = 0
        var attempts = 0
        while kills < 6, attempts < 40 {
            attempts += 1
            let p = try CommandRunner.start(
                batchBinary, ["run", dir + "/pipeline.yaml", "--no-progress"], environment: env)
            usleep(UInt32(150_000 + rng.next() % 900_000))
            p.kill(SIGKILL)
            let code = p.wait()
            if code == 0 {
                // Finished before the kill: start over so that the next run can be interrupted.
                #expect(
                    try CommandRunner.run(
                        batchBinary, ["checkpoint", "reset", dir + "/pipeline.yaml"], environment: env
                    ).exitCode == 0)
                continue
            }
            #expect(code == 128 + SIGKILL)
            kills += 1
        }
        let last = try CommandRunner.run(
            batchBinary, ["run", dir + "/pipeline.yaml", "--no-progress"], environment: env)
        #expect(last.exitCode == 0, "\(last.stderr)")
        #expect(kills >= 6, "the test must actually interrupt runs")
        #expect(try dump(dir + "/out/items.db", Self.tableSQL) == expectedRows(3000))
        // Nothing was rejected: the dead letter table (created with the target) is empty.
        #expect(try dump(dir + "/out/items.db", "SELECT count(*) FROM runnel_dead_letters") == [["0"]])
    }

    @Test func theTokenAppearsNowhereAtAnyLogLevel() throws {
        let token = "sekr1t-\(UInt32.random(in: 0..<UInt32.max))"
        let server = try TestServer([
            "--records", "120", "--token", token, "--rate-limit-every", "5", "--malformed-page", "1",
        ])
        defer { server.stop() }
        let dir = try httpSpec(server)
        let spec = dir + "/pipeline.yaml"
        var outputs: [CommandRunner.Output] = []
        for level in ["trace", "debug", "info"] {
            for json in [[], ["--json-logs"]] {
                let run = try CommandRunner.run(
                    batchBinary, ["run", spec, "--log-level", level, "--summary-json"] + json,
                    environment: ["API_TOKEN": token])
                #expect(run.exitCode == 0, "\(run.stderr)")
                outputs.append(run)
                _ = try CommandRunner.run(
                    batchBinary, ["checkpoint", "reset", spec], environment: ["API_TOKEN": token])
            }
        }
        for args in [
            ["validate", spec], ["checkpoint", "show", spec], ["dead-letter", "list", spec, "--json"],
            ["run", spec, "--dry-run"],
        ] {
            outputs.append(
                try CommandRunner.run(batchBinary, args + ["--log-level", "trace"], environment: ["API_TOKEN": token]))
        }
        // The wrong token: a 401, exit 2, and neither token printed.
        let wrong = try CommandRunner.run(
            batchBinary, ["run", spec, "--log-level", "trace"], environment: ["API_TOKEN": token + "x"])
        #expect(wrong.exitCode == 2)
        #expect(wrong.stdout.contains("HTTP 401") || wrong.stderr.contains("HTTP 401"))
        outputs.append(wrong)
        for o in outputs {
            #expect(!o.stdout.contains(token) && !o.stderr.contains(token))
        }
        #expect(
            try dump(dir + "/out/items.db", "SELECT count(*) FROM items") == [["70"]], "one malformed page of 50 parked"
        )
        let raw = try dump(dir + "/out/items.db", "SELECT error_code, raw FROM runnel_dead_letters")
        #expect(raw.first?.first == "malformed_page")
    }

    @Test func anAPIKeyInTheQueryIsMaskedInErrors() throws {
        let key = "qk-\(UInt32.random(in: 0..<UInt32.max))"
        let server = try TestServer(["--token", "other"])
        defer { server.stop() }
        let dir = try httpSpec(server, auth: #"{api_key: {query: api_key, value: "${API_KEY}"}}"#)
        let run = try CommandRunner.run(
            batchBinary, ["run", dir + "/pipeline.yaml", "--log-level", "trace"], environment: ["API_KEY": key])
        #expect(run.exitCode == 2)
        let text = run.stdout + run.stderr
        #expect(text.contains("api_key=***"))
        #expect(!text.contains(key))
    }

    @Test func aLiteralSecretInTheSpecIsRefused() throws {
        let server = try TestServer()
        defer { server.stop() }
        let dir = try httpSpec(server, auth: "{bearer: literal-token}")
        let run = try CommandRunner.run(batchBinary, ["validate", dir + "/pipeline.yaml"])
        #expect(run.exitCode == 2)
        #expect((run.stdout + run.stderr).contains("extract.auth.bearer"))
        #expect(!(run.stdout + run.stderr).contains("literal-token"))
    }
}
