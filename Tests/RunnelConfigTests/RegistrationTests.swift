import Foundation
import RunnelCore
import RunnelFiles
import RunnelSQLite
import Testing
@testable import RunnelConfig
import RunnelStandard

private func build(_ yaml: String, order: [String] = PipelineSpec.buildOrder, env: [String: String] = [:]) throws(RunnelError) -> PipelineSpec {
    try PipelineSpec.parse(
        yaml: yaml, file: "spec.yaml", directory: "/data", environment: Environment(env), registry: .standard, order: order)
}

private func problems(_ yaml: String, env: [String: String] = [:]) -> [String] {
    do {
        _ = try build(yaml, env: env)
        return []
    } catch {
        return error.message.split(separator: "\n").dropFirst().map { String($0).trimmingCharacters(in: .whitespaces) }
    }
}

private let sqliteSpec = """
    pipeline: orders
    extract: {type: csv, path: in/orders.csv}
    load: {type: sqlite, path: out/db.sqlite, table: orders, key: [id], synchronous: NORMAL}
    checkpoint: {type: sqlite}
    dead_letter: {type: sqlite}
    """

private let postgresSpec = """
    pipeline: orders
    extract: {type: csv, path: in/orders.csv}
    load: {type: postgres, connection: {host: 127.0.0.1, database: shop, user: runnel}, table: orders, key: [id]}
    checkpoint: {type: postgres, table: my_checkpoints}
    dead_letter: {type: postgres}
    """

@Suite struct RegistrationTests {
    /// The pipeline a spec builds does not depend on which section is built first: defaults one
    /// section takes from another (the loader's file or pool) are read from the spec itself.
    /// PostgreSQL pools are not opened to build a spec, but the type is there only with its trait.
    @Test(arguments: ComponentRegistry.standard.loaders["postgres"] == nil ? [sqliteSpec] : [sqliteSpec, postgresSpec])
    func buildOrderDoesNotChangeThePipeline(yaml: String) throws {
        let forward = try build(yaml)
        let backward = try build(yaml, order: PipelineSpec.buildOrder.reversed())
        #expect(forward.pipeline.checkpointsInLoad, "the checkpoint shares the loader's transaction")
        #expect(backward.pipeline.checkpointsInLoad)
        #expect(forward.pipeline.loader.target == backward.pipeline.loader.target)
        #expect(forward.pipeline.deadLetters?.target == backward.pipeline.deadLetters?.target)
        #expect(forward.pipeline.loader.transactionDomain == forward.pipeline.checkpoints?.transactionDomain)
        #expect(forward.pipeline.lease == nil ? backward.pipeline.lease == nil : backward.pipeline.lease != nil)
        #expect(forward.types == backward.types)
        #expect(forward.commitMode == backward.commitMode)
    }

    @Test func theLoadersSynchronousSettingHoldsWhicheverSectionAsksFirst() throws {
        for order in [PipelineSpec.buildOrder, PipelineSpec.buildOrder.reversed()] {
            let spec = try build(sqliteSpec, order: order)
            let loader = try #require(spec.pipeline.loader as? SQLiteLoader)
            #expect(loader.database.configuration.synchronous == "NORMAL")
        }
    }

    @Test func validateSaysWhetherTheCheckpointIsInTheLoadTransaction() throws {
        #expect(try build(sqliteSpec).commitMode.first == "checkpoint: sqlite (in the loader's transaction: effectively once)")
        let separate = sqliteSpec.replacingOccurrences(of: "checkpoint: {type: sqlite}", with: "checkpoint: {type: file, path: state}")
        #expect(try build(separate).commitMode.first?.hasPrefix("checkpoint: file (saved after each load") == true)
        // The postgres loader writes the checkpoint table its checkpoint section names.
        if ComponentRegistry.standard.loaders["postgres"] != nil {
            #expect(try build(postgresSpec).pipeline.checkpointsInLoad, "the loader writes the table the checkpoint section names")
        }
    }

