/// The fast path of JSON Lines into columns: a line that is one flat object of scalars —
/// strings without escapes, plain numbers, `true`, `false`, `null`, each key once — is scanned
/// straight into the batch's columns, with no `Value`, no `String` per field and no record.
///
/// Anything else (escapes, nested values, a number the exact fast rules do not cover, a repeated
/// key, a syntax error) makes `append` return false having appended nothing, and the reader
/// parses the line with `JSONParser` as before — so values, types, error messages and offsets
/// are exactly the full parser's. A differential test compares the two paths.
struct JSONFlatObject {
    enum Token {
        case string(start: Int, count: Int)
        case int(Int64)
        case double(Double)
        case bool(Bool)
        case null
    }

    /// Per field of the line being scanned, reused from line to line.
    private(set) var keys: [(start: Int, count: Int)] = []
    private(set) var tokens: [Token] = []

    /// Scans `line`; false when the line is not for the fast path.
    mutating func scan(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        keys.removeAll(keepingCapacity: true)
        tokens.removeAll(keepingCapacity: true)
        let n = line.count
        var i = 0
        @inline(__always) func skipSpace() {
            while i < n, line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0A || line[i] == 0x0D { i += 1 }
        }
        skipSpace()
        guard i < n, line[i] == UInt8(ascii: "{") else { return false }
        i += 1
        skipSpace()
        if i < n, line[i] == UInt8(ascii: "}") {
            i += 1
            skipSpace()
            return i == n
        }
        while true {
            guard i < n, line[i] == UInt8(ascii: "\""), let key = plainString(line, &i) else { return false }
            skipSpace()
            guard i < n, line[i] == UInt8(ascii: ":") else { return false }
            i += 1
            skipSpace()
            guard i < n else { return false }
            let token: Token
            switch line[i] {
            case UInt8(ascii: "\""):
                guard let s = plainString(line, &i) else { return false }
                token = .string(start: s.start, count: s.count)
            case UInt8(ascii: "t"):
                guard literal(line, &i, "true") else { return false }
                token = .bool(true)
            case UInt8(ascii: "f"):
                guard literal(line, &i, "false") else { return false }
                token = .bool(false)
            case UInt8(ascii: "n"):
                guard literal(line, &i, "null") else { return false }
                token = .null
            default:
                guard let t = number(line, &i) else { return false }
                token = t
            }
            keys.append(key)
            tokens.append(token)
            skipSpace()
            guard i < n else { return false }
            if line[i] == UInt8(ascii: ",") {
                i += 1
                skipSpace()
                continue
            }
            guard line[i] == UInt8(ascii: "}") else { return false }
            i += 1
            skipSpace()
            return i == n
        }
    }

    /// A string at `i` (its opening quote) with no escape and no control character, valid UTF-8;
    /// returns the content's range and moves past the closing quote.
    @inline(__always)
    private func plainString(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> (start: Int, count: Int)? {
        let start = i + 1
        var j = start
        var high: UInt8 = 0
        while j < b.count {
            let c = b[j]
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") || c < 0x20 { return nil }
            high |= c
            j += 1
        }
        guard j < b.count else { return nil }
        if high >= 0x80, UTF8Check.firstInvalidOffset(UnsafeBufferPointer(rebasing: b[start..<j])) != nil { return nil }
        i = j + 1
        return (start, j - start)
    }

    @inline(__always)
    private func literal(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard i + count <= b.count else { return false }
        for k in 0..<count where b[i + k] != word.utf8Start[k] { return false }
        i += count
        return true
    }

    /// The numbers `JSONParser.parseNumber` computes without the standard library: integers of
    /// up to 18 digits, and decimals whose significand is at most 2^53 and power of ten within
    /// ±22 (computed the same way, so the same double). Anything else: nil.
    @inline(__always)
    private func number(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Token? {
        var j = i
        var negative = false
        if j < b.count, b[j] == UInt8(ascii: "-") {
            negative = true
            j += 1
        }
        guard j < b.count, b[j] &- UInt8(ascii: "0") < 10 else { return nil }
        // A leading zero must stand alone (the full parser reports "leading zeros").
        if b[j] == UInt8(ascii: "0"), j + 1 < b.count, b[j + 1] &- UInt8(ascii: "0") < 10 { return nil }
        var significand: UInt64 = 0
        var digits = 0
        while j < b.count, b[j] &- UInt8(ascii: "0") < 10 {
            significand = significand &* 10 &+ UInt64(b[j] &- UInt8(ascii: "0"))
            digits += 1
            j += 1
        }
        var fractionDigits = 0
        var isInteger = true
        if j < b.count, b[j] == UInt8(ascii: ".") {
            isInteger = false
            j += 1
            guard j < b.count, b[j] &- UInt8(ascii: "0") < 10 else { return nil }
            while j < b.count, b[j] &- UInt8(ascii: "0") < 10 {
                significand = significand &* 10 &+ UInt64(b[j] &- UInt8(ascii: "0"))
                digits += 1
                fractionDigits += 1
                j += 1
            }
        }
        // Exponents, and more digits than exact arithmetic covers, go to the full parser.
        guard digits <= 18 else { return nil }
        if j < b.count, b[j] | 0x20 == UInt8(ascii: "e") { return nil }
        i = j
        if isInteger { return .int(negative ? -Int64(significand) : Int64(significand)) }
        guard significand <= 1 << 53, fractionDigits <= 22 else { return nil }
        let d = Double(significand) / JSONParser.powersOfTen[fractionDigits]
        return .double(negative ? -d : d)
    }
}
