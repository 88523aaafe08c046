/// How a batch holds its records: as rows (`[Record]`, the shape extensions and tests use) or as
/// columns with a selection vector (the data path's shape: extractors fill columns, stages write
/// new columns, loaders bind columns).
///
/// Both layouts answer `Batch.records`. A stage or loader that does not declare it works on
/// columns (`Transformer.readsColumns`, `Loader.readsColumns`) is handed a batch in the row
/// layout: the runner converts once, so code written against rows keeps its cost model.
public enum BatchLayout: Sendable {
    case rows([Record])
    case columns(BatchColumns)
}

/// The records of a batch by column.
///
/// Rows are physical: row i is the i-th record read (its `Record.ordinal`). Stages do not move
/// data to drop a record: they take it out of `selection`, and a record as read stays in the
/// batch's input for its dead letter.
public struct BatchColumns: Sendable {
    /// Aligned to the batch's schema; each column has `physicalCount` rows.
    public var columns: [Column]
    /// The physical rows still in the batch, in order.
    public var selection: [Int]
    public var physicalCount: Int

    public init(columns: [Column], selection: [Int], physicalCount: Int) {
        self.columns = columns
        self.selection = selection
        self.physicalCount = physicalCount
    }

    /// The records of the selection, as rows.
    public func materialize() -> [Record] {
        var records: [Record] = []
        records.reserveCapacity(selection.count)
        for row in selection {
            records.append(Record(values: columns.map { $0.value(row) }, ordinal: row))
        }
        return records
    }
}

/// The records of a batch as read, for dead letters: rows, or the input columns with their
/// origins (the columns the stages started from, which they never overwrite).
public enum BatchInput: Sendable {
    case rows([SourceRecord])
    case columns(InputColumns)

    public var count: Int {
        switch self {
        case .rows(let r): r.count
        case .columns(let c): c.origins.count
        }
    }
}

/// What a columnar batch was read from, by physical row.
public struct InputColumns: Sendable {
    /// Aligned to the batch's `sourceSchema`.
    public var columns: [Column]
    public var origins: [Origin]
    /// Raw input of the rows that could not be parsed (or were too large), by physical row.
    public var raws: [Int: String]
    /// Physical rows with no values (unparseable input).
    public var unreadable: Set<Int>

    public init(columns: [Column], origins: [Origin], raws: [Int: String] = [:], unreadable: Set<Int> = []) {
        self.columns = columns
        self.origins = origins
        self.raws = raws
        self.unreadable = unreadable
    }

    public func source(_ row: Int) -> SourceRecord {
        let values = unreadable.contains(row) ? [] : columns.map { $0.value(row) }
        return SourceRecord(origin: origins[row], values: values, raw: raws[row])
    }
}

extension Batch {
    /// A batch read by column: every physical row not in `unreadable` is selected.
    public init(
        schema: Schema, columns: [Column], origins: [Origin], raws: [Int: String] = [:], unreadable: Set<Int> = [],
        byteCount: Int = 0
    ) {
        let selection = unreadable.isEmpty ? Array(origins.indices) : origins.indices.filter { !unreadable.contains($0) }
        self.init(schema: schema, records: [], sources: [], byteCount: byteCount)
        layout = .columns(BatchColumns(columns: columns, selection: selection, physicalCount: origins.count))
        input = .columns(InputColumns(columns: columns, origins: origins, raws: raws, unreadable: unreadable))
    }

    /// The records, by row. In the columnar layout reading this materializes the rows (use
    /// `recordCount` for a count); writing through it converts the batch to rows once.
    public var records: [Record] {
        get {
            switch layout {
            case .rows(let r): r
            case .columns(let c): c.materialize()
            }
        }
        _modify {
            makeRows()
            guard case .rows(var r) = layout else { fatalError("makeRows leaves rows") }
            layout = .rows([])
            defer { layout = .rows(r) }
            yield &r
        }
        set { layout = .rows(newValue) }
    }

    /// The records as read, by `Record.ordinal`. In the columnar layout this materializes every
    /// row: use `source(at:)` for one.
    public var sources: [SourceRecord] {
        get {
            switch input {
            case .rows(let r): r
            case .columns(let c): c.origins.indices.map { c.source($0) }
            }
        }
        set { input = .rows(newValue) }
    }

    /// The record read at `ordinal`, as it was read.
    public func source(at ordinal: Int) -> SourceRecord {
        switch input {
        case .rows(let r): r[ordinal]
        case .columns(let c): c.source(ordinal)
        }
    }

    /// Where the record read at `ordinal` came from.
    public func origin(at ordinal: Int) -> Origin {
        switch input {
        case .rows(let r): r[ordinal].origin
        case .columns(let c): c.origins[ordinal]
        }
    }

    /// Records still in the batch (not filtered, rejected or superseded).
    public var recordCount: Int {
        switch layout {
        case .rows(let r): r.count
        case .columns(let c): c.selection.count
        }
    }

