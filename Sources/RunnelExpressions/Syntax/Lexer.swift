/// One lexical token with the byte offset where it starts.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case identifier(String)
        /// A backquoted selector: `` a.`content-type` ``.
        case quotedIdentifier(String)
        /// The magnitude of an int literal; the sign is a separate token so that `-9223372036854775808`
        /// can be folded by the parser.
        case int(UInt64)
        case uint(UInt64)
        case double(Double)
        case string(String)
        case bytes([UInt8])
        case punct(String)
        case end
    }
    var kind: Kind
    var offset: Int
}

/// Splits an expression into tokens, following the lexis of CEL's language definition.
struct Lexer {
    private let bytes: [UInt8]
    private let source: String
    private var i = 0

    init(_ source: String) {
        self.source = source
        bytes = Array(source.utf8)
    }

    static func tokens(_ source: String) throws(CompileError) -> [Token] {
        var lexer = Lexer(source)
        var out: [Token] = []
        while true {
            let t = try lexer.next()
            out.append(t)
            if t.kind == .end { return out }
        }
    }

    private func error(_ message: String, at offset: Int) -> CompileError {
        CompileError(message, offset: offset, source: source)
    }

    private func peek(_ k: Int = 0) -> UInt8? { i + k < bytes.count ? bytes[i + k] : nil }

