import RunnelCore
import RunnelStandard
import Testing

@testable import RunnelConfig

private func problems(_ yaml: String, env: [String: String] = [:], registry: ComponentRegistry = .standard) -> String {
    do {
        _ = try PipelineSpec.parse(
            yaml: yaml, file: "spec.yaml", directory: "/data", environment: Environment(env), registry: registry)
        return ""
    } catch {
        return error.message
    }
}

/// Keys are declared beside each factory: what is unknown comes from the declaration, not from
/// what a factory happened to read before it stopped.
@Suite struct DeclaredKeysTests {
    @Test func anUnsetVariableIsTheOnlyProblemOfItsSection() {
        let message = problems(
            """
            pipeline: orders
            extract: {type: csv, path: "${INPUT}", cursor: updated_at}
            load: {type: sqlite, path: o.db, table: t, key: [id]}
            validate: {on_invalid: drop}
            """)
        #expect(message.contains("spec has 1 problem:"), "\(message)")
        #expect(message.contains("INPUT"), "\(message)")
        #expect(!message.contains("unknown key"), "cursor is declared, so it is not unknown: \(message)")
    }

    @Test func anUnknownLoaderTypeBringsNoProblemsAboutSectionsThatDefaultFromIt() {
        let message = problems(
            """
            pipeline: orders
            extract: {type: csv, path: in.csv}
            load: {type: sqlite3, path: o.db, table: t, key: [id]}
            checkpoint: {type: sqlite}
            dead_letter: {type: sqlite}
            """)
        #expect(message.contains("spec has 1 problem:"), "\(message)")
        #expect(
            message.contains("spec.yaml:3:") && message.contains("'sqlite3'")
                && message.contains("did you mean 'sqlite'?"), "\(message)")
        #expect(!message.contains("checkpoint") && !message.contains("dead_letter"), "\(message)")
    }

    @Test func aNodeTwoSectionsShareIsReportedOnce() {
        let message = problems(
            """
            pipeline: orders
            extract: {type: csv, path: in.csv}
            load: {type: sqlite, path: &db "${DB}", table: t, key: [id]}
            dead_letter: {type: sqlite, path: *db}
            """)
        #expect(message.contains("spec has 1 problem:") && message.contains("DB is not set"), "\(message)")
    }

    /// A kafka sink takes its brokers from a kafka extract section; a misspelled extract type is
    /// the one problem, not "missing brokers" too.
    @Test(.enabled(if: ComponentRegistry.standard.loaders["kafka"] != nil, "needs the Kafka trait"))
    func aMisspelledExtractTypeIsTheOnlyKafkaProblem() {
        let message = problems(
            """
            pipeline: orders
            extract: {type: kafak, brokers: [k:9092], topics: [orders]}
            load: {type: kafka, topic: clean}
            validate: {on_invalid: drop}
            """)
        #expect(message.contains("spec has 1 problem:") && message.contains("did you mean 'kafka'?"), "\(message)")
    }

    /// An unset `${VAR}` in a credential key is the problem, not "no S3 credentials" after it.
    @Test(.enabled(if: ComponentRegistry.standard.extractors["s3"] != nil, "needs the S3 trait"))
    func anUnsetCredentialVariableIsTheOnlyS3Problem() {
        let message = problems(
            """
            pipeline: orders
            extract: {type: s3, bucket: b, format: jsonl, access_key_id: "${KEY_ID}", secret_access_key: "${SECRET}"}
            load: {type: sqlite, path: o.db, table: t, key: [id]}
            validate: {on_invalid: drop}
            """)
        #expect(message.contains("spec has 2 problems:"), "\(message)")
        #expect(!message.contains("no S3 credentials") && !message.contains("give both"), "\(message)")
    }

    @Test func aMisspelledKeyNamesTheDeclaredKeys() {
        let message = problems(
            """
            pipeline: orders
            extract: {type: jsonl, path: in.jsonl, cusor: id}
            load: {type: sqlite, path: o.db, table: t, key: [id]}
            validate: {on_invalid: drop}
            batching: {max_record: 10}
            """)
        #expect(
            message.contains(
                "unknown key 'cusor' in extract (jsonl) (did you mean 'cursor'?); valid keys: type, path, cursor"),
            "\(message)")
        #expect(
            message.contains(
                "unknown key 'max_record' in batching (did you mean 'max_records'?); valid keys: max_records, max_bytes, max_linger"
            ), "\(message)")
    }

    @Test func everyRegisteredComponentDeclaresItsKeys() {
        let registry = ComponentRegistry.standard
        let roles: [(ComponentRegistry.Role, [String])] = [
            (.extract, Array(registry.extractors.keys)), (.transform, Array(registry.transformers.keys)),
            (.load, Array(registry.loaders.keys)), (.checkpoint, Array(registry.checkpointStores.keys)),
            (.deadLetter, Array(registry.deadLetterQueues.keys)),
            (.validationRule, Array(registry.validationRules.keys)),
            (.partEncoder, Array(registry.partEncoders.keys)),
        ]
        var count = 0
        for (role, types) in roles {
            for type in types {
                count += 1
                let keys = registry.keys(role, type)
                #expect(keys.isDeclared && !keys.summary.isEmpty, "\(role.rawValue) \(type) declares no keys")
                for key in keys.keys {
                    #expect(!key.doc.isEmpty, "\(role.rawValue) \(type).\(key.name) has no description")
                }
            }
        }
        #expect(count >= 20)
    }

    /// A factory that reads a key its declaration lacks is a bug the user cannot see (the key
    /// would be refused as unknown): every shipped spec is built and no such read may happen.
    @Test func shippedSpecsReadOnlyDeclaredKeys() throws {
        var registry = ComponentRegistry.standard
        let unavailable = Set(registry.unavailable.keys)
        registry.unavailable = [:]
        for (place, text) in try ShippedSpecTests.shippedSpecs() {
            if unavailable.contains(where: { text.contains("type: \($0)") }) { continue }
            let spec = try PipelineSpec.parse(
                yaml: text, file: place, directory: "/tmp",
                environment: ShippedSpecTests.AnyEnvironment.environment(for: text),
                registry: registry)
            #expect(spec.undeclaredReads.isEmpty, "\(place): read without being declared: \(spec.undeclaredReads)")
        }
    }

    @Test func anUndeclaredReadIsRecorded() throws {
        var registry = ComponentRegistry.standard
        registry.registerTransformer("stamp", keys: .init("Stamps records.", [.string("field", "The field.")])) { ctx in
            _ = ctx.section.string("field")
            _ = ctx.section.string("format")  // not declared
            return SelectTransformer(fields: ["id"])
        }
        let spec = try PipelineSpec.parse(
            yaml: """
                pipeline: orders
                extract: {type: csv, path: in.csv}
                transform: [{type: stamp, field: at}]
                load: {type: sqlite, path: o.db, table: t, key: [id]}
                validate: {on_invalid: drop}
                """, file: "spec.yaml", directory: "/data", environment: Environment([:]), registry: registry)
        #expect(spec.undeclaredReads == ["transform[0].format"])
    }

    @Test func aRegistrationWithoutKeysKeepsTheReadBasedCheck() {
        var registry = ComponentRegistry.standard
        registry.registerTransformer("stamp") { ctx in
            _ = ctx.section.string("field")
            return SelectTransformer(fields: ["id"])
        }
        let message = problems(
            """
            pipeline: orders
            extract: {type: csv, path: in.csv}
            transform: [{type: stamp, field: at, fromat: x}]
            load: {type: sqlite, path: o.db, table: t, key: [id]}
            validate: {on_invalid: drop}
            """, registry: registry)
        #expect(message.contains("unknown key 'fromat' in transform[0] (stamp)"), "\(message)")
        #expect(message.contains("valid keys: type, field"), "\(message)")
    }
}
