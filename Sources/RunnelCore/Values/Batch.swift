/// A group of records read together: the records, the input they were read from, and what the
/// stages rejected.
///
/// How to commit the batch once it is stored (its position, a broker's acknowledgement) is not
/// part of it: a reader returns that beside it (`ReadResult`, `BatchCommit`). Records that a
/// stage rejects are moved from `records` to `rejections`, so the runner can route them to the
/// dead letter queue.
public struct Batch: Sendable {
    /// Field names of `records` (and of the columns, in the columnar layout).
    public var schema: Schema
    /// The records, by row or by column (see `BatchLayout`).
    public var layout: BatchLayout
    /// The records as read, before any transformation, indexed by `Record.ordinal`.
    public var input: BatchInput
    /// Field names of the records in `sources`.
    public var sourceSchema: Schema
    /// Records rejected so far, by the extractor (malformed input) or a stage.
    public var rejections: [Rejection]
    /// Approximate size of the input this batch was read from, for byte-based batching and progress.
    public var byteCount: Int
    /// Progress of the whole input, where the extractor can tell (bytes read, bytes total).
    public var progress: InputProgress?
    /// When each record entered the source, where the source knows (a stream entry's id time);
    /// feeds the end-to-end latency metric.
    public var sourceTimes: [Timestamp] = []
    /// Records of this batch whose key another record of the run also has, so that only one of
    /// them is in the target (`KeyPolicy`): counted apart from `loaded`.
    public var superseded = 0
    /// How many of `superseded` are still in `records` (last_wins writes them; the last one wins).
    public var supersededWritten = 0
    /// True when the input declares the fields (a CSV header, or `columns:`): a field a stage
    /// names that the batch lacks is then a data-contract error naming the file and the column.
    /// Otherwise (self-describing records: JSON Lines, streams, APIs) it is a field that no
    /// record of this batch happened to have, and reads as null.
    public var closedSchema = false
    /// The batch's trace: its span context when tracing is on, the contexts its input arrived
    /// with, and when each step ran (see `BatchTrace`).
    public var trace = BatchTrace()

    public init(
        schema: Schema,
        records: [Record],
        sources: [SourceRecord],
        rejections: [Rejection] = [],
        byteCount: Int = 0,
        progress: InputProgress? = nil
    ) {
        self.schema = schema
        self.layout = .rows(records)
        self.input = .rows(sources)
        self.sourceSchema = schema
        self.rejections = rejections
        self.byteCount = byteCount
        self.progress = progress
    }

    /// Builds a batch whose records are exactly its sources (the usual extractor output).
    public init(
        schema: Schema,
        rows: [[Value]],
        origins: [Origin],
        byteCount: Int = 0
    ) {
        precondition(rows.count == origins.count, "one origin per row")
        var records: [Record] = []
        records.reserveCapacity(rows.count)
        var sources: [SourceRecord] = []
        sources.reserveCapacity(rows.count)
        for (i, row) in rows.enumerated() {
            records.append(Record(values: row, ordinal: i))
            sources.append(SourceRecord(origin: origins[i], values: row))
        }
        self.init(schema: schema, records: records, sources: sources, byteCount: byteCount)
    }

    /// Records read from the source, including the ones rejected while reading.
    public var readCount: Int { input.count }

    /// Rewrites every record; a record whose body throws a `RecordError` is removed and rejected by `stage`.
    public mutating func updateRecords(stage: String, _ body: (inout Record) throws(RecordError) -> Void) {
        makeRows()
        var kept: [Record] = []
        kept.reserveCapacity(records.count)
        for var record in records {
            do {
                try body(&record)
                kept.append(record)
            } catch {
                reject(ordinal: record.ordinal, stage: stage, error: error)
            }
        }
        records = kept
    }

    /// Checks every record without changing it; a record whose check throws is removed and
    /// rejected by `stage`. Cheaper than `updateRecords` for validators: nothing is copied unless
    /// a record fails.
    public mutating func checkRecords(stage: String, _ check: (Record) throws(RecordError) -> Void) {
        makeRows()
        var failed: [Int] = []
        for i in records.indices {
            do { try check(records[i]) } catch {
                failed.append(i)
                reject(ordinal: records[i].ordinal, stage: stage, error: error)
            }
        }
        guard !failed.isEmpty else { return }
        var next = 0
        var kept: [Record] = []
        kept.reserveCapacity(records.count - failed.count)
        for i in records.indices {
            if next < failed.count, failed[next] == i {
                next += 1
            } else {
                kept.append(records[i])
            }
        }
        records = kept
    }

    /// Keeps the records for which `isIncluded` is true; the others are dropped silently (a filter, not a rejection).
    public mutating func filterRecords(_ isIncluded: (Record) -> Bool) {
        makeRows()
        records.removeAll { !isIncluded($0) }
    }

    /// Rejects the record read at `ordinal`.
    public mutating func reject(ordinal: Int, stage: String, error: RecordError) {
        rejections.append(Rejection(ordinal: ordinal, stage: stage, error: error))
    }

    /// Replaces the schema, remapping every record: `mapping[i]` is the old position of new field `i`
    /// (nil for a new field, which starts as null).
    public mutating func remap(to newSchema: Schema, mapping: [Int?]) {
        if case .columns(var c) = layout {
            // By column this is free: columns are moved, a new field is one null column.
            layout = .rows([])
            c.columns = mapping.map { $0.map { c.columns[$0] } ?? Column(nulls: c.physicalCount) }
            layout = .columns(c)
            schema = newSchema
            return
        }
        for i in records.indices {
            let old = records[i].values
            records[i].values = mapping.map { $0.map { old[$0] } ?? .null }
        }
        schema = newSchema
    }
}

/// A record as it was read, kept with its batch for dead letters and redrive.
public struct SourceRecord: Sendable {
    public var origin: Origin
    /// Values aligned to the batch's `sourceSchema`; empty when the input could not be parsed.
    public var values: [Value]
    /// The raw input (a CSV or JSON line) where there is one and it matters: for malformed input.
    public var raw: String?

    public init(origin: Origin, values: [Value], raw: String? = nil) {
        self.origin = origin
        self.values = values
        self.raw = raw
    }
}

/// A record removed from a batch by a stage, with the reason.
public struct Rejection: Sendable {
    public var ordinal: Int
    public var stage: String
    public var error: RecordError
}

/// Why one record was rejected. Names the field where there is one.
public struct RecordError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A short, stable, label-safe code: `malformed_row`, `cast_failed`, `required`, `min`, ...
    public var code: String
    public var message: String
    public var field: String?

    public init(code: String, message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String {
        if let field { return "\(field): \(message)" }
        return message
    }
}

/// How far through its whole input an extractor is, where that is known.
public struct InputProgress: Sendable, Hashable {
    public var bytesRead: Int64
    public var bytesTotal: Int64?
    public init(bytesRead: Int64, bytesTotal: Int64?) {
        self.bytesRead = bytesRead
        self.bytesTotal = bytesTotal
    }
}

/// Sent once a batch is durably stored: a broker acknowledgement (XACK), a consumer offset commit.
public protocol Acknowledgement: Sendable {
    func acknowledge() async throws
}
