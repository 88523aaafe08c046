import NIOCore

/// The channel-facing decoder: cuts the byte stream into complete replies (`RESPFrame`s) for
/// `RedisCommandHandler`, without building their values. Whoever waits for a reply decodes it:
/// into a `RESPValue`, or in place (`StreamEntries`) for the replies that carry data.
///
/// A malformed reply is thrown as a `RedisError` with code `.protocolError` while framing, so a
/// frame that reaches a command is valid; `ByteToMessageHandler` passes the error to
/// `errorCaught`, where the command handler fails every waiting command and closes the
/// connection (after a framing error nothing later on the stream can be trusted).
struct RESPDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = RESPFrame

    private var parser = RESPParser()

    mutating func decode(buffer: inout ByteBuffer) throws -> RESPFrame? {
        try parser.nextFrame(from: &buffer)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RESPFrame? {
        // A reply cut off by EOF is not an error of its own: the channel is going inactive and
        // the handler fails the waiting commands with `.connectionClosed`.
        try parser.nextFrame(from: &buffer)
    }
}

/// An incremental RESP2/RESP3 parser.
///
/// - Framing (`nextFrame(from:)`), on every reply: finds where the next top-level reply ends,
///   checking every token, and returns the reply's bytes. Open aggregates are a stack of element
///   counts that survives between calls, with the bytes scanned so far: a large array reply that
///   arrives in many TCP reads is scanned once, not from its first byte on every read. Top-level
///   push messages and attributes are dropped here, so a frame is always a reply.
/// - Values (`RESPFrame.value()`): builds the `RESPValue` of one complete frame.
///
/// Every length and count is checked against `Limits` before any allocation, so hostile input can
/// neither crash the process nor make it reserve huge buffers.
struct RESPParser {
    struct Limits {
        /// Redis' own `proto-max-bulk-len` default.
        var maxBulkLength = 512 * 1024 * 1024
        /// Elements of one aggregate (map entries count twice).
        var maxAggregateCount = Int(Int32.max)
        /// Nesting depth; Redis replies are at most a few levels deep.
        var maxDepth = 64
        /// Length of a type/length/simple-string line; Redis' inline limit is 64 KiB.
        var maxLineLength = 64 * 1024
    }

    private enum AggregateKind {
        case array, set, map, push, attribute
    }

    private struct Aggregate {
        var kind: AggregateKind
        var remaining: Int
        var elements: [RESPValue]
    }

    private enum Token {
        case value(RESPValue)
        case aggregate(AggregateKind, count: Int)
    }

    /// What an aggregate or scalar turned into once complete: a value, or nothing for attributes
    /// and push messages, which this client does not use.
    private enum Finished {
        case value(RESPValue)
        case dropped
    }

    /// An aggregate being framed: its elements still expected.
    private struct Open {
        var kind: AggregateKind
        var remaining: Int
    }

    let limits: Limits
    /// Framing: the open aggregates of the reply being framed, and its bytes scanned so far
    /// (complete tokens), counted from the buffer's reader index, which moves only once the
    /// reply is complete.
    private var open: [Open] = []
    private var scanned = 0

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The next complete top-level reply, or `nil` when more bytes are needed.
    mutating func next(from buffer: inout ByteBuffer) throws -> RESPValue? {
        try nextFrame(from: &buffer)?.value()
    }

    /// The bytes of the next complete top-level reply, or `nil` when more bytes are needed.
    ///
    /// The tokens are read from one view of the buffer's readable bytes: a `ByteBuffer` access
    /// per token (its storage is a class, so every access is checked for exclusivity) cost more
    /// than the token itself.
    mutating func nextFrame(from buffer: inout ByteBuffer) throws -> RESPFrame? {
        var frameStart = 0
        var end = scanned
        let complete = try buffer.withUnsafeReadableBytes { bytes in
            try frame(bytes, from: &end, frameStart: &frameStart)
        }
        // Dropped top-level pushes and attributes before the reply are consumed at once.
        buffer.moveReaderIndex(forwardBy: frameStart)
        guard complete else {
            scanned = end - frameStart
            return nil
        }
        scanned = 0
        return RESPFrame(buffer.readSlice(length: end - frameStart)!)
    }

