import RunnelCore
import Testing
@testable import RunnelHTTPAPI

/// `PageRecords` finds where a page's records are without parsing the page; the parser must
/// agree with it on every page it accepts, and it must decline the pages it cannot read simply.
@Suite struct PageRecordsTests {
    /// Random pages (records at a path of 0–2 keys, sibling keys before and after holding nested
    /// values and strings full of brackets, quotes and escapes, random whitespace): each record
    /// span parses to the record the full parse finds, and the rest of the page parses to the
    /// page with its records emptied.
    @Test func theRecordsAndTheRestAreWhatTheParserReads() throws {
        var random = SystemRandomNumberGenerator()
        var taken = 0
        for round in 0..<400 {
            var page = RandomPage(random: random)
            let path = (0..<(round % 3)).map { "k\($0)" }
            let text = page.document(path: path)
            random = page.random
            let bytes = Array(text.utf8)
            let whole = try JSONText.parse(bytes)
            guard case .array(let expected)? = JSONPath(path.joined(separator: ".")).lookup(whole) else {
                Issue.record("the generator made no records at \(path): \(text)")
                continue
            }
            let split = bytes.withUnsafeBytes { PageRecords.split($0, path: path) }
            guard let split else {
                Issue.record("declined a simple page: \(text)")
                continue
            }
            taken += 1
            let records = try split.elements.map { try JSONText.parse(Array(bytes[$0])) }
            #expect(records == expected, "\(text)")
            let rest = try JSONText.parse(split.rest)
            #expect(rest == Self.emptying(path, in: whole), "\(text)")
        }
        #expect(taken == 400)
    }

    /// Pages it must leave to the parser: the parser keeps the last of a repeated key, a key may
    /// be written with escapes, a path may go through an array, a record may not be an object,
    /// the page may be cut short.
    @Test func pagesItCannotReadSimplyAreDeclined() {
        let declined = [
            (#"{"data": [{"a": 1}], "data": [{"a": 2}]}"#, ["data"]),
            (#"{"r": {"items": [{"a": 1}]}, "r": {"items": []}}"#, ["r", "items"]),
            (#"{"d\u0061ta": [{"a": 1}]}"#, ["data"]),
            (#"{"data": [[1, 2]]}"#, ["data"]),
            (#"{"data": [{"a": 1}, 3]}"#, ["data"]),
            (#"{"data": {"0": [{"a": 1}]}}"#, ["data", "1"]),
            (#"{"data": [{"a": 1}, {"a": "]"#, ["data"]),
            (#"{"other": 1}"#, ["data"]),
            (#"[{"a": 1}"#, []),
        ]
        for (text, path) in declined {
            let split = Array(text.utf8).withUnsafeBytes { PageRecords.split($0, path: path) }
            #expect(split == nil, "\(text)")
        }
        let taken = Array(#" [ ] "#.utf8).withUnsafeBytes { PageRecords.split($0, path: []) }
        #expect(taken?.elements.isEmpty == true && taken.map { String(decoding: $0.rest, as: UTF8.self) } == " [] ")
    }

    static func emptying(_ path: [String], in value: Value) -> Value {
        guard let key = path.first, case .object(var o) = value else { return .array([]) }
        o.set(key, emptying(Array(path.dropFirst()), in: o[key] ?? .null))
        return .object(o)
    }
}

/// Builds JSON text with random spacing, keys and values.
private struct RandomPage {
    var random: SystemRandomNumberGenerator

    mutating func space() -> String {
        ["", "", " ", "\n  ", "\t"].randomElement(using: &random)!
    }

    mutating func string() -> String {
        let pieces = ["a", "é", "[", "]", "{", "}", ",", ":", #"\""#, #"\\"#, #"\n"#, #"\u0041"#, "data", "😀", " "]
        return "\"" + (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined() + "\""
    }

    mutating func scalar() -> String {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: String(Int64.random(in: -1_000_000...1_000_000, using: &random))
        case 1: String(Double(Int.random(in: -10_000...10_000, using: &random)) / 8)
        case 2: ["true", "false"].randomElement(using: &random)!
        case 3: "null"
        default: string()
        }
    }

    mutating func value(depth: Int) -> String {
        guard depth < 3 else { return scalar() }
        switch Int.random(in: 0..<5, using: &random) {
        case 0:
            let n = Int.random(in: 0...3, using: &random)
            return "[" + space() + (0..<n).map { _ in value(depth: depth + 1) }.joined(separator: "," + space()) + space() + "]"
        case 1: return object(keys: Int.random(in: 0...3, using: &random), depth: depth + 1)
        default: return scalar()
        }
    }

    /// An object of `keys` distinct keys; `flat` keeps its values scalars.
    mutating func object(keys: Int, depth: Int, flat: Bool = false) -> String {
        let members = (0..<keys).map { i in
            "\"f\(i)\"" + space() + ":" + space() + (flat ? scalar() : value(depth: depth))
        }
        return "{" + space() + members.joined(separator: "," + space()) + space() + "}"
    }

    mutating func records() -> String {
        let n = Int.random(in: 0...5, using: &random)
        return "[" + space() + (0..<n).map { _ in object(keys: Int.random(in: 0...4, using: &random), depth: 1, flat: Bool.random(using: &random)) }
            .joined(separator: "," + space()) + space() + "]"
    }

    /// A page whose records are at `path`, with siblings around each key of the path.
    mutating func document(path: [String]) -> String {
        guard let key = path.first else { return space() + records() + space() }
        var members: [String] = []
        for i in 0..<Int.random(in: 0...2, using: &random) { members.append("\"before\(i)\":" + space() + value(depth: 1)) }
        members.append("\"\(key)\"" + space() + ":" + space() + document(path: Array(path.dropFirst())))
        for i in 0..<Int.random(in: 0...2, using: &random) { members.append("\"after\(i)\":" + space() + value(depth: 1)) }
        return space() + "{" + space() + members.joined(separator: "," + space()) + space() + "}" + space()
    }
}
