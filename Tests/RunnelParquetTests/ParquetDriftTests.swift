import Foundation
import Parquet
import RunnelCore
import RunnelFiles
import RunnelTesting
import Testing
@testable import RunnelParquet

/// A batch that does not fit the parts' schema (from the first batch) follows `schema_drift`:
/// freeze fails it naming the field, evolve widens the schema for this part and the next,
/// dead_letter refuses the records that do not fit and writes the rest under the batch's name.
@Suite struct ParquetDriftTests {
    static let schema = Schema(["id", "amount", "name"])

    static func loader(_ dir: String, _ policy: SchemaDrift, columnar: Bool) async throws -> PartFileLoader {
        var options = ParquetPartOptions()
        options.schemaDrift = policy
        var c = PartFileLoader.Configuration(directory: dir, format: .parquet)
        c.encoder = ParquetPartEncoder(options)
        let loader = PartFileLoader(c)
        try await loader.load(batch(schema, [[1, .double(1.5), "a"], [2, .double(2.5), .null]], line: 2, columnar: columnar), commit: nil)
        return loader
    }

    static func batch(_ schema: Schema, _ rows: [[Value]], line: Int, columnar: Bool) -> Batch {
        let origins = rows.indices.map { Origin(source: "in.jsonl", line: line + $0) }
        guard columnar else { return Batch(schema: schema, rows: rows, origins: origins) }
        let columns = schema.fields.indices.map { i in Column(rows.map { $0[i] }) }
        return Batch(schema: schema, columns: columns, origins: origins)
    }

    static func read(_ path: String) async throws -> (kinds: [String: ColumnKind], rows: [[String: Value]]) {
        let reader = try await ParquetReader.open(ParquetFileSource(path: path))
        var rows: [[String: Value]] = []
        for g in 0..<reader.rowGroupCount {
            let chunks = try await reader.readRowGroup(g)
            for r in 0..<(chunks.first?.values.count ?? 0) {
                var row: [String: Value] = [:]
                for (field, chunk) in zip(reader.schema, chunks) {
                    guard chunk.validity?[r] ?? true else {
                        row[field.name] = .null
                        continue
                    }
                    switch chunk.values {
                    case .int64(let v): row[field.name] = .int(v[r])
                    case .double(let v): row[field.name] = .double(v[r])
                    case .byteArrays(let v): row[field.name] = .string(v.string(at: r))
                    case .boolean(let v): row[field.name] = .bool(v[r])
                    default: row[field.name] = .null
                    }
                }
                rows.append(row)
            }
        }
        return (Dictionary(uniqueKeysWithValues: reader.schema.map { ($0.name, $0.kind) }), rows)
    }

    @Test(arguments: [false, true])
    func freezeFailsTheBatchNamingTheField(columnar: Bool) async throws {
        let dir = try CommandRunner.temporaryDirectory()
        let loader = try await Self.loader(dir, .freeze, columnar: columnar)
        let wider = Schema(["id", "amount", "name", "country"])
        do {
            _ = try await loader.load(Self.batch(wider, [[3, .double(1), "b", "FR"]], line: 9, columnar: columnar), commit: nil)
            Issue.record("a new field with values must fail under freeze")
        } catch let e as RunnelError {
            #expect(e.code == .dataContract && e.message.contains("'country'"))
        }
        // Not drift: a field null throughout, and a schema column the batch lacks (written as nulls).
        let outcome = try await loader.load(
            Self.batch(Schema(["id", "country"]), [[4, .null]], line: 20, columnar: columnar), commit: nil)
        #expect(outcome.refused.isEmpty)
        let part = try await Self.read(dir + "/part-in.jsonl-000000000020.parquet")
        #expect(part.rows == [["id": 4, "amount": .null, "name": .null]])
    }

