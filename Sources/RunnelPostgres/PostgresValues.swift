import PostgresNIO
public import RunnelCore

/// SQL text helpers: identifiers are always quoted, so names from a spec cannot inject SQL.
public enum PostgresSQL {
    /// `"name"`, with embedded quotes doubled.
    /// Checks that `identifier` survives as a PostgreSQL name: no NUL (the protocol's strings
    /// end at one) and at most 63 bytes (the server silently truncates longer names, so two
    /// fields could land in one column). `role` says what it names, for the error.
    public static func checkIdentifier(_ identifier: String, role: String) throws(RunnelError) {
        if identifier.utf8.contains(0) {
            throw RunnelError.dataContract("\(role) \(identifier.debugDescription) holds a NUL character, which PostgreSQL names cannot hold")
        }
        if identifier.utf8.count > 63 {
            throw RunnelError.dataContract(
                "\(role) \(identifier.debugDescription) is \(identifier.utf8.count) bytes long; PostgreSQL names hold at most 63")
        }
    }

    public static func quote(_ identifier: String) -> String {
        var out = "\""
        for c in identifier { if c == "\"" { out += "\"\"" } else { out.append(c) } }
        return out + "\""
    }

    /// `"schema"."table"`, or `"table"` when no schema is given (the search path decides).
    public static func qualified(schema: String?, table: String) -> String {
        schema.map { quote($0) + "." + quote(table) } ?? quote(table)
    }

    /// A string literal, for the few places a parameter cannot go (DDL).
    public static func literal(_ text: String) -> String {
        var out = "'"
        for c in text { if c == "'" { out += "''" } else { out.append(c) } }
        return out + "'"
    }

    /// FNV-1a, for names derived from other names (staging tables), stable across runs.
    static func hash(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return String(h, radix: 16)
    }
}

/// Writes values in COPY's text format: one line per row, fields separated by tabs, `\N` for
/// null, and backslash, tab, newline and carriage return escaped inside fields. The server
/// parses each field with the target column's input function, so a timestamp written as
/// ISO 8601 lands in `timestamptz`, `timestamp` or `date` alike.
public struct CopyTextWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    public mutating func fieldSeparator() { bytes.append(0x09) }
    public mutating func endRow() { bytes.append(0x0A) }

    public mutating func write(_ value: Value) {
        switch value {
        case .null: bytes.append(contentsOf: [0x5C, 0x4E])  // \N
        case .bool(let b): bytes.append(b ? 0x74 : 0x66)  // t / f
        case .int(let i): writeInt(i)
        case .double(let d): writeDouble(d)
        case .string(let s): writeEscaped(s)
        case .timestamp(let t): writeTimestamp(t)
        case .array, .object:
            var json: [UInt8] = []
            JSONText.write(value, into: &json)
            json.withUnsafeBufferPointer { writeEscaped($0) }
        }
    }

    /// The text reads back to the same float8 (or real, or numeric) in the server.
    public mutating func writeDouble(_ d: Double) {
        if DoubleText.writeShort(d, into: &bytes) { return }
        writeEscaped(d.isNaN ? "NaN" : d.isInfinite ? (d > 0 ? "Infinity" : "-Infinity") : d.description)
    }

    public mutating func writeInt(_ i: Int64) {
        if i == 0 {
            bytes.append(0x30)
            return
        }
        var v = i.magnitude
        if i < 0 { bytes.append(0x2D) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while v > 0 {
                d[n] = UInt8(truncatingIfNeeded: v % 10) &+ 0x30
                v /= 10
                n += 1
            }
            for k in stride(from: n - 1, through: 0, by: -1) { bytes.append(d[k]) }
        }
    }

    /// `YYYY-MM-DD HH:MM:SS.ffffff+00`, written without going through a String.
    mutating func writeTimestamp(_ t: Timestamp) {
        let (y, m, d, sod, micros) = t.components
        guard (1...9999).contains(y) else {
            writeEscaped(t.iso8601)
            return
        }
        pad(y, 4)
        bytes.append(0x2D)
        pad(Int64(m), 2)
        bytes.append(0x2D)
        pad(Int64(d), 2)
        bytes.append(0x20)
        pad(sod / 3600, 2)
        bytes.append(0x3A)
        pad(sod / 60 % 60, 2)
        bytes.append(0x3A)
        pad(sod % 60, 2)
        if micros != 0 {
            bytes.append(0x2E)
            pad(micros, 6)
        }
        bytes.append(contentsOf: [0x2B, 0x30, 0x30])  // +00
    }

    private mutating func pad(_ v: Int64, _ width: Int) {
        var div: Int64 = 1
        for _ in 1..<width { div *= 10 }
        var v = v
        while div > 0 {
            bytes.append(UInt8(truncatingIfNeeded: v / div) &+ 0x30)
            v %= div
            div /= 10
        }
    }

    public mutating func writeEscaped(_ s: String) {
        var s = s
        s.withUTF8 { writeEscaped($0) }
    }

    private mutating func writeEscapedSlow(_ utf8: some Collection<UInt8>) {
        for b in utf8 {
            switch b {
            case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
            case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
            case 0x00: break  // PostgreSQL text cannot hold NUL
            default: bytes.append(b)
            }
        }
    }

    mutating func writeEscaped(_ buffer: UnsafeBufferPointer<UInt8>) {
        // Fast path: most fields need no escaping.
        if !buffer.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x00 }) {
            bytes.append(contentsOf: buffer)
        } else {
            writeEscapedSlow(buffer)
        }
    }
}

