import RunnelCore
import Testing
@testable import RunnelConfig
import RunnelStandard

private func parse(_ yaml: String, env: [String: String] = [:], registry: ComponentRegistry = .standard) throws -> PipelineSpec {
    try PipelineSpec.parse(yaml: yaml, file: "spec.yaml", directory: "/data", environment: Environment(env), registry: registry)
}

private func problems(_ yaml: String, env: [String: String] = [:], registry: ComponentRegistry = .standard) -> String {
    do {
        _ = try parse(yaml, env: env, registry: registry)
        return ""
    } catch let error as RunnelError {
        #expect(error.code == .config)
        return error.message
    } catch {
        Issue.record("unexpected error \(error)")
        return ""
    }
}

private let valid = """
    pipeline: orders
    extract: {type: csv, path: in/orders.csv}
    transform:
      - type: cast
        fields: {id: int, day: {type: timestamp, format: "%Y-%m-%d"}}
    validate:
      on_invalid: dead_letter
      rules:
        - {field: id, required: true, min: 1}
    load: {type: sqlite, path: out/db.sqlite, table: orders, key: [id]}
    checkpoint: {type: sqlite}
    dead_letter: {type: sqlite}
    batching: {max_records: 100, max_bytes: 1MiB, max_linger: 50ms}
    """

@Suite struct SpecTests {
    @Test func aValidSpecBuildsItsPipeline() throws {
        let spec = try parse(valid)
        #expect(spec.pipeline.name == "orders")
        #expect(spec.pipeline.transformers.count == 1 && spec.pipeline.validators.count == 1)
        #expect(spec.pipeline.batching == BatchingPolicy(maxRecords: 100, maxBytes: 1 << 20, maxLinger: .milliseconds(50)))
        #expect(spec.pipeline.loader.target == "sqlite /data/out/db.sqlite table orders", "relative paths resolve against the spec's folder")
        #expect(spec.pipeline.deadLetters?.target == "sqlite /data/out/db.sqlite table runnel_dead_letters")
        let store = try #require(spec.pipeline.checkpoints)
        _ = store
        #expect(spec.pipeline.checkpointsInLoad, "a sqlite checkpoint without a path shares the loader's file")
    }

    @Test func everyProblemIsListedWithFileLineColumnAndTheValidChoices() {
        let message = problems(
            """
            pipeline: orders
            extract: {type: csv, path: in.csv, delimter: ";"}
            transform:
              - type: cast
                fields: {id: integr}
              - type: uppercse
            load: {type: sqlite, path: o.db, table: t}
            dead_letter: {type: sqlite}
            batching: {max_records: lots}
            extra: 1
            """)
        #expect(message.contains("spec has 6 problems"))
        #expect(message.contains("spec.yaml:2:"), "names the line of the bad key")
        #expect(message.contains("unknown key 'delimter' in extract (csv) (did you mean 'delimiter'?)"))
        #expect(message.contains("valid keys: type, path, delimiter"))
        #expect(message.contains("spec.yaml:5:") && message.contains("'integr' is not a cast type; valid types: int, double, bool, string, timestamp"))
        #expect(message.contains("unknown transform[1] type 'uppercse' (did you mean 'uppercase'?)"))
        #expect(message.contains("load: missing required key 'key'"))
        #expect(message.contains("batching.max_records: expected a whole number, found 'lots'"))
        #expect(message.contains("unknown key 'extra' in the spec"))
    }

    @Test func environmentVariablesAreSubstitutedWithDefaults() throws {
        let yaml = valid.replacingOccurrences(of: "out/db.sqlite", with: "'${OUT_DIR:-out}/${DB_NAME}'")
        let spec = try parse(yaml, env: ["DB_NAME": "x.db"])
        #expect(spec.pipeline.loader.target == "sqlite /data/out/x.db table orders")
        #expect(problems(yaml).contains("environment variable DB_NAME is not set"))
    }

    @Test func aConnectorBuiltWithoutItsTraitNamesTheTrait() {
        var registry = ComponentRegistry.standard
        registry.loaders["postgres"] = nil
        registry.unavailable["postgres"] = "Postgres"
        let message = problems(valid.replacingOccurrences(of: "type: sqlite, path: out/db.sqlite", with: "type: postgres, path: x"), registry: registry)
        #expect(message.contains("'postgres' is not built into this binary; rebuild with the 'Postgres' trait"))
    }

    /// `type: parquet`, and the S3 loader's `format: parquet`, in a build without the Parquet
    /// trait say which trait brings them.
    @Test func parquetWithoutItsTraitNamesTheTrait() {
        var registry = ComponentRegistry.standard
        registry.extractors["parquet"] = nil
        registry.loaders["parquet"] = nil
        registry.partEncoders["parquet"] = nil
        registry.unavailable["parquet"] = "Parquet"
        let load = "type: sqlite, path: out/db.sqlite, table: orders, key: [id]"
        let parquet = problems(valid.replacingOccurrences(of: load, with: "type: parquet, path: out"), registry: registry)
        #expect(parquet.contains("'parquet' is not built into this binary; rebuild with the 'Parquet' trait"), "\(parquet)")
        if registry.loaders["s3"] != nil {
            let s3 = problems(
                valid.replacingOccurrences(
                    of: load, with: "type: s3, bucket: lake, format: parquet, access_key_id: a, secret_access_key: b"),
                registry: registry)
            #expect(s3.contains("format 'parquet' is not built into this binary; rebuild with the 'Parquet' trait"), "\(s3)")
        }
    }

    @Test func yamlSyntaxErrorsNameTheLine() {
        #expect(problems("pipeline: x\nextract: {type: csv\n").contains("spec.yaml:3:"))
    }

    /// A duplicate key gave Yams' message with the whole document and no usable line.
    @Test func aDuplicateKeyIsNamedAtItsSecondLine() {
        let message = problems("pipeline: x\nextract:\n  type: csv\n  path: a.csv\n  type: jsonl\nload: {type: sqlite, table: t, key: [id]}\n")
        #expect(message.contains("spec.yaml:5:3: duplicate key 'type' (first at line 3)"), "\(message)")
        #expect(!message.contains("Context"))
    }

    @Test func deadLettersNeedAQueueUnlessRejectsAreDroppedOrFail() {
        let noQueue = valid.replacingOccurrences(of: "dead_letter: {type: sqlite}\n", with: "")
        #expect(problems(noQueue).contains("there is no 'dead_letter' section"))
        #expect(problems(noQueue.replacingOccurrences(of: "on_invalid: dead_letter", with: "on_invalid: drop")).isEmpty)
    }

    @Test func constantsKeepTheirYAMLTypes() throws {
        let yaml = valid.replacingOccurrences(
            of: "transform:\n", with: "transform:\n  - {type: set, fields: {a: 1, b: 2.5, c: true, d: '1', e: ~}}\n")
        let spec = try parse(yaml)
        var batch = Batch(schema: Schema(["id", "day"]), rows: [["1", "2024-01-01"]], origins: [Origin(source: "t")])
        try spec.pipeline.transformers[0].apply(to: &batch)
        #expect(Array(batch.records[0].values.suffix(5)) == [.int(1), .double(2.5), .bool(true), .string("1"), .null])
    }
}

extension String {
    fileprivate func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
