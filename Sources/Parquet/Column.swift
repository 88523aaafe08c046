/// An error reading or writing Parquet: a corrupt or truncated file, a feature this module does
/// not implement (named with the column), or invalid input to the writer.
public struct ParquetError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: Sendable, Hashable { case corrupt, unsupported, invalidInput, io }
        private let kind: Kind
        /// The bytes are not a valid Parquet file (truncated, out-of-range lengths, bad encodings).
        public static let corrupt = Code(kind: .corrupt)
        /// A valid file uses a feature this module does not read (nested schema, codec, encoding).
        public static let unsupported = Code(kind: .unsupported)
        /// The writer was given columns that do not match its schema.
        public static let invalidInput = Code(kind: .invalidInput)
        /// The source or sink failed.
        public static let io = Code(kind: .io)
        public var description: String {
            switch kind {
            case .corrupt: "corrupt"
            case .unsupported: "unsupported"
            case .invalidInput: "invalid_input"
            case .io: "io"
            }
        }
    }

    public var code: Code
    public var message: String
    /// The column's dotted path, when the error concerns one column.
    public var column: String?

    public init(code: Code, message: String, column: String? = nil) {
        self.code = code
        self.message = message
        self.column = column
    }

    static func corrupt(_ message: String) -> ParquetError { ParquetError(code: .corrupt, message: message) }
    static func unsupported(_ message: String, column: String? = nil) -> ParquetError {
        ParquetError(code: .unsupported, message: message, column: column)
    }

    /// A label safe for metrics: the code only.
    public var shortDescription: String { "parquet_\(code)" }

    public var description: String {
        if let column { return "parquet \(code): column '\(column)': \(message)" }
        return "parquet \(code): \(message)"
    }

    func inColumn(_ name: String) -> ParquetError {
        var e = self
        if e.column == nil { e.column = name }
        return e
    }
}

/// Variable-length byte strings stored contiguously: value `i` is `bytes[offsets[i]..<offsets[i+1]]`.
/// `offsets` has one more element than there are values and starts at 0.
public struct ByteArrays: Sendable, Equatable {
    public var bytes: [UInt8]
    public var offsets: [Int]

    public init() {
        bytes = []
        offsets = [0]
    }

    public init(bytes: [UInt8], offsets: [Int]) {
        self.bytes = bytes
        self.offsets = offsets
    }

    /// Builds from Swift strings (their UTF-8 bytes).
    public init(_ strings: some Sequence<String>) {
        self.init()
        for s in strings { append(s) }
    }

    public var count: Int { offsets.count - 1 }

    public subscript(i: Int) -> ArraySlice<UInt8> { bytes[offsets[i]..<offsets[i + 1]] }

    public func string(at i: Int) -> String { String(decoding: self[i], as: UTF8.self) }

    public mutating func append(_ s: String) {
        bytes.append(contentsOf: s.utf8)
        offsets.append(bytes.count)
    }

    public mutating func append(_ b: some Collection<UInt8>) {
        bytes.append(contentsOf: b)
        offsets.append(bytes.count)
    }

    public mutating func reserveCapacity(values: Int, bytes byteCount: Int) {
        offsets.reserveCapacity(values + 1)
        bytes.reserveCapacity(byteCount)
    }
}

/// The values of a column, one slot per row (a null row's slot holds 0, false or an empty string).
public enum ColumnValues: Sendable, Equatable {
    case boolean([Bool])
    case int32([Int32])
    case int64([Int64])
    case float([Float])
    case double([Double])
    case byteArrays(ByteArrays)

    public var count: Int {
        switch self {
        case .boolean(let v): v.count
        case .int32(let v): v.count
        case .int64(let v): v.count
        case .float(let v): v.count
        case .double(let v): v.count
        case .byteArrays(let v): v.count
        }
    }
}

