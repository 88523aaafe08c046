#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A strict RFC 8259 parser from UTF-8 bytes straight to `Value`.
///
/// Iterative, not recursive: open containers live on explicit stacks (`frames`, and the
/// flattened `values` and `keys` of every open container), so a deeply nested document is
/// bounded by `JSONText.maximumDepth` and can never overflow the thread's stack, whatever the
/// stack size of the thread that parses.
struct JSONParser: ~Copyable {
    private struct Frame {
        var isObject: Bool
        /// Index in `values` of the container's first element.
        var valueStart: Int
        /// Index in `keys` of the object's first key (unused for arrays).
        var keyStart: Int
    }

    private var base: UnsafePointer<UInt8>
    private var end: Int
    private var pos = 0
    private var frames: [Frame] = []
    private var values: [Value] = []
    private var keys: [String] = []
    /// Reused buffer for strings with escapes.
    private var scratch: [UInt8] = []
    /// The keys of the last object closed at each depth (up to `reusedDepths`), when they can
    /// stand for raw bytes (no escapes, no quotes): records with the same fields — lines of JSON
    /// Lines, the elements of a page's array — then share one key array, and a key is matched by
    /// its bytes instead of being made again.
    private var lastKeys: [[String]] = []
    private static let reusedDepths = 8

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.end = count
    }

    /// Points the parser at the next document, keeping its buffers and the last keys.
    mutating func reset(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.end = count
        pos = 0
        frames.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
    }

    // MARK: - Document

    mutating func parseDocument() throws(JSONError) -> Value {
        var value: Value
        parseValue: while true {
            skipWhitespace()
            guard pos < end else { throw fail(.unexpectedEnd, "unexpected end of input, expected a value") }
            switch base[pos] {
            case UInt8(ascii: "{"):
                let bracket = pos
                pos += 1
                skipWhitespace()
                if pos < end, base[pos] == UInt8(ascii: "}") {
                    pos += 1
                    value = .object(Object())
                } else {
                    try push(isObject: true, at: bracket)
                    try parseKeyAndColon()
                    continue parseValue
                }
            case UInt8(ascii: "["):
                let bracket = pos
                pos += 1
                skipWhitespace()
                if pos < end, base[pos] == UInt8(ascii: "]") {
                    pos += 1
                    value = .array([])
                } else {
                    try push(isObject: false, at: bracket)
                    continue parseValue
                }
            case UInt8(ascii: "\""):
                value = .string(try parseString())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                value = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = try parseNumber()
            default:
                throw fail(.unexpectedCharacter, "unexpected \(describeByte(at: pos)), expected a value")
            }

            // A value is complete: hand it to the open container, closing containers as they end.
            while true {
                guard let frame = frames.last else {
                    skipWhitespace()
                    if pos != end {
                        throw fail(.trailingCharacters, "trailing characters after value")
                    }
                    return value
                }
                values.append(value)
                skipWhitespace()
                if frame.isObject {
                    guard pos < end else {
                        throw fail(.unexpectedEnd, "unexpected end of input, expected ',' or '}' after object member")
                    }
                    let c = base[pos]
                    if c == UInt8(ascii: ",") {
                        pos += 1
                        skipWhitespace()
                        try parseKeyAndColon()
                        continue parseValue
                    } else if c == UInt8(ascii: "}") {
                        pos += 1
                        value = closeObject()
                    } else {
                        throw fail(.unexpectedCharacter, "expected ',' or '}' after object member")
                    }
                } else {
                    guard pos < end else {
                        throw fail(.unexpectedEnd, "unexpected end of input, expected ',' or ']' after array element")
                    }
                    let c = base[pos]
                    if c == UInt8(ascii: ",") {
                        pos += 1
                        continue parseValue
                    } else if c == UInt8(ascii: "]") {
                        pos += 1
                        value = closeArray()
                    } else {
                        throw fail(.unexpectedCharacter, "expected ',' or ']' after array element")
                    }
                }
            }
        }
    }

    // MARK: - Containers

    /// Opens a container whose bracket is at `bracket`.
    private mutating func push(isObject: Bool, at bracket: Int) throws(JSONError) {
        guard frames.count < JSONText.maximumDepth else {
            throw fail(.tooDeep, "nesting deeper than \(JSONText.maximumDepth)", at: bracket)
        }
        if frames.capacity == 0 {
            // One allocation each instead of regrowing from empty for every record.
            frames.reserveCapacity(8)
            values.reserveCapacity(32)
            keys.reserveCapacity(32)
        }
        frames.append(Frame(isObject: isObject, valueStart: values.count, keyStart: keys.count))
    }

    /// Parses `"key"` and the `:` after it; whitespace before the key is already skipped.
    private mutating func parseKeyAndColon() throws(JSONError) {
        guard pos < end else { throw fail(.unexpectedEnd, "unexpected end of input, expected a string key") }
        guard base[pos] == UInt8(ascii: "\"") else {
            throw fail(.unexpectedCharacter, "expected a string key, found \(describeByte(at: pos))")
        }
        if frames.count <= lastKeys.count, let known = knownKey() {
            keys.append(known)
        } else {
            keys.append(try parseString())
        }
        skipWhitespace()
        guard pos < end else { throw fail(.unexpectedEnd, "unexpected end of input, expected ':' after object key") }
        guard base[pos] == UInt8(ascii: ":") else {
            throw fail(.unexpectedCharacter, "expected ':' after object key")
        }
        pos += 1
    }

    private mutating func closeArray() -> Value {
        let frame = frames.removeLast()
        let elements = Array(values[frame.valueStart...])
        values.removeSubrange(frame.valueStart...)
        return .array(elements)
    }

    /// The open object's next key when it is byte for byte the one at the same place in the
    /// last object closed at its depth; `pos` (at the opening quote) moves past it.
    @inline(__always)
    private mutating func knownKey() -> String? {
        let depth = frames.count - 1
        let index = keys.count - frames[depth].keyStart
        guard index < lastKeys[depth].count else { return nil }
        var key = lastKeys[depth][index]
        let start = pos + 1
        let matched = key.withUTF8 { bytes -> Bool in
            let n = bytes.count
            guard start + n < end, base[start + n] == UInt8(ascii: "\"") else { return false }
            return n == 0 || memcmp(base + start, bytes.baseAddress!, n) == 0
        }
        guard matched else { return nil }
        pos = start + key.utf8.count + 1
        return key
    }

    private mutating func closeObject() -> Value {
        let frame = frames.removeLast()
        let depth = frames.count
        if depth < lastKeys.count, keys.count - frame.keyStart == lastKeys[depth].count,
            keys[frame.keyStart...].elementsEqual(lastKeys[depth])
        {
            // The same fields as the last object here: share its key array (free of duplicates).
            let objectValues = Array(values[frame.valueStart...])
            keys.removeSubrange(frame.keyStart...)
            values.removeSubrange(frame.valueStart...)
            return .object(Object(keys: lastKeys[depth], values: objectValues))
        }
        let objectKeys = Array(keys[frame.keyStart...])
        let objectValues = Array(values[frame.valueStart...])
        keys.removeSubrange(frame.keyStart...)
        values.removeSubrange(frame.valueStart...)
        if Self.hasDuplicates(objectKeys) {
            // Last value wins, at the key's first position (`Object.set` semantics).
            var object = Object()
            var index: [String: Int] = [:]
            for (key, value) in zip(objectKeys, objectValues) {
                if let i = index[key] {
                    object.values[i] = value
                } else {
                    index[key] = object.keys.count
                    object.keys.append(key)
                    object.values.append(value)
                }
            }
            return .object(object)
        }
        if depth < Self.reusedDepths, objectKeys.allSatisfy(Self.standsForItsBytes) {
            while lastKeys.count <= depth { lastKeys.append([]) }
            lastKeys[depth] = objectKeys
        }
        return .object(Object(keys: objectKeys, values: objectValues))
    }

    /// True when the key's text is its raw JSON bytes: no quote, backslash or control character
    /// (which the raw form would escape), so matching raw bytes against it is exact.
    private static func standsForItsBytes(_ key: String) -> Bool {
        !key.utf8.contains { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }
    }

    private static func hasDuplicates(_ keys: [String]) -> Bool {
        if keys.count < 2 { return false }
        if keys.count <= 16 {
            // Records are small: pairwise comparison beats hashing (small strings compare as bits).
            // Comparing lengths first avoids the out-of-line comparison of unequal strings.
            for i in 1..<keys.count {
                let length = keys[i].utf8.count
                for j in 0..<i where keys[j].utf8.count == length && keys[i] == keys[j] { return true }
            }
            return false
        }
        var seen = Set<String>(minimumCapacity: keys.count)
        for key in keys where !seen.insert(key).inserted { return true }
        return false
    }

    // MARK: - Scalars

    @inline(__always)
    private mutating func skipWhitespace() {
        while pos < end {
            switch base[pos] {
            case 0x20, 0x0A, 0x0D, 0x09: pos += 1
            default: return
            }
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let n = literal.utf8CodeUnitCount
        let text = literal.utf8Start
        for i in 0..<n {
            guard pos + i < end else {
                throw fail(.unexpectedEnd, "unexpected end of input in literal '\(literal)'", at: pos + i)
            }
            guard base[pos + i] == text[i] else {
                throw fail(.unexpectedCharacter, "invalid literal, expected '\(literal)'", at: pos + i)
            }
        }
        pos += n
    }

    static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    ///
    /// Integers that fit `Int64` become `.int` (`-0` becomes `.int(0)`); everything else becomes
    /// `.double`. Decimal values with at most 2^53 as significand and a power of ten up to 22 are
    /// computed exactly (Clinger's fast path: one correctly rounded multiplication or division);
    /// the rest go to the standard library's correctly rounded `Double(_: Substring)`. Underflow
    /// becomes ±0; overflow (`1e400`) is an error, `numberOutOfRange`: an infinity has no JSON
    /// form and stores turned it into NULL without a word.
    private mutating func parseNumber() throws(JSONError) -> Value {
        let start = pos
        var negative = false
        if base[pos] == UInt8(ascii: "-") {
            negative = true
            pos += 1
        }
        guard pos < end else { throw fail(.unexpectedEnd, "unexpected end of input in number, expected a digit") }

        var significand: UInt64 = 0
        var significandOverflow = false
        @inline(__always) func accumulate(_ digit: UInt8) {
            let d = UInt64(digit &- UInt8(ascii: "0"))
            let (m, o1) = significand.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { significandOverflow = true } else { significand = s }
        }

        let first = base[pos]
        if first == UInt8(ascii: "0") {
            pos += 1
            if pos < end, isDigit(base[pos]) {
                throw fail(.invalidNumber, "leading zeros are not allowed in numbers")
            }
        } else if isDigit(first) {
            while pos < end, isDigit(base[pos]) {
                accumulate(base[pos])
                pos += 1
            }
        } else {
            throw fail(.invalidNumber, "expected a digit in number, found \(describeByte(at: pos))")
        }

        var isInteger = true
        var fractionDigits = 0
        if pos < end, base[pos] == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            guard pos < end else { throw fail(.unexpectedEnd, "unexpected end of input in number, expected a digit after '.'") }
            guard isDigit(base[pos]) else { throw fail(.invalidNumber, "expected a digit after '.' in number") }
            while pos < end, isDigit(base[pos]) {
                accumulate(base[pos])
                fractionDigits += 1
                pos += 1
            }
        }
        var exponent = 0
        if pos < end, base[pos] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            pos += 1
            var exponentNegative = false
            if pos < end, base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-") {
                exponentNegative = base[pos] == UInt8(ascii: "-")
                pos += 1
            }
            guard pos < end else { throw fail(.unexpectedEnd, "unexpected end of input in number, expected an exponent") }
            guard isDigit(base[pos]) else { throw fail(.invalidNumber, "expected a digit in exponent") }
            while pos < end, isDigit(base[pos]) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(base[pos] &- UInt8(ascii: "0")) }
                pos += 1
            }
            if exponentNegative { exponent = -exponent }
        }

        if isInteger && !significandOverflow {
            if negative {
                if significand <= UInt64(Int64.max) { return .int(-Int64(significand)) }
                if significand == UInt64(Int64.max) + 1 { return .int(.min) }
            } else if significand <= UInt64(Int64.max) {
                return .int(Int64(significand))
            }
        }
        if !significandOverflow && significand <= 1 << 53 {
            let power = exponent - fractionDigits
            if power >= -22 && power <= 22 {
                var d = Double(significand)
                if power < 0 { d /= Self.powersOfTen[-power] } else { d *= Self.powersOfTen[power] }
                return .double(negative ? -d : d)
            }
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
        guard let d = Double(text[...]) else {
            throw fail(.invalidNumber, "number out of range", at: start)
        }
        guard d.isFinite else {
            throw fail(
                .numberOutOfRange, "number \(text.prefix(40)) is beyond the range of a double (about ±1.8e308)", at: start)
        }
        return .double(d)
    }

    @inline(__always)
    private func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    // MARK: - Strings

    private static let quotes: UInt64 = 0x2222_2222_2222_2222
    private static let backslashes: UInt64 = 0x5C5C_5C5C_5C5C_5C5C
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Parses a string starting at its opening quote. Strings without escapes are created straight
    /// from the input bytes; the scan looks at eight bytes at a time until one of them is a quote,
    /// a backslash or a control character.
    private mutating func parseString() throws(JSONError) -> String {
        let open = pos
        pos += 1
        let start = pos
        var high: UInt64 = 0
        while pos + 8 <= end {
            let word = UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self)
            let q = word ^ Self.quotes
            let b = word ^ Self.backslashes
            // Classic "has a zero byte" and "has a byte less than n" tests (exact for "any").
            let special =
                ((q &- Self.ones) & ~q) | ((b &- Self.ones) & ~b) | ((word &- Self.ones &* 0x20) & ~word)
            if special & Self.highBits != 0 { break }
            high |= word
            pos += 8
        }
        while pos < end {
            let c = base[pos]
            if c == UInt8(ascii: "\"") {
                let span = UnsafeBufferPointer(start: base + start, count: pos - start)
                pos += 1
                if high & Self.highBits == 0 {
                    return String(decoding: span, as: UTF8.self)
                }
                if let s = String(validating: span, as: UTF8.self) { return s }
                throw invalidUTF8(in: start..<(pos - 1))
            }
            if c == UInt8(ascii: "\\") {
                return try parseEscapedString(open: open, start: start, high: high)
            }
            if c < 0x20 {
                throw fail(.invalidString, "unescaped control character \(hex(c)) in string")
            }
            high |= UInt64(c)
            pos += 1
        }
        throw fail(.unexpectedEnd, "unterminated string", at: open)
    }

    /// The slow path, from the first backslash: decodes into `scratch`.
    private mutating func parseEscapedString(open: Int, start: Int, high highSoFar: UInt64) throws(JSONError) -> String {
        var high = highSoFar
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: pos - start))
        while pos < end {
            let c = base[pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                // Escapes always produce complete, valid sequences, so `scratch` is valid exactly
                // when the raw bytes of the string are.
                if high & Self.highBits == 0 {
                    return String(decoding: scratch, as: UTF8.self)
                }
                if let s = String(validating: scratch, as: UTF8.self) { return s }
                throw invalidUTF8(in: start..<(pos - 1))
            }
            if c == UInt8(ascii: "\\") {
                try parseEscape()
                continue
            }
            if c < 0x20 {
                throw fail(.invalidString, "unescaped control character \(hex(c)) in string")
            }
            high |= UInt64(c)
            scratch.append(c)
            pos += 1
        }
        throw fail(.unexpectedEnd, "unterminated string", at: open)
    }

    /// Decodes one escape at `pos` (the backslash) into `scratch`.
    ///
    /// A `\uXXXX` surrogate pair becomes one scalar. A lone surrogate (a high one not followed by
    /// a low one, or a low one on its own) cannot be represented in a Swift `String` and becomes
    /// U+FFFD, like most parsers do; the escape after an unpaired high surrogate is decoded on
    /// its own.
    private mutating func parseEscape() throws(JSONError) {
        let backslash = pos
        pos += 1
        guard pos < end else { throw fail(.unexpectedEnd, "unterminated string", at: backslash) }
        let e = base[pos]
        pos += 1
        switch e {
        case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try parseHex4(escapeStart: backslash)
            var scalar: UInt32
            switch unit {
            case 0xD800...0xDBFF:
                scalar = 0xFFFD
                if pos + 6 <= end, base[pos] == UInt8(ascii: "\\"), base[pos + 1] == UInt8(ascii: "u") {
                    let save = pos
                    pos += 2
                    if let low = hex4(at: pos), (0xDC00...0xDFFF).contains(low) {
                        pos += 4
                        scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    } else {
                        pos = save
                    }
                }
            case 0xDC00...0xDFFF:
                scalar = 0xFFFD
            default:
                scalar = UInt32(unit)
            }
            appendUTF8(scalar)
        default:
            throw fail(.invalidString, "invalid escape sequence '\\\(describeEscaped(e))' in string", at: backslash)
        }
    }

    private mutating func parseHex4(escapeStart: Int) throws(JSONError) -> UInt16 {
        guard pos + 4 <= end else {
            throw fail(.unexpectedEnd, "unexpected end of input in \\u escape", at: escapeStart)
        }
        guard let v = hex4(at: pos) else {
            throw fail(.invalidString, "invalid \\u escape, expected four hexadecimal digits", at: escapeStart)
        }
        pos += 4
        return v
    }

    private func hex4(at i: Int) -> UInt16? {
        guard i + 4 <= end else { return nil }
        var v: UInt16 = 0
        for k in 0..<4 {
            let c = base[i + k]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            v = v << 4 | UInt16(d)
        }
        return v
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    // MARK: - Errors

    /// The error for invalid UTF-8 somewhere in `range`, located at the first bad byte.
    private func invalidUTF8(in range: Range<Int>) -> JSONError {
        let at = UTF8Check.firstInvalidOffset(UnsafeBufferPointer(start: base + range.lowerBound, count: range.count))
        return fail(.invalidString, "invalid UTF-8 in string", at: range.lowerBound + (at ?? 0))
    }

    private func fail(_ code: JSONError.Code, _ message: String) -> JSONError {
        fail(code, message, at: pos)
    }

    @inline(never)
    private func fail(_ code: JSONError.Code, _ message: String, at offset: Int) -> JSONError {
        let offset = min(offset, end)
        var line = 1
        var lineStart = 0
        for i in 0..<offset where base[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        return JSONError(code: code, message: message, offset: offset, line: line, column: offset - lineStart + 1)
    }

    private func describeByte(at i: Int) -> String {
        guard i < end else { return "end of input" }
        let c = base[i]
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte \(hex(c))"
    }

    private func describeEscaped(_ c: UInt8) -> String {
        c >= 0x21 && c < 0x7F ? String(Character(Unicode.Scalar(c))) : hex(c)
    }

    private func hex(_ c: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "0x" + String(digits[Int(c >> 4)]) + String(digits[Int(c & 0xF)])
    }
}

/// UTF-8 well-formedness as in the Unicode standard (table 3-7): no overlong forms, no
/// surrogates, nothing above U+10FFFF. Used to locate an error the standard library found, and
/// by the parsers' fast paths to check non-ASCII bytes without making a `String`.
public enum UTF8Check {
    /// Whether every byte is below 0x80: eight at a time.
    @inline(__always)
    public static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = bytes.baseAddress else { return true }
        let n = bytes.count
        var i = 0
        var any: UInt64 = 0
        while i &+ 8 <= n {
            any |= UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
            i &+= 8
        }
        var tail: UInt8 = 0
        while i < n {
            tail |= p[i]
            i &+= 1
        }
        return any & 0x8080_8080_8080_8080 == 0 && tail < 0x80
    }

    public static func firstInvalidOffset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch b0 {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            let b1 = bytes[i + 1]
            guard b1 >= low && b1 <= high else { return i }
            for k in 2..<max(2, length) where bytes[i + k] & 0xC0 != 0x80 { return i }
            i += length
        }
        return nil
    }
}
