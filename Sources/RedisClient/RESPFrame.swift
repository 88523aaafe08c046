public import NIOCore

/// One complete reply as the server sent it: checked token by token while the decoder framed it,
/// not yet decoded. `value()` builds the reply's `RESPValue`; replies that carry data in bulk
/// (stream entries) are read in place instead (`StreamEntries`), without a value per element.
public struct RESPFrame: Sendable {
    /// The reply's bytes, from its type byte to its last CRLF.
    public let bytes: ByteBuffer

    init(_ bytes: ByteBuffer) {
        self.bytes = bytes
    }

    /// The reply as a value. An error reply is a `.error` value here (`send` throws it).
    public func value() throws -> RESPValue {
        try bytes.withUnsafeReadableBytes { try RESPParser.value(of: $0) }
    }

    /// Whether the reply is an error (`-ERR …` or the RESP3 blob error `!`).
    var isError: Bool {
        guard let type = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) else { return false }
        return type == UInt8(ascii: "-") || type == UInt8(ascii: "!")
    }
}

/// Reads the tokens of a framed reply in place. The frame was checked while it was framed (every
/// length, line end and count), so the reads here trust it and only ask what each token is.
struct RESPCursor {
    enum Head {
        case null
        /// A bulk, simple or verbatim string's bytes (a verbatim string's text, after its format).
        case blob(UnsafeRawBufferPointer)
        /// An array, set, map or nested push, positioned at its first element; a map's pairs
        /// count as two elements each.
        case aggregate(elements: Int)
        /// An integer, double, boolean, big number or error.
        case other
    }

    let bytes: UnsafeRawBufferPointer
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// The next token; attributes (which annotate the value after them) are passed over.
    mutating func next() -> Head {
        while true {
            let type = bytes[offset]
            switch type {
            case UInt8(ascii: "$"), UInt8(ascii: "="):
                let length = lengthLine()
                if length < 0 { return .null }
                let start = offset
                offset += length + 2
                // A verbatim string's text follows its three letter format and a colon.
                let skip = type == UInt8(ascii: "=") ? 4 : 0
                return .blob(UnsafeRawBufferPointer(rebasing: bytes[(start + skip)..<(start + length)]))
            case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"):
                let count = lengthLine()
                return count < 0 ? .null : .aggregate(elements: count)
            case UInt8(ascii: "%"):
                return .aggregate(elements: 2 * lengthLine())
            case UInt8(ascii: "|"):
                for _ in 0..<(2 * lengthLine()) { skip() }
            case UInt8(ascii: "!"):
                offset += lengthLine() + 2
                return .other
            default:
                let start = offset + 1
                offset = start
                while bytes[offset] != UInt8(ascii: "\r") { offset += 1 }
                let line = UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
                offset += 2
                switch type {
                case UInt8(ascii: "+"): return .blob(line)
                case UInt8(ascii: "_"): return .null
                default: return .other
                }
            }
        }
    }

    /// Passes over one whole value, nested elements included.
    mutating func skip() {
        var pending = 1
        while pending > 0 {
            pending -= 1
            if case .aggregate(let elements) = next() { pending += elements }
        }
    }

    /// The decimal integer on the line after the type byte (the framer checked it), moving past
    /// the line.
    private mutating func lengthLine() -> Int {
        offset += 1
        var negative = false
        switch bytes[offset] {
        case UInt8(ascii: "-"):
            negative = true
            offset += 1
        case UInt8(ascii: "+"):
            offset += 1
        default:
            break
        }
        var value = 0
        while true {
            let digit = bytes[offset] &- UInt8(ascii: "0")
            if digit >= 10 { break }
            value = value &* 10 &+ Int(digit)
            offset += 1
        }
        offset += 2  // CRLF
        return negative ? -value : value
    }
}