    /// Scans tokens of `bytes` from `offset` until a top-level reply completes, moving `offset`
    /// past every complete token and `frameStart` past every dropped top-level item. Returns
    /// false when the bytes end first.
    private mutating func frame(
        _ bytes: UnsafeRawBufferPointer, from offset: inout Int, frameStart: inout Int
    ) throws -> Bool {
        while let (aggregate, length) = try scanToken(bytes, at: offset) {
            offset += length
            // The kind of what completed: nil for a scalar.
            var completed: AggregateKind?
            if let (kind, count) = aggregate {
                if count > 0 {
                    guard open.count < limits.maxDepth else {
                        throw Self.error("replies nested deeper than \(limits.maxDepth) levels")
                    }
                    open.append(Open(kind: kind, remaining: count))
                    continue
                }
                completed = kind
            }
            // Count the completed item in its parent, closing every aggregate it completes.
            while true {
                guard let last = open.indices.last else {
                    if completed == .push || completed == .attribute {
                        frameStart = offset  // a dropped push or attribute at top level: read on
                        break
                    }
                    return true
                }
                // Attributes annotate the value that follows; they never count as an element.
                if completed != .attribute { open[last].remaining -= 1 }
                guard open[last].remaining == 0 else { break }
                completed = open.removeLast().kind
            }
        }
        return false
    }

    /// The value of `frame`, a complete reply checked by framing.
    static func value(of frame: UnsafeRawBufferPointer) throws -> RESPValue {
        var parser = RESPParser()
        var stack: [Aggregate] = []
        var offset = 0
        while let (token, length) = try parser.readToken(frame, at: offset) {
            offset += length
            var finished: Finished
            switch token {
            case .value(let value):
                finished = .value(value)
            case .aggregate(let kind, let count):
                if count > 0 {
                    stack.append(Aggregate(kind: kind, remaining: count, elements: []))
                    stack[stack.count - 1].elements.reserveCapacity(min(count, 1024))
                    continue
                }
                finished = parser.complete(Aggregate(kind: kind, remaining: 0, elements: []), isTopLevel: stack.isEmpty)
            }

            // Hand the finished item to its parent, closing every aggregate it completes.
            while true {
                guard !stack.isEmpty else {
                    if case .value(let value) = finished { return value }
                    break  // framing dropped top-level pushes and attributes; for safety, read on
                }
                if case .value(let value) = finished {
                    stack[stack.count - 1].elements.append(value)
                    stack[stack.count - 1].remaining -= 1
                }
                guard stack[stack.count - 1].remaining == 0 else { break }
                let aggregate = stack.removeLast()
                finished = parser.complete(aggregate, isTopLevel: stack.isEmpty)
            }
        }
        throw Self.error("incomplete reply")
    }

    private func complete(_ aggregate: Aggregate, isTopLevel: Bool) -> Finished {
        switch aggregate.kind {
        case .array:
            return .value(.array(aggregate.elements))
        case .set:
            return .value(.set(aggregate.elements))
        case .map:
            let pairs = stride(from: 0, to: aggregate.elements.count, by: 2).map {
                RESPValue.Pair(key: aggregate.elements[$0], value: aggregate.elements[$0 + 1])
            }
            return .value(.map(pairs))
        case .push:
            // Out-of-band messages (client tracking, pub/sub) are not replies to a command.
            return isTopLevel ? .dropped : .value(.array(aggregate.elements))
        case .attribute:
            // Attributes annotate the value that follows; they never count as an element.
            return .dropped
        }
    }

    // MARK: - Tokens

