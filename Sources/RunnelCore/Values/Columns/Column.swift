/// One field of a batch laid out by column: a value per physical row.
///
/// The layout follows Apache Arrow's: fixed-width payloads in one contiguous array (ints,
/// timestamps as microseconds, doubles by bit pattern, bools as 0/1), strings as one byte buffer
/// with offsets (Arrow's `Utf8`), and validity apart from the payload. A column whose rows do not
/// share one type (schema-less JSON, nested arrays and objects) falls back to `mixed`, a
/// `[Value]` per row — correct for anything, and the only layout that allocates per value.
///
/// One struct with a few arrays rather than an enum with payloads: appending and overwriting in
/// place then never copies a buffer (an enum payload must be taken out and put back), and empty
/// arrays cost nothing.
public struct Column: Sendable {
    public enum Kind: UInt8, Sendable, Hashable {
        /// Every row is null (a field no row of the batch has yet).
        case null
        case int, double, bool, timestamp, string
        /// Rows of differing types, or nested values: one `Value` per row.
        case mixed
    }

    public internal(set) var kind: Kind
    /// Physical rows.
    public internal(set) var count: Int
    /// int, timestamp (µs), double (bit pattern), bool (0/1); one per row.
    public internal(set) var fixed: [Int64] = []
    /// The UTF-8 bytes of every string of the column, back to back.
    public internal(set) var bytes: [UInt8] = []
    /// `string` rows: row i is `bytes[offsets[i]..<offsets[i + 1]]`; count + 1 entries.
    public internal(set) var offsets: [Int] = []
    /// `mixed` rows.
    public internal(set) var values: [Value] = []
    /// Empty when no row is null; else one flag per row (true: the row holds a value).
    public internal(set) var validity: [Bool] = []

    /// A column of `count` nulls.
    public init(nulls count: Int) {
        self.kind = .null
        self.count = count
    }

    init(kind: Kind, count: Int) {
        self.kind = kind
        self.count = count
    }

    /// A column holding `values` (typed when they share one type).
    public init(_ values: [Value]) {
        var b = ColumnBuilder()
        for v in values { b.append(v) }
        self = b.finish()
    }

    @inlinable public func isNull(_ row: Int) -> Bool {
        kind == .null || (!validity.isEmpty && !validity[row])
            || (kind == .mixed && values[row].isNull)
    }

    public var hasNulls: Bool { kind == .null || !validity.isEmpty || kind == .mixed }

    @inlinable public func int(_ row: Int) -> Int64 { fixed[row] }
    @inlinable public func double(_ row: Int) -> Double { Double(bitPattern: UInt64(bitPattern: fixed[row])) }
    @inlinable public func bool(_ row: Int) -> Bool { fixed[row] != 0 }
    @inlinable public func timestamp(_ row: Int) -> Timestamp { Timestamp(microseconds: fixed[row]) }

    /// The bytes of a string row, without copying.
    @inlinable public func withBytes<R>(_ row: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = offsets[row]
        let end = offsets[row + 1]
        return try bytes.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[start..<end]))
        }
    }

    /// Byte length of a string row.
    @inlinable public func byteCount(_ row: Int) -> Int { offsets[row + 1] - offsets[row] }

    public func string(_ row: Int) -> String {
        withBytes(row) { String(decoding: $0, as: UTF8.self) }
    }

    /// The value of one row (allocates for strings: for row views, dead letters and fallbacks).
    public func value(_ row: Int) -> Value {
        if kind == .mixed { return values[row] }
        if isNull(row) { return .null }
        switch kind {
        case .null, .mixed: return .null
        case .int: return .int(fixed[row])
        case .double: return .double(double(row))
        case .bool: return .bool(fixed[row] != 0)
        case .timestamp: return .timestamp(Timestamp(microseconds: fixed[row]))
        case .string: return .string(string(row))
        }
    }

    /// Approximate bytes held, for memory accounting.
    public var byteSize: Int {
        fixed.count * 8 + bytes.count + offsets.count * 8 + values.count * 24 + validity.count
    }
}

