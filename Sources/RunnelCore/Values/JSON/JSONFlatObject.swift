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
    /// The keys the line is expected to have, in order (the last line's), back to back, and where
    /// each ends: a key at its place is recognized by one compare instead of being scanned.
    private var expectedBytes: [UInt8] = []
    private var expectedEnds: [Int] = []
    /// After `scan`: the line's keys are exactly the expected ones, in order.
    private(set) var keysAsExpected = false

    /// The keys the next lines are expected to have (valid UTF-8 without escapes: keys a scan
    /// accepted).
    mutating func expect(_ keys: some Sequence<[UInt8]>) {
        expectedBytes.removeAll(keepingCapacity: true)
        expectedEnds.removeAll(keepingCapacity: true)
        for k in keys {
            expectedBytes += k
            expectedEnds.append(expectedBytes.count)
        }
    }

    /// Scans `line`; false when the line is not for the fast path.
    mutating func scan(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        keys.removeAll(keepingCapacity: true)
        tokens.removeAll(keepingCapacity: true)
        keysAsExpected = false
        return expectedBytes.withUnsafeBufferPointer { expected in
            expectedEnds.withUnsafeBufferPointer { ends in scan(line, expected, ends) }
        }
    }

    private mutating func scan(_ line: UnsafeBufferPointer<UInt8>, _ expected: UnsafeBufferPointer<UInt8>, _ ends: UnsafeBufferPointer<Int>) -> Bool {
        guard let p = line.baseAddress else { return false }
        let n = line.count
        var i = Self.skipSpace(p, 0, n)
        guard i < n, p[i] == UInt8(ascii: "{") else { return false }
        i = Self.skipSpace(p, i + 1, n)
        if i < n, p[i] == UInt8(ascii: "}") {
            keysAsExpected = ends.isEmpty
            return Self.skipSpace(p, i + 1, n) == n
        }
        var asExpected = true
        while true {
            guard i < n, p[i] == UInt8(ascii: "\"") else { return false }
            let key: (start: Int, count: Int)
            let k = keys.count
            if asExpected, k < ends.count,
                case let start = k == 0 ? 0 : ends[k - 1], case let count = ends[k] - start,
                i + count + 1 < n, p[i + count + 1] == UInt8(ascii: "\""),
                Self.equal(p + i + 1, expected.baseAddress.unsafelyUnwrapped + start, count)
            {
                key = (i + 1, count)
                i += count + 2
            } else {
                asExpected = false
                guard let scanned = Self.plainString(p, n, &i) else { return false }
                key = scanned
            }
            i = Self.skipSpace(p, i, n)
            guard i < n, p[i] == UInt8(ascii: ":") else { return false }
            i = Self.skipSpace(p, i + 1, n)
            guard i < n else { return false }
            let token: Token
            switch p[i] {
            case UInt8(ascii: "\""):
                guard let s = Self.plainString(p, n, &i) else { return false }
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
            i = Self.skipSpace(p, i, n)
            guard i < n else { return false }
            if p[i] == UInt8(ascii: ",") {
                i = Self.skipSpace(p, i + 1, n)
                continue
            }
            guard p[i] == UInt8(ascii: "}") else { return false }
            keysAsExpected = asExpected && keys.count == ends.count
            return Self.skipSpace(p, i + 1, n) == n
        }
    }

    /// Whether `n` bytes at `a` and `b` are equal: keys are short, so words are compared inline.
    @inline(__always)
    private static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let x = UnsafeRawPointer(a)
        let y = UnsafeRawPointer(b)
        var i = 0
        while i + 8 <= n {
            if x.loadUnaligned(fromByteOffset: i, as: UInt64.self) != y.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < n {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    @inline(__always)
    private static func skipSpace(_ p: UnsafePointer<UInt8>, _ from: Int, _ n: Int) -> Int {
        var i = from
        while i < n {
            let c = p[i]
            guard c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D else { break }
            i += 1
        }
        return i
    }

    private static let quotes: UInt64 = 0x2222_2222_2222_2222
    private static let backslashes: UInt64 = 0x5C5C_5C5C_5C5C_5C5C
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// A string at `i` (its opening quote) with no escape and no control character, valid UTF-8;
    /// returns the content's range and moves past the closing quote. Eight bytes at a time until
    /// one of them is a quote, a backslash or a control character (as `JSONParser` scans).
    @inline(__always)
    private static func plainString(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> (start: Int, count: Int)? {
        let start = i + 1
        var j = start
        var high: UInt64 = 0
        while j + 8 <= n {
            let w = UnsafeRawPointer(p + j).loadUnaligned(as: UInt64.self)
            let q = w ^ quotes
            let b = w ^ backslashes
            // A zero byte in q or b, or a byte below 0x20 in w, sets that byte's high bit.
            let special = ((q &- ones) & ~q | (b &- ones) & ~b | (w &- 0x2020_2020_2020_2020) & ~w) & highBits
            if special != 0 { break }
            high |= w
            j += 8
        }
        var tail: UInt8 = 0
        while j < n {
            let c = p[j]
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") || c < 0x20 { return nil }
            tail |= c
            j += 1
        }
        guard j < n else { return nil }
        if high & highBits != 0 || tail >= 0x80,
            UTF8Check.firstInvalidOffset(UnsafeBufferPointer(start: p + start, count: j - start)) != nil
        {
            return nil
        }
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
