public import RunnelCore

/// The contract every extractor keeps: a read resumed from any batch's checkpoint yields exactly
/// the records an uninterrupted read yields after that batch — nothing lost, nothing doubled.
public enum ExtractorConformance {
    /// Reads all of `extractor`, then resumes from every batch's checkpoint and compares.
    /// Returns the number of records read by the uninterrupted read.
    @discardableResult
    public static func resumesFromEveryCheckpoint(
        _ extractor: any Extractor, batching: BatchingPolicy = .init(maxRecords: 7)
    ) async throws -> Int {
        let full = try await readAll(extractor, from: nil, batching: batching)
        var consumed: [[Value]] = []
        for (checkpoint, records) in full.batches {
            consumed += records
            let rest = try await readAll(extractor, from: checkpoint, batching: batching)
            let resumed = rest.batches.flatMap(\.records)
            let expected = Array(full.batches.flatMap(\.records).dropFirst(consumed.count))
            try require(
                resumed == expected,
                "resuming from \(checkpoint?.position ?? "nil") gave \(resumed.count) records, expected \(expected.count)")
        }
        return full.batches.reduce(0) { $0 + $1.records.count }
    }

    /// Every batch of a read as (checkpoint, records as read including rejected ones' raw text).
    public static func readAll(
        _ extractor: any Extractor, from checkpoint: Checkpoint?, batching: BatchingPolicy
    ) async throws -> (batches: [(checkpoint: Checkpoint?, records: [[Value]])], count: Int) {
        let reader = try await extractor.open(ExtractRequest(checkpoint: checkpoint, batching: batching))
        var batches: [(Checkpoint?, [[Value]])] = []
        var count = 0
        while let (b, commit) = try await reader.nextBatch() {
            let rows = b.sources.map { s in s.values.isEmpty ? [Value.string("raw:" + (s.raw ?? ""))] : s.values }
            batches.append((commit.checkpoint, rows))
            count += rows.count
        }
        await reader.close()
        return (batches, count)
    }
}