/// Appends rows to a column, widening its kind when a row of another type arrives (an int column
/// that meets a double stays exact by becoming mixed, as the row model kept each value's type).
public struct ColumnBuilder: Sendable {
    var column: Column
    /// A string column's bytes appended since it was started: they follow `column.bytes` and
    /// move there when the column is finished (or widened).
    private var text = TextBuffer()
    /// Rows to reserve room for when the column takes its kind (a reader's batch size), so that
    /// a large batch's arrays are not copied to twice their size again and again as they fill.
    private var expectedRows = 0

    public init(kind: Column.Kind = .null, capacity: Int = 0) {
        column = Column(kind: kind, count: 0)
        if kind == .string { column.offsets = [0] }
        expectedRows = min(max(0, capacity), 1 << 18)
        if capacity > 0 {
            switch kind {
            case .int, .double, .bool, .timestamp: column.fixed.reserveCapacity(capacity)
            case .string: column.offsets.reserveCapacity(capacity + 1)
            case .mixed: column.values.reserveCapacity(capacity)
            case .null: break
            }
        }
    }

    /// Starts from an existing column (appending after its rows).
    public init(_ column: Column) { self.column = column }

    /// An empty column that will take the kind of its first value and hold about `expectedRows`
    /// rows (at most 2^18 are reserved: a batch bounded by bytes may stop well before).
    public init(expectedRows: Int) {
        column = Column(kind: .null, count: 0)
        self.expectedRows = min(max(0, expectedRows), 1 << 18)
    }

    public var count: Int { column.count }
    public var kind: Column.Kind { column.kind }

    public mutating func finish() -> Column {
        text.move(into: &column.bytes)
        return column
    }

    /// The bytes of the string rows so far: those finished and those in `text`.
    private var byteCount: Int { column.bytes.count + text.count }

    /// Moves from `.null` (all rows so far null) to `kind`, with nulls for the rows so far.
    mutating func become(_ kind: Column.Kind) {
        let n = column.count
        column.kind = kind
        switch kind {
        case .int, .double, .bool, .timestamp:
            column.fixed = [Int64](repeating: 0, count: n)
            column.fixed.reserveCapacity(expectedRows)
        case .string:
            column.offsets = [Int](repeating: 0, count: n + 1)
            column.offsets.reserveCapacity(expectedRows + 1)
        case .mixed: column.values = [Value](repeating: .null, count: n)
        case .null: return
        }
        if n > 0, kind != .mixed { column.validity = [Bool](repeating: false, count: n) }
    }

    /// Turns a typed column into a mixed one (a row of another type arrived).
    mutating func widenToMixed() {
        guard column.kind != .mixed else { return }
        text.move(into: &column.bytes)
        var values: [Value] = []
        values.reserveCapacity(column.count + 16)
        for r in 0..<column.count { values.append(column.value(r)) }
        column = Column(kind: .mixed, count: column.count)
        column.values = values
    }

    @inline(__always) mutating func markValid() {
        if !column.validity.isEmpty { column.validity.append(true) }
    }

    public mutating func appendNull() {
        switch column.kind {
        case .null: break
        case .mixed: column.values.append(.null)
        case .int, .double, .bool, .timestamp:
            column.fixed.append(0)
            addNullFlag()
        case .string:
            column.offsets.append(byteCount)
            addNullFlag()
        }
        column.count += 1
    }

    mutating func addNullFlag() {
        if column.validity.isEmpty {
            column.validity = [Bool](repeating: true, count: column.count)
        }
        column.validity.append(false)
    }

    @inline(__always) mutating func prepare(_ kind: Column.Kind) -> Bool {
        if column.kind == kind { return true }
        if column.kind == .null {
            become(kind)
            return true
        }
        return false
    }

    public mutating func appendInt(_ v: Int64) {
        guard prepare(.int) else { return appendMixed(.int(v)) }
        column.fixed.append(v)
        markValid()
        column.count += 1
    }

    public mutating func appendDouble(_ v: Double) {
        guard prepare(.double) else { return appendMixed(.double(v)) }
        column.fixed.append(Int64(bitPattern: v.bitPattern))
        markValid()
        column.count += 1
    }