    @Test func aBrokenLoaderPathIsReportedOnceWithoutFollowOnProblems() {
        let broken = sqliteSpec.replacingOccurrences(
            of: "load: {type: sqlite, path: out/db.sqlite, table: orders, key: [id], synchronous: NORMAL}",
            with: "load:\n  type: sqlite\n  path: ${UNSET_DIR}/db.sqlite\n  table: orders\n  key: [id]")
        let found = problems(broken)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.contains("load.path") == true && found.first?.contains("UNSET_DIR") == true)
    }

    @Test func aBadMemorySettingIsNamedWithItsPlaceAndAGoodOneSizesTheWindow() throws {
        let found = problems(sqliteSpec + "\nmemory: {max_fraction: 1.5, max_bytes: lots}")
        #expect(found.count == 2, "\(found)")
        #expect(found.contains { $0.contains("spec.yaml:6:") && $0.contains("memory.max_fraction") && $0.contains("at most 1") }, "\(found)")
        #expect(found.contains { $0.contains("memory.max_bytes") }, "\(found)")
        let spec = try build(sqliteSpec + "\nmemory: {max_bytes: 64MiB}")
        #expect(spec.pipeline.memory.bytes == 64 << 20)
        #expect(spec.commitMode.last == "memory window: 64 MiB (memory.max_bytes)")
        // The SQLite page cache follows the window: an eighth of it.
        let loader = try #require(spec.pipeline.loader as? SQLiteLoader)
        #expect(loader.database.configuration.cacheBytes == 8 << 20)
    }

    @Test func aMissingLoadSectionIsTheOnlyProblem() {
        let noLoad = sqliteSpec.split(separator: "\n").filter { !$0.hasPrefix("load:") }.joined(separator: "\n")
        let found = problems(noLoad)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.contains("missing required key 'load'") == true)
    }

    @Test func aSQLiteCheckpointWithoutPathNamesTheActualLoader() {
        let jsonl = sqliteSpec.replacingOccurrences(
            of: "{type: sqlite, path: out/db.sqlite, table: orders, key: [id], synchronous: NORMAL}", with: "{type: jsonl, path: out}")
            .replacingOccurrences(of: "dead_letter: {type: sqlite}", with: "dead_letter: {type: jsonl, path: dl}")
        let found = problems(jsonl)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.contains("checkpoint: missing required key 'path'") == true)
        #expect(found.first?.contains("the loader is jsonl") == true)
    }

    @Test func anUnquotedVariableInAFlowMappingSaysToQuoteIt() {
        let yaml = "pipeline: x\nextract: {type: csv, path: ${IN}}\n"
        do {
            _ = try build(yaml, env: ["IN": "a.csv"])
            Issue.record("the spec built")
        } catch {
            #expect(error.message.contains("spec.yaml:2:"), "\(error.message)")
            #expect(error.message.contains("quote a ${VAR}"), "\(error.message)")
        }
    }

    @Test func aTabInTheIndentationIsNamedAtItsLineAndColumn() {
        let yaml = "pipeline: x\nextract:\n\ttype: csv\n"
        do {
            _ = try build(yaml)
            Issue.record("a tab-indented spec built")
        } catch {
            #expect(error.message.contains("spec.yaml:3:1:"), "\(error.message)")
            #expect(error.message.contains("YAML indentation must use spaces"), "\(error.message)")
        }
        // A tab inside a quoted value is not indentation.
        #expect(PipelineSpec.indentationTab(in: "a: \"x\ty\"\n") == nil)
    }

    /// The bundle's table of optional connectors says which types each trait brings; it must
    /// match what the connectors register, so a build without a trait names the right one.
    @Test func theBundleTableMatchesWhatConnectorsRegister() {
        let light = ComponentRegistry.alwaysBuiltIn
        let standard = ComponentRegistry.standard
        let optional = standard.registeredTypes.subtracting(light.registeredTypes)
        var listed = Set<String>()
        for connector in ComponentRegistry.optionalConnectorTypes {
            listed.formUnion(connector.types)
            for type in connector.types {
                if connector.builtIn {
                    #expect(standard.registeredTypes.contains(type), "\(connector.trait) lists \(type) but does not register it")
                } else {
                    #expect(standard.unavailable[type] == connector.trait)
                }
            }
        }
        #expect(optional.isSubset(of: listed), "registered but not in the bundle's table: \(optional.subtracting(listed))")
    }
}
