import NIOCore

/// Writes commands (and, for tests and fakes, reply values) in RESP wire format.
///
/// Commands go out as arrays of bulk strings, the only request form Redis accepts besides the
/// inline protocol. Everything is written directly into the `ByteBuffer`: string arguments
/// as their UTF-8 bytes, integers digit by digit, so encoding a pipeline of thousands of XADDs
/// does not build a `String` per argument.
enum RESPEncoder {
    static func encode(_ command: RedisCommand, into buffer: inout ByteBuffer) {
        writeHeader(UInt8(ascii: "*"), command.arguments.count, into: &buffer)
        for argument in command.arguments {
            switch argument.storage {
            case .string(var string):
                // `withUTF8` gives the native string's bytes without copying (it makes a string
                // native first if it is not).
                string.withUTF8 { writeBulk(UnsafeRawBufferPointer($0), into: &buffer) }
            case .bytes(let bytes):
                bytes.withUnsafeBytes { writeBulk($0, into: &buffer) }
            case .integer(let value):
                let digits = decimalLength(value)
                writeBulk(length: digits, into: &buffer) { fillDecimal(value, digits: digits, into: $0) }
            }
        }
    }

    /// `$<length>\r\n<bytes>\r\n` in one buffer write: each ByteBuffer call carries capacity
    /// and exclusivity checks, which showed up in pipelining profiles when done per piece.
    private static func writeBulk(_ bytes: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
        writeBulk(length: bytes.count, into: &buffer) { target in
            if let base = bytes.baseAddress, let destination = target.baseAddress {
                destination.copyMemory(from: base, byteCount: bytes.count)
            }
        }
    }

    private static func writeBulk(
        length: Int,
        into buffer: inout ByteBuffer,
        payload: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        let digits = decimalLength(length)
        let total = 1 + digits + 2 + length + 2
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { pointer in
            pointer[0] = UInt8(ascii: "$")
            fillDecimal(length, digits: digits, into: UnsafeMutableRawBufferPointer(rebasing: pointer[1...]))
            pointer[digits + 1] = UInt8(ascii: "\r")
            pointer[digits + 2] = UInt8(ascii: "\n")
            let start = digits + 3
            payload(UnsafeMutableRawBufferPointer(rebasing: pointer[start..<(start + length)]))
            pointer[start + length] = UInt8(ascii: "\r")
            pointer[start + length + 1] = UInt8(ascii: "\n")
            return total
        }
    }

    /// Writes a reply value in RESP3 form (RESP2 forms for null). Used by the codec tests; the
    /// client itself only sends commands.
    static func encode(_ value: RESPValue, into buffer: inout ByteBuffer) {
        switch value {
        case .simpleString(let string):
            writeLine(UInt8(ascii: "+"), string, into: &buffer)
        case .error(let message):
            writeLine(UInt8(ascii: "-"), message, into: &buffer)
        case .integer(let value):
            buffer.writeInteger(UInt8(ascii: ":"))
            writeDecimal(Int(value), into: &buffer)
            writeCRLF(into: &buffer)
        case .bulkString(let bytes):
            writeHeader(UInt8(ascii: "$"), bytes.count, into: &buffer)
            buffer.writeBytes(bytes)
            writeCRLF(into: &buffer)
        case .null:
            buffer.writeStaticString("_\r\n")
        case .array(let elements):
            writeHeader(UInt8(ascii: "*"), elements.count, into: &buffer)
            for element in elements { encode(element, into: &buffer) }
        case .map(let pairs):
            writeHeader(UInt8(ascii: "%"), pairs.count, into: &buffer)
            for pair in pairs {
                encode(pair.key, into: &buffer)
                encode(pair.value, into: &buffer)
            }
        case .set(let elements):
            writeHeader(UInt8(ascii: "~"), elements.count, into: &buffer)
            for element in elements { encode(element, into: &buffer) }
        case .double(let value):
            let text = value.isNaN ? "nan" : value == .infinity ? "inf" : value == -.infinity ? "-inf" : "\(value)"
            writeLine(UInt8(ascii: ","), text, into: &buffer)
        case .boolean(let value):
            buffer.writeStaticString(value ? "#t\r\n" : "#f\r\n")
        case .bigNumber(let text):
            writeLine(UInt8(ascii: "("), text, into: &buffer)
        case .verbatimString(let format, let text):
            writeHeader(UInt8(ascii: "="), format.utf8.count + 1 + text.count, into: &buffer)
            buffer.writeString(format)
            buffer.writeInteger(UInt8(ascii: ":"))
            buffer.writeBytes(text)
            writeCRLF(into: &buffer)
        }
    }

    /// `<type><count>\r\n` in one write (every ByteBuffer write call has fixed overhead).
    private static func writeHeader(_ type: UInt8, _ count: Int, into buffer: inout ByteBuffer) {
        let digits = decimalLength(count)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: digits + 3) { pointer in
            pointer[0] = type
            fillDecimal(count, digits: digits, into: UnsafeMutableRawBufferPointer(rebasing: pointer[1...]))
            pointer[digits + 1] = UInt8(ascii: "\r")
            pointer[digits + 2] = UInt8(ascii: "\n")
            return digits + 3
        }
    }

    private static func writeLine(_ type: UInt8, _ text: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(type)
        buffer.writeString(text)
        writeCRLF(into: &buffer)
    }

    private static func writeCRLF(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("\r\n")
    }

    /// Number of bytes `writeDecimal` produces for `value`.
    static func decimalLength(_ value: Int) -> Int {
        var magnitude = value.magnitude
        var length = value < 0 ? 2 : 1
        while magnitude >= 10 {
            magnitude /= 10
            length += 1
        }
        return length
    }

    /// Writes `value` in base 10 without going through `String`.
    static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        let digits = decimalLength(value)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: digits) { pointer in
            fillDecimal(value, digits: digits, into: pointer)
            return digits
        }
    }

    /// Puts the `digits` bytes of `value` at the start of `pointer`.
    private static func fillDecimal(_ value: Int, digits: Int, into pointer: UnsafeMutableRawBufferPointer) {
        var magnitude = value.magnitude
        var index = digits - 1
        repeat {
            pointer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            index -= 1
        } while magnitude > 0
        if value < 0 { pointer[0] = UInt8(ascii: "-") }
    }
}