/// What a column's values mean, independent of how Parquet stores them.
public struct ColumnKind: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case boolean, int32, int64, uint64, float, double, string, json, binary, date
        case timestamp(TimeUnit, utc: Bool)
        case time(TimeUnit)
        case decimal(precision: Int, scale: Int)
    }

    public enum TimeUnit: Sendable, Hashable { case millis, micros, nanos }

    let kind: Kind

    /// `ColumnValues.boolean`.
    public static let boolean = ColumnKind(kind: .boolean)
    /// `ColumnValues.int32` (also INT(8/16/32) and UINT(8/16) on read).
    public static let int32 = ColumnKind(kind: .int32)
    /// `ColumnValues.int64` (also UINT(32) on read).
    public static let int64 = ColumnKind(kind: .int64)
    /// UINT_64 on read: `ColumnValues.int64` holding each value's bit pattern (`UInt64(bitPattern:)`).
    public static let uint64 = ColumnKind(kind: .uint64)
    /// `ColumnValues.float` (also FLOAT16 on read).
    public static let float = ColumnKind(kind: .float)
    /// `ColumnValues.double`.
    public static let double = ColumnKind(kind: .double)
    /// UTF-8 text in `ColumnValues.byteArrays` (STRING, ENUM).
    public static let string = ColumnKind(kind: .string)
    /// JSON text in `ColumnValues.byteArrays` (the JSON logical type): nested values in this version.
    public static let json = ColumnKind(kind: .json)
    /// Opaque bytes in `ColumnValues.byteArrays` (BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY, UUID).
    public static let binary = ColumnKind(kind: .binary)
    /// Days since 1970-01-01 in `ColumnValues.int32`.
    public static let date = ColumnKind(kind: .date)
    /// Microseconds since the epoch, UTC, in `ColumnValues.int64`: the kind the writer uses.
    public static let timestampMicros = ColumnKind(kind: .timestamp(.micros, utc: true))
    /// A timestamp in `ColumnValues.int64` counted in `unit` (INT96 reads as nanoseconds).
    public static func timestamp(_ unit: TimeUnit, utc: Bool) -> ColumnKind {
        ColumnKind(kind: .timestamp(unit, utc: utc))
    }
    /// A time of day in `unit` (`int32` for millis, `int64` otherwise).
    public static func time(_ unit: TimeUnit) -> ColumnKind { ColumnKind(kind: .time(unit)) }
    /// A decimal, read as its exact decimal text (`"-12.30"`) in `ColumnValues.byteArrays`: text keeps
    /// every digit, where a double would round values past 15 digits.
    public static func decimal(precision: Int, scale: Int) -> ColumnKind {
        ColumnKind(kind: .decimal(precision: precision, scale: scale))
    }

    public var timeUnit: TimeUnit? {
        switch kind {
        case .timestamp(let u, _), .time(let u): u
        default: nil
        }
    }

    public var isTimestamp: Bool { if case .timestamp = kind { true } else { false } }
    public var isDecimal: Bool { if case .decimal = kind { true } else { false } }

    public var description: String {
        switch kind {
        case .boolean: "boolean"
        case .int32: "int32"
        case .int64: "int64"
        case .uint64: "uint64"
        case .float: "float"
        case .double: "double"
        case .string: "string"
        case .json: "json"
        case .binary: "binary"
        case .date: "date"
        case .timestamp(let u, let utc): "timestamp(\(u)\(utc ? ", utc" : ""))"
        case .time(let u): "time(\(u))"
        case .decimal(let p, let s): "decimal(\(p),\(s))"
        }
    }
}

/// A column's name, kind and whether it may hold nulls.
public struct ParquetField: Sendable, Hashable {
    public var name: String
    public var kind: ColumnKind
    public var nullable: Bool

    public init(name: String, kind: ColumnKind, nullable: Bool = true) {
        self.name = name
        self.kind = kind
        self.nullable = nullable
    }
}

/// One column of a row group: values with one slot per row, and which rows are not null.
///
/// ```swift
/// let ids = ParquetColumn(values: .int64([1, 2, 3]))
/// let names = ParquetColumn(values: .byteArrays(ByteArrays(["a", "", "c"])), validity: [true, false, true])
/// ```
public struct ParquetColumn: Sendable, Equatable {
    public var values: ColumnValues
    /// `validity[i]` is false when row `i` is null; nil when no row is null.
    public var validity: [Bool]?

    public init(values: ColumnValues, validity: [Bool]? = nil) {
        self.values = values
        self.validity = validity
    }

    public var count: Int { values.count }

    public func isNull(_ row: Int) -> Bool { validity.map { !$0[row] } ?? false }

    public var nullCount: Int { validity.map { $0.count { !$0 } } ?? 0 }
}
