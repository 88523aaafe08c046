import Foundation
import RunnelTesting
import Testing

@testable import RunnelCore


private func parse(_ text: String) throws(JSONError) -> Value { try JSONText.parse(text) }

private func parseError(_ bytes: [UInt8]) -> JSONError? {
    do {
        _ = try JSONText.parse(bytes)
        return nil
    } catch {
        return error
    }
}

struct JSONParseTests {
    /// `{"amount": 1e400}` loaded as NULL with status ok: an overflow is now an error of its own.
    @Test(arguments: ["1e400", "-1e400", "1e99999999999999999999", "{\"amount\": 1e400}"])
    func aNumberBeyondTheRangeOfADoubleIsRejected(text: String) {
        #expect(throws: JSONError.self) { try parse(text) }
        do {
            _ = try parse(text)
        } catch {
            #expect(error.code == .numberOutOfRange && error.code.description == "number_out_of_range")
            #expect(error.message.contains("beyond the range of a double"))
        }
    }

    @Test func scalarsAndContainers() throws {
        #expect(try parse("null") == .null)
        #expect(try parse(" true ") == .bool(true))
        #expect(try parse("\n\t\r false") == .bool(false))
        #expect(try parse(#""hi""#) == .string("hi"))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object(Object()))
        #expect(try parse(#"[1, "a", null, [true], {"k": -2.5}]"#)
            == .array([.int(1), .string("a"), .null, .array([.bool(true)]),
                       .object(Object(keys: ["k"], values: [.double(-2.5)]))]))
        let record = try parse(#"{"id": 7, "name": "Ann", "tags": ["x", "y"], "address": {"city": "Oslo"}}"#)
        #expect(record == .object(Object(
            keys: ["id", "name", "tags", "address"],
            values: [.int(7), .string("Ann"), .array(["x", "y"]), .object(Object(keys: ["city"], values: ["Oslo"]))])))
    }

    @Test func keysKeepInputOrder() throws {
        guard case .object(let o) = try parse(#"{"z":1,"a":2,"m":3}"#) else {
            Issue.record("not an object")
            return
        }
        #expect(o.keys == ["z", "a", "m"])
    }

    @Test(arguments: [
        ("0", Value.int(0)), ("-0", .int(0)), ("123", .int(123)), ("-45", .int(-45)),
        ("9223372036854775807", .int(.max)), ("-9223372036854775808", .int(.min)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808)),
        ("-9223372036854775809", .double(-9_223_372_036_854_775_808)),
        ("123456789012345678901234567890", .double(1.2345678901234568e29)),
        ("1.0", .double(1)), ("1.5", .double(1.5)), ("-0.0", .double(-0.0)), ("1e2", .double(100)),
        ("1E+2", .double(100)), ("1e-2", .double(0.01)), ("0.1", .double(0.1)),
        ("1e-400", .double(0)), ("123e-10000000", .double(0)),
        ("4.9e-324", .double(.leastNonzeroMagnitude)), ("1.7976931348623157e308", .double(.greatestFiniteMagnitude)),
        ("2.2250738585072014e-308", .double(.leastNormalMagnitude)), ("0.30000000000000004", .double(0.30000000000000004)),
        ("9007199254740993", .int(9_007_199_254_740_993)), ("9007199254740993.0", .double(9_007_199_254_740_992)),
    ])
    func numbers(text: String, expected: Value) throws {
        #expect(try parse(text) == expected)
        #expect(try parse("[\(text)]") == .array([expected]))
    }

    /// The exact fast path (Clinger) and the fallback must both agree with the standard library.
    @Test func decimalsAgreeWithStandardLibrary() throws {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<20_000 {
            let digits = Int.random(in: 1...19, using: &rng)
            var text = String(UInt64.random(in: 0...UInt64.max, using: &rng)).prefix(digits).description
            if text.count > 1 { text.insert(".", at: text.index(text.startIndex, offsetBy: Int.random(in: 1..<text.count, using: &rng))) }
            if text.hasPrefix("0"), text.count > 1, !text.hasPrefix("0.") { text.removeFirst() }
            if Bool.random(using: &rng) { text += "e\(Int.random(in: -30...30, using: &rng))" }
            if !text.contains(".") && !text.contains("e") { text += ".0" }
            let parsed = try parse(text)
            #expect(parsed == .double(Double(text)!), "\(text)")
        }
    }

    @Test func doublesRoundTripThroughTheirText() throws {
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<20_000 {
            let d = Double(bitPattern: rng.next())
            guard d.isFinite else { continue }
            #expect(try parse(JSONText.encode(.double(d))) == .double(d))
        }
    }

    @Test func escapes() throws {
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try parse(#""a\u0041\u00e9\u20AC""#) == .string("aAé€"))
        #expect(try parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try parse(#"{"k\u00e9y": "v\nw"}"#) == .object(Object(keys: ["kéy"], values: ["v\nw"])))
        // Escape after a long unescaped prefix (the 8-byte scan hands over to the slow path).
        #expect(try parse(#""abcdefghijklmnop\tq""#) == .string("abcdefghijklmnop\tq"))
    }

    @Test(arguments: [
        (#""\uD83D\uDE00""#, "😀"),
        (#""\ud834\udd1e""#, "𝄞"),
        // Lone surrogates cannot be held by a Swift String: each becomes U+FFFD.
        (#""\uD800""#, "\u{FFFD}"),
        (#""\uDC00""#, "\u{FFFD}"),
        (#""\uD800x""#, "\u{FFFD}x"),
        (#""\uD800\u0041""#, "\u{FFFD}A"),
        (#""\uD800\uD800\uDC00""#, "\u{FFFD}\u{10000}"),
        (#""\uDC00\uD800""#, "\u{FFFD}\u{FFFD}"),
        (#""\uD800\n""#, "\u{FFFD}\n"),
    ])
    func surrogates(text: String, expected: String) throws {
        #expect(try parse(text) == .string(expected))
    }

    @Test func rawUTF8IsKept() throws {
        #expect(try parse("\"héllo wörld — 😀 漢字\"") == .string("héllo wörld — 😀 漢字"))
        #expect(try parse("\"\u{FFFF}\u{10FFFF}\"") == .string("\u{FFFF}\u{10FFFF}"))
    }

    @Test(arguments: [
        [0x22, 0x61, 0xC3, 0x28, 0x22],  // lead byte without continuation
        [0x22, 0x61, 0x80, 0x22],  // lone continuation byte
        [0x22, 0x61, 0xC0, 0xAF, 0x22],  // overlong '/'
        [0x22, 0x61, 0xED, 0xA0, 0x80, 0x22],  // encoded surrogate
        [0x22, 0x61, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
        [0x22, 0x61, 0xFF, 0x22],
        [0x22, 0x61, 0x5C, 0x6E, 0xE2, 0x82, 0x22],  // truncated after an escape (slow path)
    ] as [[UInt8]])
    func invalidUTF8IsAnError(bytes: [UInt8]) {
        let error = parseError(bytes)
        #expect(error?.code == .invalidString)
        #expect(error?.message == "invalid UTF-8 in string")
        let expectedOffset = bytes[3] == 0x6E ? 4 : 2
        #expect(error?.offset == expectedOffset)
    }

    @Test func invalidUTF8InALongStringIsFoundPastTheFastScan() {
        var bytes: [UInt8] = [0x22] + Array(repeating: UInt8(ascii: "a"), count: 40)
        bytes += [0xC3] + Array(repeating: UInt8(ascii: "b"), count: 20) + [0x22]
        let error = parseError(bytes)
        #expect(error?.message == "invalid UTF-8 in string")
        #expect(error?.offset == 41)
    }

    @Test(arguments: [UInt8](0..<0x20))
    func rawControlCharacterInStringIsAnError(byte: UInt8) {
        let error = parseError([0x22, 0x61, byte, 0x62, 0x22])
        #expect(error?.code == .invalidString)
        #expect(error?.message.hasPrefix("unescaped control character") == true)
        #expect(error?.offset == 2)
    }

    @Test(arguments: [
        ("", JSONError.Code.unexpectedEnd, "empty input, expected a value", 0),
        ("   ", .unexpectedEnd, "unexpected end of input, expected a value", 3),
        (#"{"a":1 "b":2}"#, .unexpectedCharacter, "expected ',' or '}' after object member", 7),
        ("[1 2]", .unexpectedCharacter, "expected ',' or ']' after array element", 3),
        ("[1,2", .unexpectedEnd, "unexpected end of input, expected ',' or ']' after array element", 4),
        (#"{"a":1"#, .unexpectedEnd, "unexpected end of input, expected ',' or '}' after object member", 6),
        ("[1,]", .unexpectedCharacter, "unexpected ']', expected a value", 3),
        (#"{"a":1,}"#, .unexpectedCharacter, "expected a string key, found '}'", 7),
        (#"{"a" 1}"#, .unexpectedCharacter, "expected ':' after object key", 5),
        ("{a:1}", .unexpectedCharacter, "expected a string key, found 'a'", 1),
        (#""abc"#, .unexpectedEnd, "unterminated string", 0),
        (#"["abc\"]"#, .unexpectedEnd, "unterminated string", 1),
        (#""\x""#, .invalidString, "invalid escape sequence '\\x' in string", 1),
        (#""\u12G4""#, .invalidString, "invalid \\u escape, expected four hexadecimal digits", 1),
        (#""\u12"#, .unexpectedEnd, "unexpected end of input in \\u escape", 1),
        ("01", .invalidNumber, "leading zeros are not allowed in numbers", 1),
        ("-", .unexpectedEnd, "unexpected end of input in number, expected a digit", 1),
        ("-a", .invalidNumber, "expected a digit in number, found 'a'", 1),
        ("1.", .unexpectedEnd, "unexpected end of input in number, expected a digit after '.'", 2),
        ("1.e5", .invalidNumber, "expected a digit after '.' in number", 2),
        ("1e+", .unexpectedEnd, "unexpected end of input in number, expected an exponent", 3),
        (".5", .unexpectedCharacter, "unexpected '.', expected a value", 0),
        ("+1", .unexpectedCharacter, "unexpected '+', expected a value", 0),
        ("tru", .unexpectedEnd, "unexpected end of input in literal 'true'", 3),
        ("nul!", .unexpectedCharacter, "invalid literal, expected 'null'", 3),
        ("1 2", .trailingCharacters, "trailing characters after value", 2),
        ("{} x", .trailingCharacters, "trailing characters after value", 3),
        ("\u{FEFF}{}", .unexpectedCharacter, "unexpected byte 0xEF, expected a value", 0),
    ])
    func errorsSayWhatAndWhere(text: String, code: JSONError.Code, message: String, offset: Int) {
        let error = parseError(Array(text.utf8))
        #expect(error?.code == code)
        #expect(error?.message == message)
        #expect(error?.offset == offset)
        #expect(error?.column == offset + 1)
    }

    @Test func errorLineAndColumnCountFromTheLastNewline() {
        let error = parseError(Array("[\n  1,\n  x]".utf8))
        #expect(error?.line == 3)
        #expect(error?.column == 3)
        #expect(error?.offset == 9)
        #expect(error?.description == "invalid JSON at line 3, column 3 (byte 9): unexpected 'x', expected a value")
    }

    @Test func nestingUpTo512IsAccepted() throws {
        let depth = JSONText.maximumDepth
        var value = try parse(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        var levels = 0
        while case .array(let inner) = value {
            levels += 1
            value = inner.first ?? .null
        }
        #expect(levels == 512)
        let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        #expect(throws: Never.self) { try parse(objects) }
    }

    @Test(arguments: [513, 100_000, 5_000_000])
    func deeperNestingIsAnErrorNotACrash(depth: Int) {
        let error = parseError(Array(repeating: UInt8(ascii: "["), count: depth))
        #expect(error?.code == .tooDeep)
        #expect(error?.message == "nesting deeper than 512")
        #expect(error?.offset == 512)
        let mixed = parseError(Array(String(repeating: #"{"a":["#, count: depth / 2 + 1).utf8))
        #expect(mixed?.code == .tooDeep)
    }

    @Test func duplicateKeysKeepFirstPositionAndLastValue() throws {
        #expect(try parse(#"{"a":1,"b":2,"a":3}"#) == .object(Object(keys: ["a", "b"], values: [3, 2])))
        // Large objects take the hashing path.
        var members = (0..<40).map { #""k\#($0)":\#($0)"# }
        members.append(#""k5":"last""#)
        guard case .object(let o) = try parse("{" + members.joined(separator: ",") + "}") else {
            Issue.record("not an object")
            return
        }
        #expect(o.count == 40)
        #expect(o.keys[5] == "k5")
        #expect(o["k5"] == .string("last"))
        #expect(o.keys.last == "k39")
    }

    /// Parses `bytes` from an allocation of exactly their size, so that a read past the end is
    /// caught by the address sanitizer (`swift test --sanitize=address`).
    private func parseExact(_ bytes: ArraySlice<UInt8>) -> Result<Value, JSONError> {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        return Result { () throws(JSONError) in try JSONText.parse(UnsafeRawBufferPointer(buffer)) }
    }

    @Test func truncatedAndMutatedDocumentsAreRejectedWithoutCrashing() throws {
        let documents = [
            #"{"id":123,"name":"Zo\u00eb \"Z\"","price":-1.25e-3,"tags":["a","\ud83d\ude00"],"ok":true,"n":null,"o":{}}"#,
            #"[0,-0.5,1E+2,"long string without escapes",[[[]]],{"k":[false]}]"#,
        ]
        var rng = SeededGenerator(seed: 5)
        for document in documents {
            let bytes = Array(document.utf8)
            guard case .success = parseExact(bytes[...]) else {
                Issue.record("valid document rejected: \(document)")
                continue
            }
            // Every proper prefix of an array or object is incomplete.
            for length in 0..<bytes.count {
                guard case .failure(let error) = parseExact(bytes[..<length]) else {
                    Issue.record("prefix of \(length) bytes accepted")
                    continue
                }
                #expect(error.offset <= length)
            }
            for _ in 0..<3_000 {
                var mutated = bytes
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    mutated[Int.random(in: 0..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if case .failure(let error) = parseExact(mutated[...]) {
                    #expect(error.offset <= mutated.count)
                }
            }
        }
    }

    @Test func entryPointsAgree() throws {
        let text = #"{"a":[1,2.5,"x"]}"#
        let fromString = try JSONText.parse(text)
        let fromArray = try JSONText.parse(Array(text.utf8))
        let fromBuffer = try Array(text.utf8).withUnsafeBytes { raw throws(JSONError) in try JSONText.parse(raw) }
        #expect(fromString == fromArray)
        #expect(fromString == fromBuffer)
        // A slice of a larger buffer: the parser must not read past its end.
        let line = try Array("xx[1,2]yy".utf8).withUnsafeBytes { raw throws(JSONError) in
            try JSONText.parse(UnsafeRawBufferPointer(rebasing: raw[2..<7]))
        }
        #expect(line == .array([1, 2]))
    }
}

struct JSONWriteTests {
    @Test(arguments: [
        (Value.null, "null"), (.bool(true), "true"), (.bool(false), "false"),
        (.int(0), "0"), (.int(7), "7"), (.int(-7), "-7"), (.int(1234567890), "1234567890"),
        (.int(.max), "9223372036854775807"), (.int(.min), "-9223372036854775808"),
        (.double(1), "1.0"), (.double(-0.0), "-0.0"), (.double(0.1), "0.1"), (.double(19.99), "19.99"),
        (.double(1e16), "1e+16"), (.double(.leastNonzeroMagnitude), "5e-324"), (.double(1.0e-7), "1e-07"),
        (.double(.nan), "null"), (.double(.infinity), "null"), (.double(-.infinity), "null"),
        (.string(""), #""""#), (.string("plain"), #""plain""#),
        (.string("q\"b\\s/\n\r\t\u{8}\u{C}\u{0}\u{1F}\u{7F}"), #""q\"b\\s/\n\r\t\b\f\u0000\u001f\#u{7F}""#),
        (.string("héllo 😀 漢字"), "\"héllo 😀 漢字\""),
        (.timestamp(Timestamp(microseconds: 1_700_000_000_123_456)), #""2023-11-14T22:13:20.123456Z""#),
        (.timestamp(Timestamp(seconds: 0)), #""1970-01-01T00:00:00Z""#),
        (.array([]), "[]"), (.object(Object()), "{}"),
        (.array([1, "a", nil, .array([true])]), #"[1,"a",null,[true]]"#),
        (.object(Object(keys: ["z", "a\"k"], values: [1.5, .object(Object(keys: ["n"], values: [nil]))])),
         #"{"z":1.5,"a\"k":{"n":null}}"#),
    ])
    func encodes(value: Value, expected: String) {
        #expect(JSONText.encode(value) == expected)
    }

    @Test func writeAppends() {
        var out = Array("prefix ".utf8)
        JSONText.write(.object(Object(keys: ["a"], values: [1])), into: &out)
        out.append(0x0A)
        JSONText.write(.array(["é"]), into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "prefix {\"a\":1}\n[\"é\"]")
    }

    @Test func valueTextUsesTheWriterForContainers() {
        #expect(Value.array([1, "x"]).text == #"[1,"x"]"#)
    }

    @Test func longStringsWithEscapesEverywhere() throws {
        let s = String(repeating: "abc\"def\\ghi\n", count: 10_000) + "é"
        let text = JSONText.encode(.string(s))
        #expect(try parse(text) == .string(s))
    }

    @Test func randomValuesRoundTrip() throws {
        var rng = SeededGenerator(seed: 2024)
        for _ in 0..<2_000 {
            let value = Self.randomValue(depth: 0, using: &rng)
            let text = JSONText.encode(value)
            let back = try JSONText.parse(text)
            #expect(back == value, "\(text)")
        }
    }

    /// Any value JSON can hold: no timestamps (they read back as strings), finite doubles, unique keys.
    private static func randomValue(depth: Int, using rng: inout SeededGenerator) -> Value {
        switch Int.random(in: 0..<(depth < 4 ? 8 : 6), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int64(bitPattern: rng.next()) >> Int64.random(in: 0...63, using: &rng))
        case 3:
            var d: Double
            repeat { d = Double(bitPattern: rng.next()) } while !d.isFinite
            return .double(Bool.random(using: &rng) ? d : Double(Int.random(in: -1000...1000, using: &rng)) / 8)
        case 4, 5: return .string(randomString(using: &rng))
        case 6: return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in randomValue(depth: depth + 1, using: &rng) })
        default:
            var object = Object()
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                object.set(randomString(using: &rng), randomValue(depth: depth + 1, using: &rng))
            }
            return .object(object)
        }
    }

    private static func randomString(using rng: inout SeededGenerator) -> String {
        let pieces: [String] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "€", "😀", "\u{FFFF}", "abcdefghij"]
        return (0..<Int.random(in: 0...12, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
    }
}

/// JSONTestSuite (github.com/nst/JSONTestSuite, test_parsing): `y_` must parse, `n_` must be
/// rejected with a `JSONError`, `i_` may go either way but must not crash.
enum JSONTestSuite {
    /// `<package root>/../shared/testdata/json-test-suite/test_parsing`, where CI lays it.
    static let expectedPath: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // RunnelCoreTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("../shared/testdata/json-test-suite/test_parsing")
        .standardizedFileURL.path

    /// The suite's folder, or nil in a checkout without it.
    static let directory: URL? = {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: expectedPath, isDirectory: &isDirectory), isDirectory.boolValue else {
            return nil
        }
        return URL(fileURLWithPath: expectedPath, isDirectory: true)
    }()

    static func files(_ prefix: String) -> [String] {
        guard let directory, let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
            return []
        }
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: directory!.appendingPathComponent(name)))
    }
}

// The folder is test data from a public suite that CI lays beside the checkout; a checkout
// without it skips these tests (reported as skipped, with this reason) rather than failing.
@Suite(.enabled(
    if: JSONTestSuite.directory != nil,
    Comment(rawValue: "JSONTestSuite not found at \(JSONTestSuite.expectedPath); JSON conformance not checked")))
struct JSONConformanceTests {
    @Test func suiteIsComplete() {
        #expect(JSONTestSuite.files("y_").count >= 95)
        #expect(JSONTestSuite.files("n_").count >= 188)
        #expect(JSONTestSuite.files("i_").count >= 35)
    }

    @Test(arguments: JSONTestSuite.files("y_"))
    func accepts(file: String) throws {
        let bytes = try JSONTestSuite.bytes(file)
        let value = try JSONText.parse(bytes)
        // What was accepted must also survive our writer.
        #expect(try JSONText.parse(JSONText.encode(value)) == value)
    }

    @Test(arguments: JSONTestSuite.files("n_"))
    func rejects(file: String) throws {
        let bytes = try JSONTestSuite.bytes(file)
        #expect(throws: JSONError.self) { try JSONText.parse(bytes) }
    }

    @Test(arguments: JSONTestSuite.files("i_"))
    func survivesImplementationDefined(file: String) throws {
        let bytes = try JSONTestSuite.bytes(file)
        do {
            let value = try JSONText.parse(bytes)
            if Self.isFinite(value) {
                #expect(try JSONText.parse(JSONText.encode(value)) == value)
            } else {
                #expect(JSONText.encode(value).contains("null"))  // ±infinity has no JSON form
            }
        } catch {
            #expect(error.offset <= bytes.count)
        }
    }

    private static func isFinite(_ value: Value) -> Bool {
        switch value {
        case .double(let d): d.isFinite
        case .array(let a): a.allSatisfy(isFinite)
        case .object(let o): o.values.allSatisfy(isFinite)
        default: true
        }
    }
}

/// `JSONText.Stream` reuses the last record's keys: it must parse every document exactly as a
/// parse of that document alone does, whatever the keys before it were.
@Suite struct JSONStreamTests {
    @Test func aStreamParsesEachDocumentAsAParseOfItAlone() throws {
        let documents = [
            #"{"id":1,"name":"a"}"#,
            #"{"id":2,"name":"b"}"#,
            #"{"id":3,"name":"c","extra":true}"#,
            #"{"i":4,"name":"d"}"#,
            #"{"id\"":5,"name":"e"}"#,
            #"{"id":6,"id":7}"#,
            #"{"id":8,"name\u0041":"f"}"#,
            #"{"id":9,"nameA":"g"}"#,
            #"{"nested":{"id":1,"name":"x"},"id":10}"#,
            #"{"nested":{"id":1,"name":"y"},"id":11}"#,
            #"{"ïd":12,"name":"h"}"#,
            #"{"ïd":13,"name":"i"}"#,
            #"{}"#,
            #"{"id":14}"#,
            #"[{"id":15}]"#,
            #"{"id":16,"name":"j"}"#,
        ]
        let stream = JSONText.Stream()
        for d in documents {
            var text = d
            let fromStream = try text.withUTF8 { try stream.parse(UnsafeRawBufferPointer($0)) }
            #expect(fromStream == (try JSONText.parse(d)), "\(d)")
        }
    }

    @Test func randomRecordsOverFewKeysParseAsAlone() throws {
        var rng = SeededGenerator(seed: 5)
        let names = ["a", "b", "ab", "a\\\"", "b\\u0062", "long_field_name_over_15", "é"]
        let stream = JSONText.Stream()
        for _ in 0..<2_000 {
            let n = Int(rng.next() % 4)
            let fields = (0..<n).map { _ in "\"\(names[Int(rng.next() % UInt64(names.count))])\":\(rng.next() % 100)" }
            let d = "{" + fields.joined(separator: ",") + "}"
            var text = d
            let fromStream = try text.withUTF8 { try stream.parse(UnsafeRawBufferPointer($0)) }
            #expect(fromStream == (try JSONText.parse(d)), "\(d)")
        }
    }
}

@Suite struct FieldUnionTests {
    @Test func rowsFollowTheUnionOfKeysInOrderOfFirstAppearance() {
        let a = Object(keys: ["id", "name"], values: [1, "a"])
        let b = Object(keys: ["name", "extra"], values: ["b", true])
        let c = Object(keys: ["id", "name"], values: [3, "c"])
        var union = FieldUnion()
        let grew = [union.add(a.keys), union.add(b.keys), union.add(c.keys)]
        #expect(grew == [true, true, false])
        #expect(union.names == ["id", "name", "extra"])
        let rows = [a, b, c, Object(keys: ["id", "name", "extra"], values: [4, "d", false])].map { union.row($0) }
        #expect(rows == [[1, "a", nil], [nil, "b", true], [3, "c", nil], [4, "d", false]])
    }

    @Test func keysPastTheMaximumAreLeftOut() {
        var union = FieldUnion(maximumFields: 2)
        let o = Object(keys: ["a", "b", "c"], values: [1, 2, 3])
        union.add(o.keys)
        #expect(union.names == ["a", "b"])
        let row = union.row(o)
        #expect(row == [1, 2])
    }
}
