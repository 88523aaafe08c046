import Foundation
import RunnelConfig
import RunnelCore
import RunnelStandard
import RunnelTesting
import Testing

/// The spec loader (YAML → spec → lint) under mutated specs (`scripts/fuzz spec`): every input is
/// either a spec or a config error (exit 2) with a message, never a crash.
@Suite struct SpecFuzzTests {
    @Test func mutatedSpecsAreBuiltOrRejectedWithAConfigError() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let fuzzer = try MutationFuzzer(seedFolder: root + "/Fuzz/spec/seeds", iterations: 1_000)
        let directory = try CommandRunner.temporaryDirectory("runnel-spec-fuzz")
        let environment = Environment(["SALT": "s", "REDIS_URL": "redis://127.0.0.1:1"])
        var built = 0
        let count = fuzzer.run { input in
            // The spec loader reads text; bytes that are not UTF-8 are refused before it (load(file:)).
            guard let yaml = String(validating: input, as: UTF8.self) else { return }
            do {
                _ = try PipelineSpec.parse(
                    yaml: yaml, file: "fuzz.yaml", directory: directory, environment: environment, registry: .standard)
                built += 1
            } catch let error as RunnelError {
                #expect(error.code == .config && !error.message.isEmpty, "input \(MutationFuzzer.hex(input)): \(error)")
            } catch {
                Issue.record("not a RunnelError: \(error)")
            }
        }
        print("fuzz spec: \(count) inputs, \(built) built")
        #expect(built > 0, "the seeds themselves build")
    }
}