    @Test(arguments: [false, true])
    func evolveWidensTheSchemaForThisPartAndTheNext(columnar: Bool) async throws {
        let dir = try CommandRunner.temporaryDirectory()
        let loader = try await Self.loader(dir, .evolve, columnar: columnar)
        let wider = Schema(["id", "amount", "name", "country"])
        // An int into the double column fits; text in `id` widens it to string; `country` is new.
        let outcome = try await loader.load(
            Self.batch(wider, [[3, 7, "b", "FR"], ["x-4", .double(0.5), .null, .null]], line: 9, columnar: columnar), commit: nil)
        #expect(outcome.refused.isEmpty)
        let part = try await Self.read(dir + "/part-in.jsonl-000000000009.parquet")
        #expect(part.kinds == ["id": .string, "amount": .double, "name": .string, "country": .string])
        #expect(part.rows == [
            ["id": "3", "amount": .double(7), "name": "b", "country": "FR"],
            ["id": "x-4", "amount": .double(0.5), "name": .null, "country": .null],
        ])
        // The next part keeps the wider schema.
        _ = try await loader.load(Self.batch(Self.schema, [[5, .double(1), "c"]], line: 30, columnar: columnar), commit: nil)
        let next = try await Self.read(dir + "/part-in.jsonl-000000000030.parquet")
        #expect(next.kinds["country"] == .string && next.rows == [["id": "5", "amount": .double(1), "name": "c", "country": .null]])
    }

    @Test(arguments: [false, true])
    func deadLetterRefusesTheRecordsThatDoNotFit(columnar: Bool) async throws {
        let dir = try CommandRunner.temporaryDirectory()
        let loader = try await Self.loader(dir, .deadLetter, columnar: columnar)
        let wider = Schema(["id", "amount", "name", "country"])
        // Row 0 (the part's name) has text in `amount`; row 2 a value in the new field.
        let outcome = try await loader.load(
            Self.batch(wider, [[3, "oops", "b", .null], [4, .double(4), "c", .null], [5, 6, "d", "FR"]], line: 9, columnar: columnar),
            commit: nil)
        #expect(outcome.refused.map(\.ordinal) == [0, 2])
        #expect(outcome.refused.map { "\($0.error.code) \($0.error.field ?? "")" } == ["schema_drift amount", "schema_drift country"])
        #expect(outcome.refused.first?.error.message.contains("column 'amount' is double") == true)
        #expect(outcome.refused.last?.error.message.contains("field 'country'") == true)
        let part = try await Self.read(dir + "/part-in.jsonl-000000000009.parquet")
        #expect(part.kinds == ["id": .int64, "amount": .double, "name": .string])
        #expect(part.rows == [["id": 4, "amount": .double(4), "name": "c"]])
    }

    /// A restarted run is a new loader with a new encoder: it takes the schema of the newest part
    /// in the folder, not of its own first batch, so a field the run before refused stays refused
    /// and a widened schema stays wide.
    @Test(arguments: [false, true])
    func aRestartKeepsTheSchemaOfTheNewestPart(columnar: Bool) async throws {
        let dir = try CommandRunner.temporaryDirectory()
        func restarted(_ policy: SchemaDrift) async throws -> PartFileLoader {
            var options = ParquetPartOptions()
            options.schemaDrift = policy
            var c = PartFileLoader.Configuration(directory: dir, format: .parquet)
            c.encoder = ParquetPartEncoder(options)
            let loader = PartFileLoader(c)
            try await loader.prepare(schema: nil)
            return loader
        }
        _ = try await Self.loader(dir, .freeze, columnar: columnar)
        // Freeze: the new run's first batch brings `country`; without the newest part's schema it
        // would have chosen a schema with it.
        let wider = Schema(["id", "amount", "name", "country"])
        do {
            _ = try await restarted(.freeze).load(Self.batch(wider, [[3, .double(1), "b", "FR"]], line: 9, columnar: columnar), commit: nil)
            Issue.record("a field the parts do not have must fail under freeze after a restart too")
        } catch let e as RunnelError {
            #expect(e.code == .dataContract && e.message.contains("'country'") && e.message.contains("part-in.jsonl-000000000002.parquet"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/part-in.jsonl-000000000009.parquet"))
        // Evolve: a run widens the schema, the next run (whose batch lacks the new field) keeps it.
        _ = try await restarted(.evolve).load(Self.batch(wider, [[3, .double(1), "b", "FR"]], line: 9, columnar: columnar), commit: nil)
        _ = try await restarted(.evolve).load(Self.batch(Schema(["id"]), [[7]], line: 40, columnar: columnar), commit: nil)
        let part = try await Self.read(dir + "/part-in.jsonl-000000000040.parquet")
        #expect(part.kinds == ["id": .int64, "amount": .double, "name": .string, "country": .string])
        #expect(part.rows == [["id": 7, "amount": .null, "name": .null, "country": .null]])
    }

    /// The stages' casts type the columns: a first batch where `discount` is null throughout
    /// makes a DOUBLE column, not a STRING one that later doubles would land in as text.
    @Test(arguments: [false, true])
    func declaredTypesTypeAFieldTheFirstBatchLeavesNull(columnar: Bool) async throws {
        let dir = try CommandRunner.temporaryDirectory()
        var c = PartFileLoader.Configuration(directory: dir, format: .parquet)
        c.encoder = ParquetPartEncoder()
        let inferred = try #require(PartFileLoader(c).inferringColumnTypes(["discount": .double, "id": .int]))
        #expect(inferred.description.contains("discount double"))
        let loader = inferred.loader
        let schema = Schema(["id", "discount"])
        _ = try await loader.load(Self.batch(schema, [[1, .null], [2, .null]], line: 2, columnar: columnar), commit: nil)
        _ = try await loader.load(Self.batch(schema, [[3, .double(0.25)]], line: 4, columnar: columnar), commit: nil)
        let first = try await Self.read(dir + "/part-in.jsonl-000000000002.parquet")
        let next = try await Self.read(dir + "/part-in.jsonl-000000000004.parquet")
        #expect(first.kinds == ["id": .int64, "discount": .double] && next.kinds == first.kinds)
        #expect(next.rows == [["id": 3, "discount": .double(0.25)]])
    }

    @Test func anUnreadableNewestPartIsAnErrorNamingIt() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        try Data("not parquet".utf8).write(to: URL(fileURLWithPath: dir + "/part-in.jsonl-000000000002.parquet"))
        var c = PartFileLoader.Configuration(directory: dir, format: .parquet)
        c.encoder = ParquetPartEncoder()
        do {
            try await PartFileLoader(c).prepare(schema: nil)
            Issue.record("a damaged newest part must stop the loader")
        } catch let e as RunnelError {
            #expect(e.code == .dataContract && e.message.contains("part-in.jsonl-000000000002.parquet"))
        }
    }

    /// Through the runner: the refused records are dead letters holding the record as read, the
    /// rest is in the part, and the run counts both.
    @Test func refusedRecordsBecomeDeadLettersInARun() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        var options = ParquetPartOptions()
        options.schemaDrift = .deadLetter
        var c = PartFileLoader.Configuration(directory: dir, format: .parquet)
        c.encoder = ParquetPartEncoder(options)
        let rows: [[Value]] = [[1, .double(1.5)], [2, .double(2.5)], [3, "n/a"], [4, .double(4.5)]]
        let letters = MemoryDeadLetterQueue()
        var invalid = InvalidRecordPolicy()
        invalid.maxInvalidRatio = 1
        let pipeline = Pipeline(
            name: "p", extractor: MemoryExtractor(fields: ["id", "amount"], rows: rows), loader: PartFileLoader(c),
            deadLetters: letters, invalidRecords: invalid, batching: .init(maxRecords: 2))
        let summary = await PipelineRunner(pipeline: pipeline).run()
        #expect(summary.exitCode == 0 && summary.loaded == 3 && summary.deadLettered == 1)
        let parked = try await letters.list(pipeline: "p", limit: nil)
        #expect(parked.map(\.errorCode) == ["schema_drift"] && parked.first?.record?.values == [3, "n/a"])
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".parquet") }.sorted()
        var ids: [Value] = []
        for f in files { ids += try await Self.read(dir + "/" + f).rows.map { $0["id"]! } }
        #expect(ids == [1, 2, 4])
    }
}