/// Reads result cells (binary format, as postgres-nio requests them) into `Value`s.
///
/// Decoded natively: bool, int2/4/8, float4/8, text/varchar/bpchar/name, timestamp and timestamptz
/// (as `timestamp`; a `timestamp` without zone is read as UTC), date (as `YYYY-MM-DD` text),
/// json and jsonb (as arrays and objects). Every other type is selected as `::text` by the
/// extractor (numeric keeps its exact digits as text; `cast` it where a number is needed).
enum PostgresDecoding {
    /// The type OIDs `value(_:)` decodes; other columns are cast to text in the query.
    static let native: Set<UInt32> = [
        PostgresDataType.bool.rawValue, PostgresDataType.int2.rawValue, PostgresDataType.int4.rawValue,
        PostgresDataType.int8.rawValue, PostgresDataType.float4.rawValue, PostgresDataType.float8.rawValue,
        PostgresDataType.text.rawValue, PostgresDataType.varchar.rawValue, PostgresDataType.bpchar.rawValue,
        PostgresDataType.name.rawValue, PostgresDataType.timestamp.rawValue, PostgresDataType.timestamptz.rawValue,
        PostgresDataType.date.rawValue, PostgresDataType.json.rawValue, PostgresDataType.jsonb.rawValue,
    ]

    /// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
    static let epochOffset: Int64 = 946_684_800 * 1_000_000

    static func value(_ cell: PostgresCell) -> Value {
        guard var buf = cell.bytes else { return .null }
        let text = cell.format == .text
        switch cell.dataType {
        case .bool:
            if text { return .bool(buf.readString(length: buf.readableBytes) == "t") }
            return .bool((buf.readInteger(as: UInt8.self) ?? 0) != 0)
        case .int2:
            if text { return int(buf) }
            return buf.readInteger(as: Int16.self).map { .int(Int64($0)) } ?? .null
        case .int4:
            if text { return int(buf) }
            return buf.readInteger(as: Int32.self).map { .int(Int64($0)) } ?? .null
        case .int8:
            if text { return int(buf) }
            return buf.readInteger(as: Int64.self).map { .int($0) } ?? .null
        case .float4:
            if text { return double(buf) }
            return buf.readInteger(as: UInt32.self).map { .double(Double(Float(bitPattern: $0))) } ?? .null
        case .float8:
            if text { return double(buf) }
            return buf.readInteger(as: UInt64.self).map { .double(Double(bitPattern: $0)) } ?? .null
        case .timestamp, .timestamptz:
            if text { return .string(buf.readString(length: buf.readableBytes) ?? "") }
            guard let v = buf.readInteger(as: Int64.self) else { return .null }
            if v == .max || v == .min { return .string(v == .max ? "infinity" : "-infinity") }
            return .timestamp(Timestamp(microseconds: v &+ epochOffset))
        case .date:
            if text { return .string(buf.readString(length: buf.readableBytes) ?? "") }
            guard let v = buf.readInteger(as: Int32.self) else { return .null }
            if v == .max || v == .min { return .string(v == .max ? "infinity" : "-infinity") }
            let (y, m, d) = CivilDate.fromDays(Int64(v) + 10_957)
            return .string(pad(y, 4) + "-" + pad(Int64(m), 2) + "-" + pad(Int64(d), 2))
        case .json, .jsonb:
            if cell.dataType == .jsonb, !text { buf.moveReaderIndex(forwardBy: 1) }  // version byte
            let s = buf.readString(length: buf.readableBytes) ?? ""
            return (try? JSONText.parse(s)) ?? .string(s)
        default:
            return .string(buf.readString(length: buf.readableBytes) ?? "")
        }
    }

    /// A cell as text (the extractor's `::text` position columns).
    static func text(_ cell: PostgresCell) -> String? {
        guard var buf = cell.bytes else { return nil }
        return buf.readString(length: buf.readableBytes)
    }

    private static func int(_ buf: ByteBuffer) -> Value {
        var b = buf
        return b.readString(length: b.readableBytes).flatMap { Int64($0) }.map(Value.int) ?? .null
    }

    private static func double(_ buf: ByteBuffer) -> Value {
        var b = buf
        return b.readString(length: b.readableBytes).flatMap { Double($0) }.map(Value.double) ?? .null
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
