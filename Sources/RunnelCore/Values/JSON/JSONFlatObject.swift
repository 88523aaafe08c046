/// The fast path of JSON Lines into columns: a line that is one flat object of scalars —
/// strings without escapes, plain numbers, `true`, `false`, `null`, each key once — is scanned
/// straight into the batch's columns, with no `Value`, no `String` per field and no record.
///
/// Anything else (escapes, nested values, a number the exact fast rules do not cover, a repeated
/// key, a syntax error) makes `append` return false having appended nothing, and the reader
/// parses the line with `JSONParser` as before — so values, types, error messages and offsets
/// are exactly the full parser's. A differential test compares the two paths.
///
/// Written for instructions per byte, because every record of a JSON source passes here:
/// - the line must end in `}` (checked first), which then stops every digit and space loop
///   without a bounds check;
/// - strings are scanned eight bytes at a time, and the first quote, backslash or control byte
///   is found by its bit in the word, not by a byte loop;
/// - a key where the last line had one is recognized by a word compare against that key;
/// - fields are written into a reused buffer through a pointer (no per-field array append).
struct JSONFlatObject {
    enum Kind: UInt8 {
        case string, int, double, bool, null
    }

    /// One field of the scanned line: its key's bytes, and its value (a string's bytes by
    /// position; a number or bool in `payload`: an `Int64`, a `Double`'s bit pattern, 0 or 1).
    struct Field {
        var keyStart = 0
        var keyCount = 0
        var valueStart = 0
        var valueCount = 0
        var payload: Int64 = 0
        var kind = Kind.null
        /// The value's bytes as written (a string's with its quotes), for learning the layout
        /// (set by the general scan, the only one whose lines are learned from).
        var rawStart = 0
        var rawEnd = 0
    }

    /// Fields of the line scanned last: the first `count` are its.
    private var storage = [Field](repeating: Field(), count: 16)
    private(set) var count = 0
    /// The layout the line is expected to have (the last line's): the bytes before each value —
    /// `{"order_id":`, `,"name":`, with the spaces the line had — back to back, with eight zero
    /// bytes after them so that a word can always be loaded. A line laid out the same (JSON
    /// Lines written by one program are) is scanned by comparing those bytes and reading only
    /// the values; any other line takes the general scan, which still recognizes a key at its
    /// place by a compare (`Separator.keyOffset`).
    private var separatorBytes = [UInt8](repeating: 0, count: 8)
    private var separators: [Separator] = []

    struct Separator {
        var start: Int
        var count: Int
        /// Where the key's bytes are within the separator, and how many.
        var keyOffset: Int
        var keyCount: Int
    }
    /// After `scan`: the line's keys are exactly the expected ones, in order.
    private(set) var keysAsExpected = false

    /// The line scanned last (`line`, which `scan` accepted) is the layout the next lines are
    /// expected to have.
    mutating func expectLayout(of line: UnsafeBufferPointer<UInt8>) {
        separatorBytes.removeAll(keepingCapacity: true)
        separators.removeAll(keepingCapacity: true)
        var end = 0
        for k in 0..<count {
            let f = storage[k]
            let bytes = UnsafeBufferPointer(rebasing: line[end..<f.rawStart])
            separators.append(Separator(start: separatorBytes.count, count: bytes.count, keyOffset: f.keyStart - end, keyCount: f.keyCount))
            separatorBytes += bytes
            end = f.rawEnd
        }
        separatorBytes += repeatElement(0, count: 8)
    }

