import RunnelConfig
import RunnelCore
import RunnelRuntime
import RunnelStandard
import Testing

/// The README's "Extending Runnel" example, compiled: a custom transformer registered next to
/// the standard connectors, then used by a spec.
struct GeoIPTransformer: Transformer {
    let field: String
    var name: String { "geoip" }
    func apply(to batch: inout Batch) throws {
        guard let i = batch.schema.index(of: field) else { return }
        for r in batch.records.indices where batch.records[r].values[i] == .string("127.0.0.1") {
            batch.records[r].values[i] = .string("loopback")
        }
    }
}

func extendedRegistry() -> ComponentRegistry {
    // --- as in the README ---
    var registry = ComponentRegistry.standard
    registry.registerTransformer(
        "geoip", keys: .init("Adds the country of an IP address.", [.string("field", required: true, "The IP address field.")])
    ) { ctx in
        ctx.section.string("field", required: true).map { GeoIPTransformer(field: $0) }
    }
    Runnel.registry = registry
    // ---
    return registry
}

@Suite struct ExtendingRunnelTests {
    @Test func aCustomTransformerRunsInASpec() throws {
        let yaml = """
            pipeline: custom
            extract: {type: csv, path: in.csv}
            transform: [{type: geoip, field: ip}]
            load: {type: jsonl, path: out}
            validate: {on_invalid: drop}
            """
        let spec = try PipelineSpec.parse(
            yaml: yaml, file: "custom.yaml", directory: "/tmp", environment: Environment([:]), registry: extendedRegistry())
        #expect(spec.pipeline.transformers.map(\.name) == ["geoip"])
        let runner = PipelineRunner(pipeline: spec.pipeline)
        var batch = Batch(schema: Schema(["ip"]), rows: [[.string("127.0.0.1")], [.string("10.0.0.1")]], origins: [.init(source: "m"), .init(source: "m")])
        try runner.applyStages(to: &batch)
        #expect(batch.records.map(\.values) == [[.string("loopback")], [.string("10.0.0.1")]])
    }

    @Test func theCustomTransformersKeysAreInTheSchemaAndTheKeyTables() {
        let registry = extendedRegistry()
        #expect(registry.jsonSchema().rendered().contains("\"The IP address field.\""))
        #expect(registry.keyTables().contains("### `transform` type `geoip`"))
        let message: String
        do {
            _ = try PipelineSpec.parse(
                yaml: """
                    pipeline: custom
                    extract: {type: csv, path: in.csv}
                    transform: [{type: geoip, feild: ip}]
                    load: {type: jsonl, path: out}
                    validate: {on_invalid: drop}
                    """, file: "custom.yaml", directory: "/tmp", environment: Environment([:]), registry: registry)
            message = ""
        } catch {
            message = error.message
        }
        #expect(message.contains("unknown key 'feild' in transform[0] (geoip) (did you mean 'field'?); valid keys: type, field, name"), "\(message)")
    }
}
