import Foundation
import RunnelCore
import RunnelStandard
import RunnelTesting
import Testing

@testable import RunnelConfig

/// The JSON Schema of `runnel-batch schema`, checked by an independent validator (Python's
/// `jsonschema`, which scripts/test installs) against every spec the project ships.
@Suite struct SchemaTests {
    /// Validates each YAML file against the schema; prints `file: path: message` per error.
    /// Timestamps stay strings, as in YAML 1.2 (the YAML language server's reading).
    static let validator = """
        import json, sys
        try:
            import jsonschema, yaml
        except ImportError as e:
            print(f"missing Python package: {e.name}", file=sys.stderr)
            sys.exit(3)
        class Loader(yaml.SafeLoader):
            pass
        Loader.yaml_implicit_resolvers = {
            k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"] for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft7Validator.check_schema(schema)
        validator = jsonschema.Draft7Validator(schema)
        failed = False
        for path in sys.argv[2:]:
            with open(path) as f:
                document = yaml.load(f, Loader=Loader)
            for error in validator.iter_errors(document):
                failed = True
                where = ".".join(str(p) for p in error.absolute_path)
                print(f"{path}: {where}: {error.message[:300]}")
        sys.exit(1 if failed else 0)
        """

    /// Runs the validator on `specs` (name, text); returns the exit code and what it printed.
    static func validate(_ specs: [(String, String)]) throws -> CommandRunner.Output {
        let dir = try CommandRunner.temporaryDirectory("runnel-schema")
        try ComponentRegistry.standard.jsonSchema().rendered().write(
            toFile: dir + "/schema.json", atomically: true, encoding: .utf8)
        try validator.write(toFile: dir + "/validate.py", atomically: true, encoding: .utf8)
        var files: [String] = []
        for (i, (name, text)) in specs.enumerated() {
            let file =
                dir + "/\(i)-" + String(name.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            files.append(file)
        }
        let output = try CommandRunner.run(
            "/usr/bin/env", ["python3", dir + "/validate.py", dir + "/schema.json"] + files)
        if output.exitCode == 3 || output.exitCode == 127 {
            Issue.record(
                "this test needs python3 with the jsonschema and PyYAML packages (python3 -m pip install jsonschema pyyaml; scripts/test installs them): \(output.stderr)"
            )
        }
        return output
    }

    @Test func everyShippedSpecValidatesAgainstTheSchema() throws {
        let specs = try ShippedSpecTests.shippedSpecs()
        #expect(specs.count >= 5)
        let output = try Self.validate(specs)
        #expect(output.exitCode == 0, "schema validation failed:\n\(output.stdout)\(output.stderr)")
    }

    @Test func aMisspelledKeyFailsSchemaValidation() throws {
        let output = try Self.validate([
            (
                "misspelled.yaml",
                """
                pipeline: orders
                extract: {type: csv, path: in.csv, delimter: ";"}
                load: {type: sqlite, path: o.db, table: t, key: [id]}
                """
            ),
            (
                "wrong-kind.yaml",
                """
                pipeline: orders
                extract: {type: csv, path: in.csv, header: maybe}
                load: {type: sqlite, path: o.db, table: t, key: [id]}
                batching: {max_records: lots}
                """
            ),
            (
                "unknown-type.yaml",
                """
                pipeline: orders
                extract: {type: csv, path: in.csv}
                load: {type: sqlite3, path: o.db, table: t, key: [id]}
                """
            ),
            (
                "variables.yaml",
                """
                pipeline: orders
                extract: {type: csv, path: "${IN}", header: "${HEADER}"}
                load: {type: sqlite, path: o.db, table: t, key: [id], synchronous: "${SYNC:-NORMAL}"}
                batching: {max_records: "${BATCH:-100}"}
                """
            ),
        ])
        #expect(output.exitCode == 1)
        #expect(
            output.stdout.contains(
                "misspelled.yaml: extract: Additional properties are not allowed ('delimter' was unexpected)"),
            "\(output.stdout)")
        #expect(output.stdout.contains("wrong-kind.yaml: extract.header:"), "\(output.stdout)")
        #expect(output.stdout.contains("wrong-kind.yaml: batching.max_records:"), "\(output.stdout)")
        #expect(output.stdout.contains("unknown-type.yaml: load.type: 'sqlite3' is not one of"), "\(output.stdout)")
        #expect(!output.stdout.contains("variables.yaml"), "${VAR} is valid wherever a value is: \(output.stdout)")
    }

    /// docs/components.md is generated (`runnel-batch schema --markdown`); it must not drift.
    /// Needs every connector, so every trait (scripts/test builds with all of them).
    @Test(.enabled(if: ComponentRegistry.standard.unavailable.isEmpty, "needs a build with every trait"))
    func theCommittedKeyTablesAreCurrent() throws {
        let committed = try String(contentsOfFile: ShippedSpecTests.root + "/docs/components.md", encoding: .utf8)
        let generated = ComponentRegistry.standard.keyTables()
        #expect(
            committed == generated,
            "docs/components.md is out of date: run `swift run --enable-all-traits runnel-batch schema --markdown > docs/components.md`"
        )
    }

    @Test func theSchemaChecksKeysPerType() throws {
        let schema = ComponentRegistry.standard.jsonSchema().rendered()
        #expect(schema.contains("\"$schema\": \"http://json-schema.org/draft-07/schema#\""))
        #expect(schema.contains("\"const\": \"csv\""))
        #expect(schema.contains("\"empty_as_null\""))
    }
}
