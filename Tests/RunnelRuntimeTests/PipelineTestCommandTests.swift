import Foundation
import RunnelTesting
import Testing

/// `runnel-batch test`, `tap` and expression errors in `validate`, through the binary: exit codes,
/// what a failing test prints, and where a malformed test file or expression is reported.
struct PipelineTestCommandTests {
    private func project() throws -> String {
        let dir = try quickstartCopy()
        try FileManager.default.copyItem(
            atPath: repositoryRoot + "/examples/quickstart/pipeline.test.yaml", toPath: dir + "/pipeline.test.yaml")
        return dir
    }

    @Test func theQuickstartTestsPassAndAFailurePrintsAFieldDiff() throws {
        let dir = try project()
        let ok = try CommandRunner.run(batchBinary, ["test", dir + "/pipeline.yaml"])
        #expect(ok.exitCode == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("4 passed, 0 failed"))

        var tests = try String(contentsOfFile: dir + "/pipeline.test.yaml", encoding: .utf8)
        tests = tests.replacingOccurrences(of: "net_amount: 323.063544", with: "net_amount: 401.0")
            .replacingOccurrences(of: "{record: 3, code: pattern}", with: "{record: 3, code: one_of}")
        try write(tests, to: dir + "/pipeline.test.yaml")
        let failed = try CommandRunner.run(batchBinary, ["test", dir])  // the folder form
        #expect(failed.exitCode == 1)
        #expect(failed.stdout.contains("2 passed, 2 failed"))
        #expect(failed.stdout.contains("output[0] (input record 1):\n        net_amount: expected 401.0, got 323.06"), "\(failed.stdout)")
        #expect(failed.stdout.contains("rejected: input record 3: expected code one_of, got pattern"))
    }

    /// Logging used to be set up once per test file, and swift-log traps on the second setup:
    /// a folder with two test files crashed with SIGILL.
    @Test func aFolderWithTwoTestFilesRunsBothAndTakesTheLoggingFlags() throws {
        let dir = try project()
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/second", withIntermediateDirectories: true)
        try fm.copyItem(atPath: dir + "/data", toPath: dir + "/second/data")
        try fm.copyItem(atPath: dir + "/pipeline.yaml", toPath: dir + "/second/orders.yaml")
        try fm.copyItem(atPath: dir + "/pipeline.test.yaml", toPath: dir + "/second/orders.test.yaml")
        let run = try CommandRunner.run(batchBinary, ["test", dir, "--log-level", "debug", "--json-logs"])
        #expect(run.exitCode == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("8 passed, 0 failed"), "\(run.stdout)")
        #expect(run.stdout.contains("orders.test.yaml"))
        let bad = try CommandRunner.run(batchBinary, ["test", dir, "--log-level", "loud"])
        #expect(bad.exitCode == 2)
        #expect(bad.stderr.contains("--log-level 'loud'"), "\(bad.stderr)")
        // The chart's RUNNEL_LOG_LEVEL is read (it was set and ignored).
        let env = try CommandRunner.run(batchBinary, ["validate", dir + "/pipeline.yaml"], environment: ["RUNNEL_LOG_LEVEL": "loud"])
        #expect(env.exitCode == 2 && env.stderr.contains("RUNNEL_LOG_LEVEL 'loud'"), "\(env.stderr)")
    }

    @Test func aMalformedTestFileExitsTwoNamingTheLine() throws {
        let dir = try project()
        try write(
            """
            tests:
              - name: typo
                input: [{a: 1}]
                expect:
                  ouptut: []
                  conditions: ["output.a >"]
            """, to: dir + "/pipeline.test.yaml")
        let run = try CommandRunner.run(batchBinary, ["test", dir + "/pipeline.yaml"])
        #expect(run.exitCode == 2)
        #expect(run.stderr.contains("pipeline.test.yaml:5:15: tests[0].expect.ouptut: unknown key 'ouptut' in expect (did you mean 'output'?)"), "\(run.stderr)")
        #expect(run.stderr.contains("pipeline.test.yaml:6:31: tests[0].expect.conditions[0]: the expression ends too early"), "\(run.stderr)")
    }

    @Test func anExpressionCompileErrorFailsValidateAtItsPosition() throws {
        let dir = try project()
        var spec = try String(contentsOfFile: dir + "/pipeline.yaml", encoding: .utf8)
        spec = spec.replacingOccurrences(of: "amount * (1.0 - discount / 100.0)", with: "amount * (1.0 - discount / 100.0")
        try write(spec, to: dir + "/pipeline.yaml")
        let run = try CommandRunner.run(batchBinary, ["validate", dir + "/pipeline.yaml"])
        #expect(run.exitCode == 2)
        let line = try #require(spec.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("net_amount:") })
        let text = spec.split(separator: "\n", omittingEmptySubsequences: false)[line]
        let column = text.distance(from: text.startIndex, to: text.range(of: "\"")!.upperBound) + 1 + "amount == null ? null : discount == null ? amount : amount * (1.0 - discount / 100.0".count
        #expect(run.stderr.contains("pipeline.yaml:\(line + 1):\(column): transform[5].fields.net_amount: expected ')' to close '('"), "\(run.stderr)")
        #expect(run.stderr.contains("^"))
    }

    @Test func tapShowsEachStageAndTheRejections() throws {
        let dir = try project()
        let run = try CommandRunner.run(batchBinary, ["tap", dir + "/pipeline.yaml", "--limit", "3"])
        #expect(run.exitCode == 0, "\(run.stderr)")
        #expect(run.stdout.contains("== extract: 3 records"))
        #expect(run.stdout.contains("== transform[2] cast cast: 3 records"))
        #expect(run.stdout.contains("== transform[5] map: 3 records"))
        #expect(run.stdout.contains("\"net_amount\":323.06"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/quickstart.db"))
    }
}