    public mutating func appendBool(_ v: Bool) {
        guard prepare(.bool) else { return appendMixed(.bool(v)) }
        column.fixed.append(v ? 1 : 0)
        markValid()
        column.count += 1
    }

    public mutating func appendTimestamp(_ v: Timestamp) {
        guard prepare(.timestamp) else { return appendMixed(.timestamp(v)) }
        column.fixed.append(v.microseconds)
        markValid()
        column.count += 1
    }

    /// Appends a string given as valid UTF-8 bytes.
    public mutating func appendString(_ utf8: UnsafeRawBufferPointer) {
        guard prepare(.string) else { return appendMixed(.string(String(decoding: utf8, as: UTF8.self))) }
        if let base = utf8.baseAddress { text.append(base, utf8.count) }
        column.offsets.append(byteCount)
        markValid()
        column.count += 1
    }

    /// Appends a string of `count` bytes that `write` puts in place (valid UTF-8): a rewritten
    /// field (lowercase, uppercase) goes into the column without a scratch copy.
    @inline(__always)
    public mutating func appendString(count: Int, _ write: (UnsafeMutableRawPointer) -> Void) {
        guard prepare(.string) else {
            let bytes = [UInt8](unsafeUninitializedCapacity: max(count, 1)) { b, n in
                write(UnsafeMutableRawPointer(b.baseAddress!))
                n = count
            }
            return appendMixed(.string(String(decoding: bytes, as: UTF8.self)))
        }
        text.append(count: count, write)
        column.offsets.append(byteCount)
        markValid()
        column.count += 1
    }

    public mutating func appendString(_ s: String) {
        var s = s
        s.withUTF8 { appendString(UnsafeRawBufferPointer($0)) }
    }

    /// Appends row `row` of `other` (same-kind copies stay typed).
    public mutating func append(from other: Column, row: Int) {
        if other.isNull(row) { return appendNull() }
        switch other.kind {
        case .int: appendInt(other.fixed[row])
        case .double: appendDouble(other.double(row))
        case .bool: appendBool(other.fixed[row] != 0)
        case .timestamp: appendTimestamp(other.timestamp(row))
        case .string:
            if column.kind == .string || column.kind == .null {
                other.bytes.withUnsafeBytes { all in
                    appendString(UnsafeRawBufferPointer(rebasing: all[other.offsets[row]..<other.offsets[row + 1]]))
                }
            } else {
                appendMixed(other.value(row))
            }
        case .mixed: append(other.values[row])
        case .null: appendNull()
        }
    }

    public mutating func append(_ v: Value) {
        switch v {
        case .null: appendNull()
        case .int(let i): appendInt(i)
        case .double(let d): appendDouble(d)
        case .bool(let b): appendBool(b)
        case .timestamp(let t): appendTimestamp(t)
        case .string(let s): appendString(s)
        case .array, .object: appendMixed(v)
        }
    }

    mutating func appendMixed(_ v: Value) {
        if column.kind == .null { become(.mixed) } else if column.kind != .mixed { widenToMixed() }
        column.values.append(v)
        column.count += 1
    }
}


extension ColumnBuilder {
    /// A new column of `physicalCount` rows derived from `source` over `selection`: `body`
    /// appends exactly one value to the builder for each selected row that is not null in
    /// `source`; every other row (unselected, or null) is null. The shape of a stage's loop over
    /// a column (cast, trim, lowercase, hash …).
    static func derive(
        _ kind: Column.Kind, from source: Column, selection: [Int], physicalCount: Int,
        _ body: (_ row: Int, _ out: inout ColumnBuilder) -> Void
    ) -> Column {
        var out = ColumnBuilder(kind: kind, capacity: physicalCount)
        var next = 0
        for row in selection {
            while next < row {
                out.appendNull()
                next += 1
            }
            next = row + 1
            if source.isNull(row) {
                out.appendNull()
            } else {
                body(row, &out)
            }
        }
        while next < physicalCount {
            out.appendNull()
            next += 1
        }
        return out.finish()
    }
}
