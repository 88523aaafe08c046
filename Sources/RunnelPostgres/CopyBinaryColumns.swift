import RunnelCore

/// COPY's binary format straight from a columnar batch. The server then reads each field with
/// the column type's receive function instead of parsing text: no number, timestamp or escape is
/// formatted here or parsed there (psql, 1M rows of the benchmark's table: binary COPY takes about
/// a fifth less server time than the same rows as text).
///
/// The binary format has no conversions: a field must be the exact wire form of the target
/// column's type. So a batch is written in binary only when `plan` finds, for every column, an
/// encoding that stores the value the text format would have stored (an `int` into `bigint`,
/// `integer` or `smallint` when every value fits, into `double precision` or `numeric`; a
/// `double` into `double precision` or `numeric` (from the decimal text the text format writes:
/// `NumericBinary`); text into `text`, `varchar`, `char`, `json`, `jsonb`; a timestamp into
/// either timestamp type; a bool into `boolean`; a column that is null throughout into anything).
/// Any other pairing (a string into `numeric` or `date`, a double into `real`, a `mixed` column, a domain) sends that
/// batch as text, where the server's input functions convert it or reject it as before.
enum CopyBinaryColumns {
    enum Encoding: Equatable {
        case null, int8, int4, int2, float8FromInt, float8, numericFromInt, numericFromDouble, bool, timestamp, text, jsonb
    }

    /// The encoding of each column (`positions[i]`, the batch column written as the i-th COPY
    /// column `names[i]`, of type `types[i]` as `format_type` spells it), or why the batch goes as
    /// text.
    static func plan(_ data: BatchColumns, positions: [Int?], names: [String], types: [String?]) -> Result<[Encoding], TextReason> {
        var plan: [Encoding] = []
        plan.reserveCapacity(positions.count)
        for (i, position) in positions.enumerated() {
            guard let position else {
                plan.append(.null)
                continue
            }
            let column = data.columns[position]
            guard let type = types[i], let encoding = encoding(column.kind, into: type) else {
                return .failure(TextReason("column '\(names[i])' (\(types[i] ?? "of unknown type")) gets \(column.kind) values"))
            }
            let range: ClosedRange<Int64>? =
                switch encoding {
                case .int4: Int64(Int32.min)...Int64(Int32.max)
                case .int2: Int64(Int16.min)...Int64(Int16.max)
                // Microseconds from 2000 must not wrap (years before about -290,000).
                case .timestamp: (Int64.min + postgresEpochMicros)...Int64.max
                default: nil
                }
            if let range, !fits(column, data.selection, in: range) {
                // The server words the error, as for any batch sent as text.
                return .failure(TextReason("column '\(names[i])' (\(type)) gets a value out of its range"))
            }
            plan.append(encoding)
        }
        return .success(plan)
    }

    /// Why a batch is sent as text (for the debug log).
    struct TextReason: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func encoding(_ kind: Column.Kind, into type: String) -> Encoding? {
        switch (kind, type) {
        case (.null, _): return .null
        case (.int, "bigint"): return .int8
        case (.int, "integer"): return .int4
        case (.int, "smallint"): return .int2
        case (.int, "double precision"): return .float8FromInt
        case (.int, "numeric"): return .numericFromInt
        case (.double, "double precision"): return .float8
        case (.double, "numeric"): return .numericFromDouble
        case (.bool, "boolean"): return .bool
        case (.timestamp, "timestamp with time zone"), (.timestamp, "timestamp without time zone"): return .timestamp
        case (.string, "text"), (.string, "character varying"), (.string, "character"), (.string, "json"): return .text
        case (.string, "jsonb"): return .jsonb
        default: return nil
        }
    }

    private static func fits(_ column: Column, _ selection: [Int], in range: ClosedRange<Int64>) -> Bool {
        let views = ColumnViews([column])
        return views.withViews { v in
            selection.allSatisfy { v[0].isNull($0) || range.contains(v[0].int($0)) }
        }
    }