    /// Checks the token at `start` of `all` without building its value. Returns its length in
    /// bytes, with the kind and element count of an aggregate header (nil for a scalar or null),
    /// or nil when the token is not complete yet. Blob strings and arrays, which make up the
    /// replies that carry data, take a short path; the other types are read as values.
    private func scanToken(
        _ all: UnsafeRawBufferPointer, at start: Int
    ) throws -> (aggregate: (AggregateKind, Int)?, length: Int)? {
        guard start < all.count else { return nil }
        let bytes = UnsafeRawBufferPointer(rebasing: all[start...])
        let type = bytes[0]
        switch type {
        case UInt8(ascii: "$"):
            guard let lineEnd = try findLineEnd(in: bytes), let total = try blobEnd(bytes, type: type, lineEnd: lineEnd)
            else { return nil }
            return (nil, total)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: "%"), UInt8(ascii: ">"), UInt8(ascii: "|"):
            guard let lineEnd = try findLineEnd(in: bytes) else { return nil }
            return (try aggregateHeader(bytes, type: type, lineEnd: lineEnd), lineEnd + 2)
        default:
            guard let (token, length) = try readToken(all, at: start) else { return nil }
            if case .aggregate(let kind, let count) = token { return ((kind, count), length) }
            return (nil, length)
        }
    }

    /// The end of the blob (`$`, `!`, `=`) token whose line ends at `lineEnd`, past its trailing
    /// CRLF; the line's end for a null (`$-1`); nil when its payload is not complete yet.
    private func blobEnd(_ bytes: UnsafeRawBufferPointer, type: UInt8, lineEnd: Int) throws -> Int? {
        let length = try lineInteger(bytes, lineEnd)
        if length == -1 && type == UInt8(ascii: "$") { return lineEnd + 2 }
        guard length >= 0, length <= limits.maxBulkLength else {
            throw Self.error("blob length \(length) out of range")
        }
        let total = lineEnd + 2 + Int(length) + 2
        guard bytes.count >= total else { return nil }
        guard bytes[total - 2] == UInt8(ascii: "\r"), bytes[total - 1] == UInt8(ascii: "\n") else {
            throw Self.error("blob not followed by CRLF")
        }
        if type == UInt8(ascii: "=") {
            guard length >= 4, bytes[lineEnd + 2 + 3] == UInt8(ascii: ":") else {
                throw Self.error("verbatim string without a format prefix")
            }
        }
        return total
    }

    /// The kind and element count (a map's pairs count twice) of the aggregate header whose
    /// line ends at `lineEnd`; nil for a null array (`*-1`).
    private func aggregateHeader(
        _ bytes: UnsafeRawBufferPointer, type: UInt8, lineEnd: Int
    ) throws -> (AggregateKind, Int)? {
        let count = try lineInteger(bytes, lineEnd)
        if count == -1 && type == UInt8(ascii: "*") { return nil }
        let isPairs = type == UInt8(ascii: "%") || type == UInt8(ascii: "|")
        guard count >= 0, count <= limits.maxAggregateCount / (isPairs ? 2 : 1) else {
            throw Self.error("aggregate size \(count) out of range")
        }
        let kind: AggregateKind =
            switch type {
            case UInt8(ascii: "*"): .array
            case UInt8(ascii: "~"): .set
            case UInt8(ascii: "%"): .map
            case UInt8(ascii: ">"): .push
            default: .attribute
            }
        return (kind, Int(count) * (isPairs ? 2 : 1))
    }

    /// Reads the token at `start` of `all`: one type byte, its line and (for blob types) its
    /// payload. Returns the token and its length in bytes, or nil when it is not complete yet.
    private func readToken(_ all: UnsafeRawBufferPointer, at start: Int) throws -> (Token, Int)? {
        guard start < all.count else { return nil }
        let bytes = UnsafeRawBufferPointer(rebasing: all[start...])
        let type = bytes[0]
        guard let lineEnd = try findLineEnd(in: bytes) else { return nil }
        let afterLine = lineEnd + 2

        switch type {
        case UInt8(ascii: "+"):
            return (.value(.simpleString(lineString(bytes, lineEnd))), afterLine)
        case UInt8(ascii: "-"):
            return (.value(.error(lineString(bytes, lineEnd))), afterLine)
        case UInt8(ascii: ":"):
            return (.value(.integer(try lineInteger(bytes, lineEnd))), afterLine)
        case UInt8(ascii: "_"):
            guard lineEnd == 1 else { throw Self.error("null with content") }
            return (.value(.null), afterLine)
        case UInt8(ascii: "#"):
            switch lineString(bytes, lineEnd) {
            case "t": return (.value(.boolean(true)), afterLine)
            case "f": return (.value(.boolean(false)), afterLine)
            default: throw Self.error("boolean that is neither t nor f")
            }
        case UInt8(ascii: ","):
            let text = lineString(bytes, lineEnd)
            guard let value = Double(text) else { throw Self.error("double that does not parse") }
            return (.value(.double(value)), afterLine)
        case UInt8(ascii: "("):
            let text = lineString(bytes, lineEnd)
            let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw Self.error("big number with non-digits")
            }
            return (.value(.bigNumber(text)), afterLine)
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            guard let total = try blobEnd(bytes, type: type, lineEnd: lineEnd) else { return nil }
            if total == afterLine { return (.value(.null), afterLine) }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[afterLine..<(total - 2)])
            switch type {
            case UInt8(ascii: "$"):
                return (.value(.bulkString([UInt8](payload))), total)
            case UInt8(ascii: "!"):
                return (.value(.error(String(decoding: payload, as: UTF8.self))), total)
            default:
                let format = String(decoding: UnsafeRawBufferPointer(rebasing: payload[0..<3]), as: UTF8.self)
                return (.value(.verbatimString(format: format, text: [UInt8](payload[4...]))), total)
            }
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: "%"), UInt8(ascii: ">"), UInt8(ascii: "|"):
            guard let (kind, count) = try aggregateHeader(bytes, type: type, lineEnd: lineEnd) else {
                return (.value(.null), afterLine)
            }
            return (.aggregate(kind, count: count), afterLine)
        default:
            let printable = type >= 0x20 && type < 0x7F ? " '\(Character(Unicode.Scalar(type)))'" : ""
            throw Self.error("unexpected type byte 0x\(String(type, radix: 16))\(printable)")
        }
    }

    /// Offset of the `\r` that ends the line beginning at `bytes[0]`, `nil` if the line is not
    /// complete yet.
    private func findLineEnd(in bytes: UnsafeRawBufferPointer) throws -> Int? {
        var carriageReturn = 1
        while carriageReturn < bytes.count, bytes[carriageReturn] != UInt8(ascii: "\r") { carriageReturn += 1 }
        guard carriageReturn < bytes.count else {
            guard bytes.count <= limits.maxLineLength else {
                throw Self.error("line longer than \(limits.maxLineLength) bytes")
            }
            return nil
        }
        guard carriageReturn <= limits.maxLineLength else {
            throw Self.error("line longer than \(limits.maxLineLength) bytes")
        }
        guard carriageReturn + 1 < bytes.count else { return nil }
        guard bytes[carriageReturn + 1] == UInt8(ascii: "\n") else { throw Self.error("CR not followed by LF") }
        return carriageReturn
    }

    /// The line after the type byte, as text (invalid UTF-8 is replaced, not rejected).
    private func lineString(_ bytes: UnsafeRawBufferPointer, _ lineEnd: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[1..<lineEnd]), as: UTF8.self)
    }

    /// The line after the type byte as a signed 64-bit decimal, parsed from the bytes directly.
    private func lineInteger(_ bytes: UnsafeRawBufferPointer, _ lineEnd: Int) throws -> Int64 {
        var index = 1
        var negative = false
        if index < lineEnd, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        guard index < lineEnd else { throw Self.error("malformed integer") }
        var value: Int64 = 0
        while index < lineEnd {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { throw Self.error("malformed integer") }
            // Accumulate negatively so that Int64.min parses too.
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.subtractingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { throw Self.error("malformed integer") }
            value = next
            index += 1
        }
        if negative { return value }
        guard value != .min else { throw Self.error("malformed integer") }
        return -value
    }

    private static func error(_ detail: String) -> RedisError {
        RedisError(code: .protocolError, message: "invalid RESP from server: \(detail)")
    }
}

/// Decodes replies from plain byte chunks, outside a channel. Used by the codec tests, which
/// feed frames split at every possible position.
struct RESPChunkDecoder {
    private var parser = RESPParser()
    private var buffer = ByteBuffer()

    /// Appends `bytes` and returns every reply they complete.
    mutating func feed(_ bytes: [UInt8]) throws -> [RESPValue] {
        buffer.writeBytes(bytes)
        var values: [RESPValue] = []
        while let value = try parser.next(from: &buffer) {
            values.append(value)
        }
        buffer.discardReadBytes()
        return values
    }
}

extension RESPEncoder {
    static func bytes(of command: RedisCommand) -> [UInt8] {
        var buffer = ByteBuffer()
        encode(command, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    static func bytes(of value: RESPValue) -> [UInt8] {
        var buffer = ByteBuffer()
        encode(value, into: &buffer)
        return Array(buffer.readableBytesView)
    }
}
