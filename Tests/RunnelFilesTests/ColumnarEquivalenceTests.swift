import Foundation
import RunnelCore
import RunnelTesting
import Testing
@testable import RunnelFiles

/// The columnar path must write what the row path writes: a part file's bytes may not depend
/// on a batch's layout, or a replay after an upgrade would rewrite a part with other bytes.
@Suite struct ColumnarEquivalenceTests {
    @Test func aPartFileFromColumnsIsByteIdenticalToOneFromRows() async throws {
        let dir = try CommandRunner.temporaryDirectory()
        // Flat lines (the fast path), an escape and a nested value (the parser), a key first seen
        // late, a null, big and negative numbers, non-ASCII text and a malformed line.
        let text = """
            {"id":1,"name":"Ada","amount":12.5,"ok":true}
            {"id":2,"name":"Gr\\u00e9ce \\"G\\"","amount":-0.0,"ok":false,"tags":["a",{"b":null}]}
            {"id":3,"name":"Zoë","amount":1e3,"late":"x"}
            not json
            {"id":99999999999999999999,"name":null,"amount":0.1}

            """
        let path = dir + "/in.jsonl"
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        let reader = try await JSONLinesExtractor(.init(path: path)).open(ExtractRequest(batching: .init(maxRecords: 100)))
        let batch = try #require(try await reader.nextBatch()?.batch)
        #expect(batch.columnar != nil)
        #expect(batch.readCount == 5)
        #expect(batch.recordCount == 4)
        #expect(batch.source(at: 3).raw == "not json")

        let loader = PartFileLoader(.init(directory: dir + "/out", format: .jsonl))
        let columns = try #require(try loader.encode(batch))
        var rows = batch
        rows.makeRows()
        #expect(rows.columnar == nil)
        let fromRows = try #require(try loader.encode(rows))
        #expect(columns.name == fromRows.name)
        #expect(String(decoding: columns.bytes, as: UTF8.self) == String(decoding: fromRows.bytes, as: UTF8.self))
        #expect(columns.bytes.split(separator: 0x0A).count == 4)
    }
}