    /// The physical rows (`Record.ordinal`s) of the records still in the batch, in order.
    public var ordinals: [Int] {
        switch layout {
        case .rows(let r): r.map(\.ordinal)
        case .columns(let c): c.selection
        }
    }

    /// The physical row of the first record still in the batch.
    public var firstOrdinal: Int? {
        switch layout {
        case .rows(let r): r.first?.ordinal
        case .columns(let c): c.selection.first
        }
    }

    /// The columns, when the batch is in the columnar layout.
    public var columnar: BatchColumns? {
        if case .columns(let c) = layout { return c }
        return nil
    }

    /// Converts a columnar batch to rows (once; a row batch is left alone).
    public mutating func makeRows() {
        guard case .columns(let c) = layout else { return }
        layout = .rows(c.materialize())
    }

    /// Runs `body` on the columns in place (no copy of the column buffers). The batch must be columnar.
    public mutating func withColumns<R>(_ body: (inout BatchColumns) throws -> R) rethrows -> R {
        guard case .columns(var c) = layout else { preconditionFailure("withColumns on a row batch") }
        layout = .rows([])
        defer { layout = .columns(c) }
        return try body(&c)
    }

    /// Removes the records at `rows` (physical rows) from the selection, rejecting each with `stage`
    /// and its error.
    public mutating func reject(rows failures: [(row: Int, error: RecordError)], stage: String) {
        guard !failures.isEmpty else { return }
        for f in failures { reject(ordinal: f.row, stage: stage, error: f.error) }
        let out = Set(failures.map(\.row))
        withColumns { $0.selection.removeAll { out.contains($0) } }
    }
}

extension Batch {
    /// The record at position `i` of the batch's record order, as a row.
    public func record(at i: Int) -> Record {
        switch layout {
        case .rows(let r): return r[i]
        case .columns(let c):
            let row = c.selection[i]
            return Record(values: c.columns.map { $0.value(row) }, ordinal: row)
        }
    }

    /// Removes the records at `positions` (ascending positions in the record order), silently.
    public mutating func remove(at positions: [Int]) {
        guard !positions.isEmpty else { return }
        let out = Set(positions)
        switch layout {
        case .rows(var r):
            layout = .rows([])
            var i = -1
            r.removeAll { _ in
                i += 1
                return out.contains(i)
            }
            layout = .rows(r)
        case .columns:
            withColumns { c in
                var kept: [Int] = []
                kept.reserveCapacity(c.selection.count - out.count)
                for (i, row) in c.selection.enumerated() where !out.contains(i) { kept.append(row) }
                c.selection = kept
            }
        }
    }
}

/// Hashes key values the same way whether they come from a row or a column, so that a run's
/// key knowledge does not depend on a batch's layout.
enum KeyHash {
    /// The hash of a key that is one integer field, however the batch holds it (an int column,
    /// a mixed one, a row): a bijection of the value (MurmurHash3's 64-bit finalizer over the
    /// value and a per-process seed), so two integer keys never collide, at a fraction of a
    /// `Hasher`'s cost. Any other key is hashed by `Hasher` through `combine`.
    @inline(__always)
    static func int(_ v: Int64) -> UInt64 {
        var h = UInt64(bitPattern: v) ^ seed
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    /// Random per process, as `Hasher`'s seed is: the hashes of one run's keys are compared only
    /// within that run (the key spill included).
    private static let seed = UInt64.random(in: .min ... .max)

    static func combine(_ v: Value, into h: inout Hasher) {
        switch v {
        case .null: h.combine(UInt8(0))
        case .bool(let b):
            h.combine(UInt8(1))
            h.combine(b)
        case .int(let i):
            h.combine(UInt8(2))
            h.combine(i)
        case .double(let d):
            h.combine(UInt8(3))
            h.combine(d)
        case .timestamp(let t):
            h.combine(UInt8(4))
            h.combine(t.microseconds)
        case .string(var s):
            h.combine(UInt8(5))
            s.withUTF8 { b in
                h.combine(b.count)
                h.combine(bytes: UnsafeRawBufferPointer(b))
            }
        case .array, .object:
            h.combine(UInt8(6))
            v.hash(into: &h)
        }
    }

    static func combine(_ c: Column, _ row: Int, into h: inout Hasher) {
        if c.kind == .mixed { return combine(c.values[row], into: &h) }
        if c.isNull(row) { return h.combine(UInt8(0)) }
        switch c.kind {
        case .bool:
            h.combine(UInt8(1))
            h.combine(c.bool(row))
        case .int:
            h.combine(UInt8(2))
            h.combine(c.int(row))
        case .double:
            h.combine(UInt8(3))
            h.combine(c.double(row))
        case .timestamp:
            h.combine(UInt8(4))
            h.combine(c.fixed[row])
        case .string:
            h.combine(UInt8(5))
            c.withBytes(row) { b in
                h.combine(b.count)
                h.combine(bytes: UnsafeRawBufferPointer(b))
            }
        case .null, .mixed: h.combine(UInt8(0))
        }
    }
}
