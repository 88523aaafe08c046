/// A bounds-checked big-endian reader over untrusted bytes: every read checks what is left and
/// throws `PgOutputError` instead of trapping.
struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset >= bytes.count }

    private func need(_ count: Int, _ what: StaticString) throws(PgOutputError) {
        guard count >= 0, remaining >= count else {
            throw PgOutputError(.truncated, "\(what): needs \(count) bytes, \(remaining) left", offset: offset)
        }
    }

    mutating func uint8(_ what: StaticString) throws(PgOutputError) -> UInt8 {
        try need(1, what)
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func bigEndian<T: FixedWidthInteger>(_: T.Type, _ what: StaticString) throws(PgOutputError) -> T {
        let size = MemoryLayout<T>.size
        try need(size, what)
        var value: T = 0
        for i in 0..<size { value = value << 8 | T(truncatingIfNeeded: bytes[offset + i]) }
        offset += size
        return value
    }

    mutating func int16(_ what: StaticString) throws(PgOutputError) -> Int16 { try bigEndian(Int16.self, what) }
    mutating func int32(_ what: StaticString) throws(PgOutputError) -> Int32 { try bigEndian(Int32.self, what) }
    mutating func uint32(_ what: StaticString) throws(PgOutputError) -> UInt32 { try bigEndian(UInt32.self, what) }
    mutating func int64(_ what: StaticString) throws(PgOutputError) -> Int64 { try bigEndian(Int64.self, what) }
    mutating func uint64(_ what: StaticString) throws(PgOutputError) -> UInt64 { try bigEndian(UInt64.self, what) }
    mutating func lsn(_ what: StaticString) throws(PgOutputError) -> LSN { LSN(try uint64(what)) }

    mutating func bytes(_ count: Int, _ what: StaticString) throws(PgOutputError) -> [UInt8] {
        try need(count, what)
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// The rest of the input.
    mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }

    /// A NUL-terminated string (invalid UTF-8 is repaired, never trusted).
    mutating func cString(_ what: StaticString) throws(PgOutputError) -> String {
        guard let end = bytes[offset...].firstIndex(of: 0) else {
            throw PgOutputError(.truncated, "\(what): unterminated string", offset: offset)
        }
        defer { offset = end + 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }
}

/// A message that could not be decoded; `offset` is where in the message the problem was found.
public struct PgOutputError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable { case truncated, malformed, unknownMessage, unknownRelation }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The message ends before a field it announces.
        public static let truncated = Code(.truncated)
        /// A field holds a value the protocol does not allow (a negative count, an unknown tag).
        public static let malformed = Code(.malformed)
        /// A message type this decoder does not know.
        public static let unknownMessage = Code(.unknownMessage)
        /// A row change for a relation no Relation message described.
        public static let unknownRelation = Code(.unknownRelation)
        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    public var offset: Int

    public init(_ code: Code, _ message: String, offset: Int) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String { "pgoutput \(code): \(message) (at byte \(offset))" }
}