    /// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00:00 UTC).
    static let postgresEpochMicros: Int64 = 946_684_800_000_000

    /// The selected rows of `data` (with `ordinal`, the row's place in the selection first, a
    /// `bigint`) in the encodings `plan` chose, handed to `send` in chunks of about `chunk` bytes.
    static func write(
        _ data: BatchColumns, positions: [Int?], encodings: [Encoding], ordinal: Bool, chunk: Int,
        send: ([UInt8]) async throws -> Void
    ) async throws {
        let views = ColumnViews(positions.map { $0.map { data.columns[$0] } })
        var w = CopyBinaryWriter(capacity: chunk + (1 << 12))
        w.header()
        let fields = Int16(encodings.count + (ordinal ? 1 : 0))
        for (n, row) in data.selection.enumerated() {
            w.int16(fields)
            if ordinal {
                w.int32(8)
                w.int64(Int64(n))
            }
            views.withViews { v in
                for i in 0..<v.count { w.write(v[i], row: row, as: encodings[i]) }
            }
            if w.bytes.count >= chunk {
                try await send(w.bytes)
                w.removeAll()
            }
        }
        w.int16(-1)  // the trailer
        try await send(w.bytes)
    }
}

/// Bytes in COPY's binary format: a header, then per row a field count and each field as its
/// length (-1: null) and its bytes, all integers big-endian.
struct CopyBinaryWriter {
    private(set) var bytes: [UInt8] = []
    /// A number's COPY text, for `numeric`: the server reads the same decimal either way.
    private var decimal = CopyTextWriter(capacity: 64)

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    /// `PGCOPY\n\377\r\n\0`, no flags (no OIDs), no header extension.
    mutating func header() {
        bytes.append(contentsOf: [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00])
        int32(0)
        int32(0)
    }

    @inline(__always) mutating func int16(_ v: Int16) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    @inline(__always) mutating func int32(_ v: Int32) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    @inline(__always) mutating func int64(_ v: Int64) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }

    /// A `numeric` field. `encode` reads every text `CopyTextWriter` writes for a finite number;
    /// were one ever refused, the empty field makes the server fail the COPY, not store a value.
    private mutating func numeric(_ field: [UInt8]?) {
        let field = field ?? []
        int32(Int32(field.count))
        bytes.append(contentsOf: field)
    }

    @inline(__always)
    mutating func write(_ view: ColumnViews.View, row: Int, as encoding: CopyBinaryColumns.Encoding) {
        if view.isNull(row) {
            int32(-1)
            return
        }
        switch encoding {
        case .null: int32(-1)
        case .int8:
            int32(8)
            int64(view.int(row))
        case .int4:
            int32(4)
            int32(Int32(truncatingIfNeeded: view.int(row)))  // in range: `plan` checked every row
        case .int2:
            int32(2)
            int16(Int16(truncatingIfNeeded: view.int(row)))
        case .float8FromInt:
            int32(8)
            int64(Int64(bitPattern: Double(view.int(row)).bitPattern))
        case .float8:
            int32(8)
            int64(Int64(bitPattern: view.double(row).bitPattern))
        case .numericFromInt:
            decimal.removeAll()
            decimal.writeInt(view.int(row))
            numeric(NumericBinary.encode(decimal.bytes))
        case .numericFromDouble:
            let d = view.double(row)
            decimal.removeAll()
            decimal.writeDouble(d)
            numeric(NumericBinary.special(d) ?? NumericBinary.encode(decimal.bytes))
        case .bool:
            int32(1)
            bytes.append(view.bool(row) ? 1 : 0)
        case .timestamp:
            int32(8)
            int64(view.int(row) &- CopyBinaryColumns.postgresEpochMicros)
        case .text:
            let text = view.text(row)
            int32(Int32(text.count))
            bytes.append(contentsOf: text)
        case .jsonb:
            let text = view.text(row)
            int32(Int32(text.count + 1))
            bytes.append(1)  // jsonb's binary form: a version byte, then the JSON text
            bytes.append(contentsOf: text)
        }
    }
}
