import Foundation
import RunnelCore
import Testing
import Yams
@testable import RunnelConfig
import RunnelStandard

/// Every pipeline spec the project ships — examples, the Helm chart's values files, the plain
/// manifests — must build with this version of the spec parser, so the docs never drift from the code.
@Suite struct ShippedSpecTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// (where, spec text) for every spec file and every spec embedded in chart values.
    static func shippedSpecs() throws -> [(String, String)] {
        let fm = FileManager.default
        var specs: [(String, String)] = []
        for dir in ["examples", "deploy"] {
            guard let files = fm.enumerator(atPath: root + "/" + dir) else { continue }
            for case let file as String in files where file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
                let text = try String(contentsOfFile: root + "/\(dir)/\(file)", encoding: .utf8)
                // Pipeline specs are the YAML files with an `extract:` section at the top level.
                if text.split(separator: "\n").contains(where: { $0.hasPrefix("extract:") }) {
                    specs.append(("\(dir)/\(file)", text))
                }
            }
        }
        let chart = root + "/charts/runnel"
        let valuesFiles = ["values.yaml"] + ((try? fm.contentsOfDirectory(atPath: chart + "/ci")) ?? []).map { "ci/" + $0 }
        for file in valuesFiles where file.hasSuffix(".yaml") {
            let values = try Yams.load(yaml: try String(contentsOfFile: chart + "/" + file, encoding: .utf8)) as? [String: Any] ?? [:]
            let candidates: [(String, Any?)] = [
                ("pipeline.spec", (values["pipeline"] as? [String: Any])?["spec"]),
                ("batch.pipelineSpec", (values["batch"] as? [String: Any])?["pipelineSpec"]),
                ("stream.pipelineSpec", (values["stream"] as? [String: Any])?["pipelineSpec"]),
                ("backfill.pipelineSpec", (values["backfill"] as? [String: Any])?["pipelineSpec"]),
            ]
            for (key, value) in candidates {
                if let text = value as? String, !text.isEmpty { specs.append(("charts/runnel/\(file) \(key)", text)) }
            }
        }
        return specs
    }

    /// Specs name `${VAR}`s the cluster provides; any value will do to check the structure.
    struct AnyEnvironment {
        static func environment(for text: String) -> Environment {
            var vars: [String: String] = ["HOSTNAME": "runnel-0"]
            var rest = Substring(text)
            while let start = rest.range(of: "${") {
                rest = rest[start.upperBound...]
                guard let end = rest.firstIndex(where: { $0 == "}" || $0 == ":" }) else { break }
                let name = String(rest[..<end])
                // `${NAME:-default}` has its own value; only variables without one need a stand-in.
                if rest[end] == "}", vars[name] == nil {
                    vars[name] =
                        name.hasSuffix("PORT") ? "5432"
                        : name.hasSuffix("ADDRESS") ? "127.0.0.1:6379"
                        : name.hasSuffix("PASSWORD") ? "secret"
                        : name.contains("REDIS") ? "redis://127.0.0.1:6379"
                        : name.contains("URL") ? "postgres://runnel:secret@127.0.0.1:5432/runnel" : "x"
                }
            }
            return Environment(vars)
        }
    }

    @Test func everyShippedSpecBuilds() throws {
        let specs = try Self.shippedSpecs()
        #expect(specs.count >= 5, "found \(specs.map(\.0))")
        var registry = ComponentRegistry.standard
        let unavailable = Set(registry.unavailable.keys)
        registry.unavailable = [:]
        for (place, text) in specs {
            // Without a trait, a spec using its connector cannot build here; scripts/test enables every trait.
            if unavailable.contains(where: { text.contains("type: \($0)") }) { continue }
            do {
                _ = try PipelineSpec.parse(
                    yaml: text, file: place, directory: "/tmp", environment: AnyEnvironment.environment(for: text),
                    registry: registry)
            } catch {
                Issue.record("\(place) does not build: \(error)")
            }
        }
    }
}
