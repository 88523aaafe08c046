/// JSON text to and from `Value`, byte-level and strict (RFC 8259).
///
/// Parsing:
/// - one value with optional surrounding whitespace; anything else after it is an error;
/// - integers that fit `Int64` become `.int`; fractions, exponents and larger integers become
///   `.double` (correctly rounded; overflow gives ±infinity, underflow ±0);
/// - strings must be valid UTF-8 without raw control characters; all escapes are decoded, a
///   `\uXXXX` surrogate pair becomes one scalar and a lone surrogate becomes U+FFFD;
/// - arrays and objects nest at most `maximumDepth` deep (an error, never a stack overflow);
/// - a key that appears twice keeps its first position and its last value (`Object.set`);
/// - JSON never produces `.timestamp`: timestamps arrive as strings and are cast later.
///
/// Writing is compact (no whitespace): non-ASCII is written raw as UTF-8, `.timestamp` as its
/// ISO 8601 string, doubles as their shortest round-trip text, NaN and ±infinity as `null`.
///
/// ```swift
/// let record = try JSONText.parse(#"{"id": 7, "price": 19.5, "tags": ["a"]}"#)
/// // .object: keys ["id", "price", "tags"], values [.int(7), .double(19.5), .array([.string("a")])]
/// JSONText.encode(record)  // {"id":7,"price":19.5,"tags":["a"]}
/// ```
public enum JSONText {
    /// The deepest nesting of arrays and objects that `parse` accepts.
    public static let maximumDepth = 512

    /// Parses one JSON document from UTF-8 bytes.
    ///
    /// Cost is linear in the input; strings without escapes are created straight from the bytes.
    /// - Throws: `JSONError` with the byte offset, line and column of the first problem.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> Value {
        guard bytes.count > 0, let start = bytes.baseAddress else {
            throw JSONError(code: .unexpectedEnd, message: "empty input, expected a value", offset: 0)
        }
        // Any bytes may be read as UInt8, whatever the memory was bound to.
        var parser = JSONParser(base: start.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        return try parser.parseDocument()
    }

    /// Parses documents one after another (JSON Lines, a topic's messages), reusing its buffers;
    /// records with the same fields as the one before share its key array, which saves making
    /// the keys again and lets readers map fields by the array instead of by each name.
    /// Not for use from two tasks at once.
    public final class Stream {
        private var parser = JSONParser(base: UnsafePointer(bitPattern: 1)!, count: 0)
        public init() {}

        public func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> Value {
            guard bytes.count > 0, let start = bytes.baseAddress else {
                throw JSONError(code: .unexpectedEnd, message: "empty input, expected a value", offset: 0)
            }
            parser.reset(base: start.assumingMemoryBound(to: UInt8.self), count: bytes.count)
            return try parser.parseDocument()
        }
    }

    /// Parses one JSON document from a byte array.
    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> Value {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) -> Value in try parse(raw) }
        }
        return try result.get()
    }

    /// Parses one JSON document from a string.
    public static func parse(_ string: String) throws(JSONError) -> Value {
        var string = string
        let result = string.withUTF8 { utf8 in
            Result { () throws(JSONError) -> Value in try parse(UnsafeRawBufferPointer(utf8)) }
        }
        return try result.get()
    }

    /// The compact JSON text of `value`.
    public static func encode(_ value: Value) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        JSONWriter.write(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact JSON text of `value` to `out` (no newline), for writers that build one
    /// buffer of many lines.
    public static func write(_ value: Value, into out: inout [UInt8]) {
        JSONWriter.write(value, into: &out)
    }
}
