/// A small reader of protobuf text format, enough for the conformance files (`SimpleTestFile`):
/// fields with scalars (strings with C escapes, numbers, identifiers), nested messages in `{}` or
/// `<>`, repeated fields, `[type.url/Name]` extension names, `#` comments.
final class TextMessage {
    var fields: [(name: String, value: TextValue)] = []

    func all(_ name: String) -> [TextValue] { fields.filter { $0.name == name }.map(\.value) }
    func first(_ name: String) -> TextValue? { fields.first { $0.name == name }?.value }
    func message(_ name: String) -> TextMessage? {
        if case .message(let m)? = first(name) { return m }
        return nil
    }
    func messages(_ name: String) -> [TextMessage] {
        all(name).compactMap { if case .message(let m) = $0 { m } else { nil } }
    }
    func string(_ name: String) -> String? {
        if case .string(let b)? = first(name) { return String(decoding: b, as: UTF8.self) }
        return nil
    }
    func bytes(_ name: String) -> [UInt8]? {
        if case .string(let b)? = first(name) { return b }
        return nil
    }
    func token(_ name: String) -> String? {
        if case .token(let t)? = first(name) { return t }
        return nil
    }
    var names: [String] { fields.map(\.name) }
}

enum TextValue {
    case string([UInt8])
    /// A number or identifier, as written.
    case token(String)
    case message(TextMessage)
}

struct TextProtoError: Error, CustomStringConvertible {
    var message: String
    var line: Int
    var description: String { "line \(line): \(message)" }
}

struct TextProtoReader {
    private let b: [UInt8]
    private var i = 0

    init(_ text: String) { b = Array(text.utf8) }

    static func parse(_ text: String) throws -> TextMessage {
        var r = TextProtoReader(text)
        let m = try r.message(until: nil)
        return m
    }

    private func fail(_ m: String) -> TextProtoError {
        TextProtoError(message: m, line: 1 + b[..<min(i, b.count)].filter { $0 == 0x0A }.count)
    }

    private mutating func skip() {
        while i < b.count {
            if b[i] == UInt8(ascii: "#") {
                while i < b.count, b[i] != 0x0A { i += 1 }
            } else if b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x09 || b[i] == 0x0D {
                i += 1
            } else {
                return
            }
        }
    }

    private static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
            || c == UInt8(ascii: ".") || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
    }

    private mutating func message(until close: UInt8?) throws -> TextMessage {
        let m = TextMessage()
        while true {
            skip()
            guard i < b.count else {
                if close != nil { throw fail("unterminated message") }
                return m
            }
            if let close, b[i] == close {
                i += 1
                return m
            }
            var name: String
            if b[i] == UInt8(ascii: "[") {
                let s = i + 1
                while i < b.count, b[i] != UInt8(ascii: "]") { i += 1 }
                name = "[" + String(decoding: b[s..<i], as: UTF8.self) + "]"
                i += 1
            } else {
                let s = i
                while i < b.count, Self.isNameByte(b[i]) { i += 1 }
                guard i > s else { throw fail("expected a field name") }
                name = String(decoding: b[s..<i], as: UTF8.self)
            }
            skip()
            if i < b.count, b[i] == UInt8(ascii: ":") {
                i += 1
                skip()
            }
            if i < b.count, b[i] == UInt8(ascii: "[") {
                // A repeated field written as a list.
                i += 1
                while true {
                    skip()
                    if b[i] == UInt8(ascii: "]") {
                        i += 1
                        break
                    }
                    m.fields.append((name, try value()))
                    skip()
                    if b[i] == UInt8(ascii: ",") { i += 1 }
                }
            } else {
                m.fields.append((name, try value()))
            }
            skip()
            if i < b.count, b[i] == UInt8(ascii: ",") || b[i] == UInt8(ascii: ";") { i += 1 }
        }
    }

    private mutating func value() throws -> TextValue {
        guard i < b.count else { throw fail("expected a value") }
        let c = b[i]
        if c == UInt8(ascii: "{") || c == UInt8(ascii: "<") {
            i += 1
            return .message(try message(until: c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: ">")))
        }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            var out: [UInt8] = []
            // Adjacent strings concatenate.
            while i < b.count, b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") {
                out += try quoted()
                skip()
            }
            return .string(out)
        }
        let s = i
        while i < b.count, Self.isNameByte(b[i]) { i += 1 }
        guard i > s else { throw fail("unexpected character '\(UnicodeScalar(c))'") }
        return .token(String(decoding: b[s..<i], as: UTF8.self))
    }

    private mutating func quoted() throws -> [UInt8] {
        let q = b[i]
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            i += 1
            if c == q { return out }
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                continue
            }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "x"):
                var v: UInt32 = 0
                var n = 0
                while n < 2, i < b.count, let h = hex(b[i]) {
                    v = v * 16 + h
                    i += 1
                    n += 1
                }
                out.append(UInt8(v))
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                var v: UInt32 = 0
                for _ in 0..<(e == UInt8(ascii: "u") ? 4 : 8) {
                    guard i < b.count, let h = hex(b[i]) else { throw fail("bad unicode escape") }
                    v = v * 16 + h
                    i += 1
                }
                out += Array(String(Unicode.Scalar(v) ?? "\u{FFFD}").utf8)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var v = UInt32(e - 0x30)
                var n = 1
                while n < 3, i < b.count, b[i] >= 0x30, b[i] <= 0x37 {
                    v = v * 8 + UInt32(b[i] - 0x30)
                    i += 1
                    n += 1
                }
                out.append(UInt8(truncatingIfNeeded: v))
            default: out.append(e)
            }
        }
    }

    private func hex(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: UInt32(c - 0x30)
        case 0x61...0x66: UInt32(c - 0x61 + 10)
        case 0x41...0x46: UInt32(c - 0x41 + 10)
        default: nil
        }
    }
}