    private static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == 0x5F
    }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    private static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: UInt32(c - 0x30)
        case 0x61...0x66: UInt32(c - 0x61 + 10)
        case 0x41...0x46: UInt32(c - 0x41 + 10)
        default: nil
        }
    }

    mutating func next() throws(CompileError) -> Token {
        skipSpaceAndComments()
        let start = i
        guard let c = peek() else { return Token(kind: .end, offset: i) }

        if Self.isDigit(c) || (c == UInt8(ascii: ".") && peek(1).map(Self.isDigit) == true) {
            return Token(kind: try number(), offset: start)
        }
        if Self.isIdentStart(c) {
            // String prefixes: r, b, and both in either order and case.
            var j = i
            var raw = false
            var isBytes = false
            while j < bytes.count, j - i < 2 {
                let p = bytes[j] | 0x20
                if p == UInt8(ascii: "r"), !raw { raw = true } else if p == UInt8(ascii: "b"), !isBytes { isBytes = true } else { break }
                j += 1
            }
            if j > i, j < bytes.count, bytes[j] == UInt8(ascii: "\"") || bytes[j] == UInt8(ascii: "'") {
                i = j
                return Token(kind: try quoted(raw: raw, isBytes: isBytes, start: start), offset: start)
            }
            while let d = peek(), Self.isIdentStart(d) || Self.isDigit(d) { i += 1 }
            return Token(kind: .identifier(String(decoding: bytes[start..<i], as: UTF8.self)), offset: start)
        }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            return Token(kind: try quoted(raw: false, isBytes: false, start: start), offset: start)
        }
        if c == UInt8(ascii: "`") {
            i += 1
            let s = i
            while let d = peek(), d != UInt8(ascii: "`") {
                if d == 0x0A || d == 0x0D { break }
                i += 1
            }
            guard peek() == UInt8(ascii: "`"), i > s else { throw error("unterminated or empty backquoted name", at: start) }
            let name = String(decoding: bytes[s..<i], as: UTF8.self)
            i += 1
            return Token(kind: .quotedIdentifier(name), offset: start)
        }
        for op in ["==", "!=", "<=", ">=", "&&", "||"] where matches(op) {
            i += 2
            return Token(kind: .punct(op), offset: start)
        }
        if "+-*/%<>!?:.,()[]{}".utf8.contains(c) {
            i += 1
            return Token(kind: .punct(String(UnicodeScalar(c))), offset: start)
        }
        if c == UInt8(ascii: "=") { throw error("'=' is not an operator; use '==' to compare", at: start) }
        if c == UInt8(ascii: "&") || c == UInt8(ascii: "|") {
            let s = String(UnicodeScalar(c))
            throw error("'\(s)' is not an operator; use '\(s)\(s)'", at: start)
        }
        let scalar = String(decoding: bytes[i..<min(bytes.count, i + utf8Length(c))], as: UTF8.self)
        throw error("unexpected character '\(scalar)'", at: start)
    }

    private func utf8Length(_ lead: UInt8) -> Int {
        lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }

    private func matches(_ s: String) -> Bool {
        var k = 0
        for b in s.utf8 {
            guard peek(k) == b else { return false }
            k += 1
        }
        return true
    }

    private mutating func skipSpaceAndComments() {
        while let c = peek() {
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0C {
                i += 1
            } else if c == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "/") {
                while let d = peek(), d != 0x0A { i += 1 }
            } else {
                return
            }
        }
    }

    private mutating func number() throws(CompileError) -> Token.Kind {
        let start = i
        if peek() == UInt8(ascii: "0"), let x = peek(1), x | 0x20 == UInt8(ascii: "x") {
            i += 2
            let s = i
            while let d = peek(), Self.hexValue(d) != nil { i += 1 }
            guard i > s else { throw error("a hex literal needs digits after 0x", at: start) }
            guard let v = UInt64(String(decoding: bytes[s..<i], as: UTF8.self), radix: 16) else {
                throw error("integer literal out of range", at: start)
            }
            return try integerSuffix(v, start: start)
        }
        while let d = peek(), Self.isDigit(d) { i += 1 }
        var isDouble = false
        if peek() == UInt8(ascii: "."), let d = peek(1), Self.isDigit(d) {
            isDouble = true
            i += 1
            while let d = peek(), Self.isDigit(d) { i += 1 }
        }
        if let e = peek(), e | 0x20 == UInt8(ascii: "e") {
            var k = 1
            if let s = peek(1), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { k = 2 }
            if let d = peek(k), Self.isDigit(d) {
                isDouble = true
                i += k
                while let d = peek(), Self.isDigit(d) { i += 1 }
            }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if isDouble {
            guard let v = Double(text) else { throw error("invalid number '\(text)'", at: start) }
            return .double(v)
        }
        guard let v = UInt64(text) else { throw error("integer literal out of range: \(text)", at: start) }
        return try integerSuffix(v, start: start)
    }

    private mutating func integerSuffix(_ v: UInt64, start: Int) throws(CompileError) -> Token.Kind {
        if let u = peek(), u | 0x20 == UInt8(ascii: "u") {
            i += 1
            return .uint(v)
        }
        return .int(v)
    }

    /// A quoted literal, `i` at the opening quote. Strings decode escapes to code points; bytes to
    /// octets for `\x` and octal escapes and to UTF-8 for everything else.
    private mutating func quoted(raw: Bool, isBytes: Bool, start: Int) throws(CompileError) -> Token.Kind {
        let q = bytes[i]
        let triple = peek(1) == q && peek(2) == q
        i += triple ? 3 : 1
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw error("unterminated string literal", at: start) }
            if c == q {
                if !triple {
                    i += 1
                    break
                }
                if peek(1) == q, peek(2) == q {
                    i += 3
                    break
                }
            }
            if !triple, c == 0x0A || c == 0x0D { throw error("newline in a string literal (use ''' for several lines)", at: i) }
            if c == UInt8(ascii: "\\"), !raw {
                try escape(into: &out, isBytes: isBytes)
                continue
            }
            out.append(c)
            i += 1
        }
        if isBytes { return .bytes(out) }
        return .string(String(decoding: out, as: UTF8.self))
    }

    private mutating func escape(into out: inout [UInt8], isBytes: Bool) throws(CompileError) {
        let at = i
        i += 1
        guard let c = peek() else { throw error("unterminated escape sequence", at: at) }
        i += 1
        func appendScalar(_ v: UInt32) throws(CompileError) {
            guard let s = Unicode.Scalar(v) else { throw error("invalid code point in escape sequence", at: at) }
            out.append(contentsOf: Array(String(s).utf8))
        }
        func hex(_ n: Int) throws(CompileError) -> UInt32 {
            var v: UInt32 = 0
            for _ in 0..<n {
                guard let d = peek(), let h = Self.hexValue(d) else { throw error("invalid hex escape sequence", at: at) }
                v = v * 16 + h
                i += 1
            }
            return v
        }
        switch c {
        case UInt8(ascii: "a"): out.append(0x07)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "v"): out.append(0x0B)
        case UInt8(ascii: "\\"), UInt8(ascii: "?"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"):
            out.append(c)
        case UInt8(ascii: "x"), UInt8(ascii: "X"):
            let v = try hex(2)
            if isBytes { out.append(UInt8(v)) } else { try appendScalar(v) }
        case UInt8(ascii: "u"):
            if isBytes { throw error("\\u escapes are not allowed in bytes literals", at: at) }
            try appendScalar(try hex(4))
        case UInt8(ascii: "U"):
            if isBytes { throw error("\\U escapes are not allowed in bytes literals", at: at) }
            try appendScalar(try hex(8))
        case UInt8(ascii: "0")...UInt8(ascii: "3"):
            var v = UInt32(c - 0x30)
            for _ in 0..<2 {
                guard let d = peek(), d >= 0x30, d <= 0x37 else { throw error("invalid octal escape sequence", at: at) }
                v = v * 8 + UInt32(d - 0x30)
                i += 1
            }
            if isBytes { out.append(UInt8(v)) } else { try appendScalar(v) }
        default:
            throw error("invalid escape sequence '\\\(String(UnicodeScalar(c)))'", at: at)
        }
    }
}
