
/// One reply from a Redis server, in the RESP2/RESP3 data model.
///
/// RESP2 nulls (`$-1`, `*-1`) and the RESP3 null (`_`) all decode to ``null``. Server error
/// replies (`-ERR …`, `!…`) are values here (``error(_:)``); ``RedisConnection/send(_:)`` turns a
/// top-level one into a thrown ``RedisError`` while ``RedisConnection/pipeline(_:)`` keeps it in
/// place (see ``RedisConnection`` for why). Push messages and attributes are dropped by the decoder.
///
/// This is an enum although the conventions prefer opaque structs: the cases mirror the RESP3
/// specification one to one, and callers need to switch over them to read replies.
public enum RESPValue: Sendable, Hashable {
    /// `+OK`: a short status string.
    case simpleString(String)
    /// `-ERR message` or the RESP3 blob error `!`: the server's message, error code word first.
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$5\r\nhello`: binary-safe bytes.
    case bulkString([UInt8])
    /// `_`, `$-1` or `*-1`.
    case null
    /// `*N`
    case array([RESPValue])
    /// RESP3 `%N`: key/value pairs in the server's order.
    case map([Pair])
    /// RESP3 `~N`
    case set([RESPValue])
    /// RESP3 `,3.14` (also `inf`, `-inf`, `nan`).
    case double(Double)
    /// RESP3 `#t` / `#f`
    case boolean(Bool)
    /// RESP3 `(3492890328409238509324850943850943825024385`: kept as its decimal text.
    case bigNumber(String)
    /// RESP3 `=15\r\ntxt:Some string`: a three letter format (`txt`, `mkd`) and the text bytes.
    /// `indirect` keeps `RESPValue` within an existential's inline buffer (24 bytes), so passing
    /// a reply through the NIO pipeline does not allocate a box per reply.
    indirect case verbatimString(format: String, text: [UInt8])

    /// A key/value pair of a RESP3 map. A struct rather than a tuple so that values stay `Hashable`.
    public struct Pair: Sendable, Hashable {
        public var key: RESPValue
        public var value: RESPValue

        public init(key: RESPValue, value: RESPValue) {
            self.key = key
            self.value = value
        }
    }
}

extension RESPValue {
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The bytes of a bulk, simple or verbatim string; `nil` for other types.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let string): Array(string.utf8)
        case .verbatimString(_, let text): text
        default: nil
        }
    }

    /// The value as text: strings decode as UTF-8 (invalid sequences are replaced), numbers and
    /// booleans are formatted. `nil` for null, errors and aggregates.
    public var string: String? {
        switch self {
        case .simpleString(let string): string
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        case .verbatimString(_, let text): String(decoding: text, as: UTF8.self)
        case .integer(let value): String(value)
        case .double(let value): String(value)
        case .bigNumber(let text): text
        case .boolean(let value): value ? "1" : "0"
        default: nil
        }
    }

    /// An integer reply, or a string holding a decimal integer (RESP2 sends some counters as
    /// text). RESP3 booleans read as 1 and 0, the integers RESP2 sends for the same replies.
    public var int: Int? {
        switch self {
        case .integer(let value): Int(exactly: value)
        case .boolean(let value): value ? 1 : 0
        case .bulkString, .simpleString, .bigNumber: self.string.flatMap { Int($0) }
        default: nil
        }
    }

    /// The elements of an array or set; `nil` otherwise (a null is not an empty array).
    public var array: [RESPValue]? {
        switch self {
        case .array(let elements), .set(let elements): elements
        default: nil
        }
    }

    /// Key/value pairs of a RESP3 map or of a RESP2 array of alternating keys and values (how
    /// RESP2 servers send the same data).
    public var pairs: [Pair]? {
        switch self {
        case .map(let pairs):
            return pairs
        case .array(let elements) where elements.count.isMultiple(of: 2):
            return stride(from: 0, to: elements.count, by: 2).map {
                Pair(key: elements[$0], value: elements[$0 + 1])
            }
        default:
            return nil
        }
    }

    /// The message of an error reply.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }
}