    /// The fields of the line scanned last.
    func withFields<R>(_ body: (UnsafeBufferPointer<Field>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<count])) }
    }

    subscript(_ k: Int) -> Field { storage[k] }

    /// Scans `line`; false when the line is not for the fast path.
    mutating func scan(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        count = 0
        keysAsExpected = false
        while true {
            let result = separatorBytes.withUnsafeBufferPointer { expected in
                separators.withUnsafeBufferPointer { separators in
                    storage.withUnsafeMutableBufferPointer { fields in
                        let scan = Scan(line: line, expected: expected, separators: separators, fields: fields)
                        if let laidOut = scan.runLaidOut() { return (laidOut, true) }
                        return (scan.run(), false)
                    }
                }
            }
            switch result.0 {
            case .notFlat: return false
            case .needsRoom: storage += repeatElement(Field(), count: storage.count)
            case .fields(let n, let asExpected):
                count = n
                keysAsExpected = asExpected
                // The expected keys, laid out otherwise (other spaces): this line's layout is
                // the one to expect next.
                if asExpected, !result.1 { expectLayout(of: line) }
                return true
            }
        }
    }

    private enum Outcome {
        case notFlat
        case needsRoom
        case fields(Int, asExpected: Bool)
    }

    /// One line's scan, its state in locals.
    private struct Scan {
        let line: UnsafeBufferPointer<UInt8>
        let expected: UnsafeBufferPointer<UInt8>
        let separators: UnsafeBufferPointer<Separator>
        let fields: UnsafeMutableBufferPointer<Field>

        /// The line's trimmed length when it ends in `}`, the sentinel: every loop below that
        /// stops at a byte that is not a digit or a space stops there at the latest.
        @inline(__always)
        func trimmedLength(_ p: UnsafePointer<UInt8>) -> Int? {
            var n = line.count
            while n > 0, Self.isSpace(p[n &- 1]) { n &-= 1 }
            guard n >= 2, p[n &- 1] == UInt8(ascii: "}") else { return nil }
            return n
        }

        /// The line laid out as expected: each separator's bytes, then a value. Nil at the first
        /// difference (the general scan decides then).
        func runLaidOut() -> Outcome? {
            guard !separators.isEmpty, separators.count <= fields.count, let p = line.baseAddress, let n = trimmedLength(p) else { return nil }
            let e = expected.baseAddress.unsafelyUnwrapped
            let out = fields.baseAddress.unsafelyUnwrapped
            var i = 0
            for k in 0..<separators.count {
                let separator = separators[k]
                guard i &+ separator.count < n, Self.equal(p + i, e + separator.start, separator.count, readable: n &- i) else { return nil }
                // Written in place: a `Field` built on the stack and copied costs as much as the compare.
                let field = out + k
                field.pointee.keyStart = i &+ separator.keyOffset
                field.pointee.keyCount = separator.keyCount
                i &+= separator.count
                // No raw extents: a line laid out as expected is never learned from.
                guard Self.value(p, n, &i, &field.pointee) else { return nil }
            }
            i = Self.skipSpace(p, i)
            guard i == n &- 1 else { return nil }
            return .fields(separators.count, asExpected: true)
        }

        func run() -> Outcome {
            guard let p = line.baseAddress, let n = trimmedLength(p) else { return .notFlat }
            var i = Self.skipSpace(p, 0)
            guard p[i] == UInt8(ascii: "{") else { return .notFlat }
            i = Self.skipSpace(p, i &+ 1)
            if p[i] == UInt8(ascii: "}") { return i == n &- 1 ? .fields(0, asExpected: separators.isEmpty) : .notFlat }
            let e = expected.baseAddress.unsafelyUnwrapped
            var asExpected = true
            var k = 0
            while true {
                guard k < fields.count else { return .needsRoom }
                guard p[i] == UInt8(ascii: "\"") else { return .notFlat }
                var field = Field()
                if asExpected, k < separators.count,
                    case let start = separators[k].start &+ separators[k].keyOffset, case let count = separators[k].keyCount,
                    i &+ count &+ 2 < n, p[i &+ count &+ 1] == UInt8(ascii: "\""),
                    Self.equal(p + (i &+ 1), e + start, count, readable: n &- i &- 1)
                {
                    field.keyStart = i &+ 1
                    field.keyCount = count
                    i &+= count &+ 2
                } else {
                    asExpected = false
                    guard let key = Self.plainString(p, n, &i) else { return .notFlat }
                    field.keyStart = key.start
                    field.keyCount = key.count
                }
                i = Self.skipSpace(p, i)
                guard p[i] == UInt8(ascii: ":") else { return .notFlat }
                i = Self.skipSpace(p, i &+ 1)
                field.rawStart = i
                guard Self.value(p, n, &i, &field) else { return .notFlat }
                field.rawEnd = i
                fields[k] = field
                k &+= 1
                i = Self.skipSpace(p, i)
                if p[i] == UInt8(ascii: ",") {
                    i = Self.skipSpace(p, i &+ 1)
                    continue
                }
                guard p[i] == UInt8(ascii: "}"), i == n &- 1 else { return .notFlat }
                return .fields(k, asExpected: asExpected && k == separators.count)
            }
        }

        /// A scalar value at `i`, into `field` (its kind and payload or string, whatever they held
        /// before); moves past it.
        @_transparent
        static func value(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int, _ field: inout Field) -> Bool {
            switch p[i] {
            case UInt8(ascii: "\""):
                guard let s = plainString(p, n, &i) else { return false }
                field.kind = .string
                field.valueStart = s.start
                field.valueCount = s.count
            case UInt8(ascii: "t"):
                guard word(p, n, i, "true", 4) else { return false }
                field.kind = .bool
                field.payload = 1
                i &+= 4
            case UInt8(ascii: "f"):
                guard word(p, n, i, "fals", 4), p[i &+ 4] == UInt8(ascii: "e") else { return false }
                field.kind = .bool
                field.payload = 0
                i &+= 5
            case UInt8(ascii: "n"):
                guard word(p, n, i, "null", 4) else { return false }
                field.kind = .null
                i &+= 4
            default:
                return number(p, &i, &field)
            }
            return true
        }

        @inline(__always)
        static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }

        /// Past the spaces at `from`; the closing brace stops it.
        @inline(__always)
        static func skipSpace(_ p: UnsafePointer<UInt8>, _ from: Int) -> Int {
            var i = from
            while isSpace(p[i]) { i &+= 1 }
            return i
        }

        /// Whether `n` bytes at `a` and `b` are equal; `b` may be read eight bytes past `n`, `a`
        /// `readable` bytes. Keys are short: words, and the tail as one masked word.
        @inline(__always)
        static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int, readable: Int) -> Bool {
            let x = UnsafeRawPointer(a)
            let y = UnsafeRawPointer(b)
            var i = 0
            while i &+ 8 <= n {
                if x.loadUnaligned(fromByteOffset: i, as: UInt64.self) != y.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
                i &+= 8
            }
            let tail = n &- i
            guard tail > 0 else { return true }
            if i &+ 8 <= readable {
                let mask: UInt64 = (1 << UInt64(tail &* 8)) &- 1
                return (x.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ y.loadUnaligned(fromByteOffset: i, as: UInt64.self)) & mask == 0
            }
            while i < n {
                if a[i] != b[i] { return false }
                i &+= 1
            }
            return true
        }

        /// Whether the `length` (≤ 8) bytes at `i` are `word`'s.
        @inline(__always)
        static func word(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: Int, _ word: StaticString, _ length: Int) -> Bool {
            guard i &+ length <= n else { return false }
            for k in 0..<length where p[i &+ k] != word.utf8Start[k] { return false }
            return true
        }

        static let quotes: UInt64 = 0x2222_2222_2222_2222
        static let backslashes: UInt64 = 0x5C5C_5C5C_5C5C_5C5C
        static let ones: UInt64 = 0x0101_0101_0101_0101
        static let highBits: UInt64 = 0x8080_8080_8080_8080

        /// A string at `i` (its opening quote) with no escape and no control character, valid
        /// UTF-8; returns the content's range and moves past the closing quote.
        ///
        /// Eight bytes at a time: a byte that is a quote, a backslash or below 0x20 sets its high
        /// bit in `special` (the lowest set bit is always a true one: the subtraction's borrow
        /// only runs upward), so the first such byte is found by counting trailing zeros.
        @inline(__always)
        static func plainString(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> (start: Int, count: Int)? {
            let start = i &+ 1
            var j = start
            var high: UInt64 = 0
            while j &+ 8 <= n {
                let w = UnsafeRawPointer(p + j).loadUnaligned(as: UInt64.self)
                let q = w ^ quotes
                let b = w ^ backslashes
                let special = ((q &- ones) & ~q | (b &- ones) & ~b | (w &- 0x2020_2020_2020_2020) & ~w) & highBits
                if special == 0 {
                    high |= w
                    j &+= 8
                    continue
                }
                let offset = special.trailingZeroBitCount >> 3
                guard p[j &+ offset] == UInt8(ascii: "\"") else { return nil }
                high |= w & ((1 << UInt64(offset &* 8)) &- 1)
                j &+= offset
                return finish(p, start, j, high & highBits != 0, &i)
            }
            var tail: UInt8 = 0
            while j < n {
                let c = p[j]
                if c == UInt8(ascii: "\"") { return finish(p, start, j, high & highBits != 0 || tail >= 0x80, &i) }
                if c == UInt8(ascii: "\\") || c < 0x20 { return nil }
                tail |= c
                j &+= 1
            }
            return nil
        }

        @inline(__always)
        static func finish(_ p: UnsafePointer<UInt8>, _ start: Int, _ quote: Int, _ nonASCII: Bool, _ i: inout Int) -> (start: Int, count: Int)? {
            if nonASCII, UTF8Check.firstInvalidOffset(UnsafeBufferPointer(start: p + start, count: quote &- start)) != nil {
                return nil
            }
            i = quote &+ 1
            return (start, quote &- start)
        }

        /// The numbers `JSONParser.parseNumber` computes without the standard library: integers
        /// of up to 18 digits, and decimals whose significand is at most 2^53 and power of ten
        /// within ±22 (computed the same way, so the same double). Anything else: false. The
        /// closing brace ends every digit run.
        @inline(__always)
        static func number(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ field: inout Field) -> Bool {
            var j = i
            let negative = p[j] == UInt8(ascii: "-")
            if negative { j &+= 1 }
            let first = j
            var c = p[j] &- UInt8(ascii: "0")
            guard c < 10 else { return false }
            // A leading zero must stand alone (the full parser reports "leading zeros").
            if c == 0, p[j &+ 1] &- UInt8(ascii: "0") < 10 { return false }
            var significand: UInt64 = 0
            repeat {
                significand = significand &* 10 &+ UInt64(c)
                j &+= 1
                c = p[j] &- UInt8(ascii: "0")
            } while c < 10
            var digits = j &- first
            var fractionDigits = 0
            let isInteger = p[j] != UInt8(ascii: ".")
            if !isInteger {
                j &+= 1
                let fraction = j
                c = p[j] &- UInt8(ascii: "0")
                guard c < 10 else { return false }
                repeat {
                    significand = significand &* 10 &+ UInt64(c)
                    j &+= 1
                    c = p[j] &- UInt8(ascii: "0")
                } while c < 10
                fractionDigits = j &- fraction
                digits &+= fractionDigits
            }
            // Exponents, and more digits than exact arithmetic covers, go to the full parser.
            guard digits <= 18, p[j] | 0x20 != UInt8(ascii: "e") else { return false }
            i = j
            if isInteger {
                field.kind = .int
                field.payload = negative ? -Int64(significand) : Int64(significand)
                return true
            }
            guard significand <= 1 << 53, fractionDigits <= 22 else { return false }
            let d = Double(significand) / JSONParser.powersOfTen[fractionDigits]
            field.kind = .double
            field.payload = Int64(bitPattern: (negative ? -d : d).bitPattern)
            return true
        }
    }
}
