/// Reads fixed rows from memory in batches; its checkpoint is the index of the next row.
public struct MemoryExtractor: Extractor {
    public let schema: Schema
    public let rows: [[Value]]
    public let source: String

    public init(fields: [String], rows: [[Value]], source: String = "memory") {
        self.schema = Schema(fields)
        self.rows = rows
        self.source = source
    }

    public func open(_ request: ExtractRequest) async throws -> any BatchReader {
        var start = 0
        if let checkpoint = request.checkpoint {
            guard let i = Int(checkpoint.position), i >= 0, i <= rows.count else {
                throw RunnelError.config("memory checkpoint '\(checkpoint.position)' is not a row index")
            }
            start = i
        }
        let end = request.limit.map { min(rows.count, start + $0) } ?? rows.count
        return Reader(extractor: self, next: start, end: end, batchSize: request.batching.maxRecords)
    }

    final class Reader: BatchReader {
        let extractor: MemoryExtractor
        var next: Int
        let end: Int
        let batchSize: Int

        init(extractor: MemoryExtractor, next: Int, end: Int, batchSize: Int) {
            self.extractor = extractor
            self.next = next
            self.end = end
            self.batchSize = max(1, batchSize)
        }

        func read() async throws -> ReadResult {
            guard next < end else { return .end }
            let upper = min(end, next + batchSize)
            let rows = Array(extractor.rows[next..<upper])
            let origins = (next..<upper).map { Origin(source: extractor.source, line: $0 + 1) }
            next = upper
            return .batch(Batch(schema: extractor.schema, rows: rows, origins: origins), checkpoint: Checkpoint(String(upper)))
        }
    }
}
