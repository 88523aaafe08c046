/// Compact RFC 8259 output (no spaces, no newline) from `Value`, appended to a byte buffer (an
/// array, or a `ByteSink` in per-row loops).
///
/// Recursive: values built by `JSONParser` are at most `JSONText.maximumDepth` deep; values
/// built by hand that are nested thousands deep would need a larger stack.
enum JSONWriter {
    static func write<Out: ByteOutput & ~Copyable>(_ value: Value, into out: inout Out) {
        switch value {
        case .null:
            appendASCII("null", to: &out)
        case .bool(let b):
            appendASCII(b ? "true" : "false", to: &out)
        case .int(let i):
            writeInteger(i, into: &out)
        case .double(let d):
            writeDouble(d, into: &out)
        case .string(let s):
            writeString(s, into: &out)
        case .timestamp(let t):
            out.append(UInt8(ascii: "\""))
            var text = t.iso8601  // ASCII only, nothing to escape
            text.withUTF8 { out.append(bytes: $0) }
            out.append(UInt8(ascii: "\""))
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            // `zip`: `keys` and `values` are public vars and could have been made to differ.
            for (i, (key, member)) in zip(object.keys, object.values).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(member, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeDouble<Out: ByteOutput & ~Copyable>(_ d: Double, into out: inout Out) {
        // JSON has no NaN or infinity. `description` is the shortest text that reads back
        // to the same double, keeps `.0` on integral values and uses `e` notation that is
        // valid JSON (`1e+16`, `5e-324`). `DoubleText` writes the common ones without it.
        if DoubleText.writeShort(d, into: &out) { return }
        if d.isFinite {
            var text = d.description
            text.withUTF8 { out.append(bytes: $0) }
        } else {
            appendASCII("null", to: &out)
        }
    }

    @inline(__always)
    private static func appendASCII<Out: ByteOutput & ~Copyable>(_ s: StaticString, to out: inout Out) {
        out.append(bytes: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    static func writeInteger<Out: ByteOutput & ~Copyable>(_ i: Int64, into out: inout Out) {
        var magnitude = i.magnitude
        if i < 0 { out.append(UInt8(ascii: "-")) }
        if magnitude < 10 {
            out.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        // At most 20 digits; write them backwards into a small stack buffer.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var n = 20
            while magnitude > 0 {
                let (q, r) = magnitude.quotientAndRemainder(dividingBy: 10)
                n -= 1
                digits[n] = UInt8(ascii: "0") + UInt8(r)
                magnitude = q
            }
            out.append(bytes: UnsafeBufferPointer(rebasing: digits[n..<20]))
        }
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// A quoted string: `"` and `\` escaped, control characters as `\n`, `\r`, `\t`, `\b`, `\f`
    /// or `\u00XX`, everything else (including non-ASCII) written raw as UTF-8.
    static func writeString<Out: ByteOutput & ~Copyable>(_ s: String, into out: inout Out) {
        out.append(UInt8(ascii: "\""))
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { writeEscaped($0, into: &out) }
        if done == nil {
            var copy = s
            copy.makeContiguousUTF8()
            copy.utf8.withContiguousStorageIfAvailable { writeEscaped($0, into: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Flags (high bit) the bytes of `w` that are a quote, a backslash or below 0x20.
    @inline(__always)
    static func special(_ w: UInt64) -> UInt64 {
        let q = w ^ 0x2222_2222_2222_2222
        let b = w ^ 0x5C5C_5C5C_5C5C_5C5C
        return ((q &- Self.ones) & ~q | (b &- Self.ones) & ~b | (w &- 0x2020_2020_2020_2020) & ~w) & Self.highBits
    }

    static func writeEscaped<Out: ByteOutput & ~Copyable>(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout Out) {
        var runStart = 0
        var i = 0
        let n = bytes.count
        guard let base = bytes.baseAddress else { return }
        let raw = UnsafeRawPointer(base)
        while i < n {
            // Eight bytes at a time while none is a quote, a backslash or a control character
            // (most text has none: it is then copied in one run). The lowest flagged byte is a
            // true one (a borrow only runs upward), so the scan jumps to it; a byte flagged by a
            // borrow from below the part of a word that counts is checked again below.
            if i &+ 8 <= n {
                let special = Self.special(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                if special == 0 {
                    i &+= 8
                    continue
                }
                i &+= special.trailingZeroBitCount >> 3
            } else if n >= 8 {
                // The tail, as the string's last eight bytes: only bytes from `i` on count.
                let skip = 8 &- (n &- i)
                let special = Self.special(raw.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)) >> UInt64(skip &* 8)
                if special == 0 {
                    i = n
                    break
                }
                i &+= special.trailingZeroBitCount >> 3
            }
            let c = bytes[i]
            if c >= 0x20 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") {
                i &+= 1
                continue
            }
            if runStart < i { out.append(bytes: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
            out.append(UInt8(ascii: "\\"))
            switch c {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            default:
                let hexDigits: StaticString = "0123456789abcdef"
                out.append(UInt8(ascii: "u"))
                out.append(UInt8(ascii: "0"))
                out.append(UInt8(ascii: "0"))
                out.append(hexDigits.utf8Start[Int(c >> 4)])
                out.append(hexDigits.utf8Start[Int(c & 0xF)])
            }
            i += 1
            runStart = i
        }
        if runStart < n { out.append(bytes: UnsafeBufferPointer(rebasing: bytes[runStart..<n])) }
    }
}
