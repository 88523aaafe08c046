import RunnelTesting
import Testing
@testable import RunnelCore

/// JSON Lines lines into columns by the fast path, one after another (each expecting the keys
/// of the line before): every row must hold what the parser reads from its line, whatever the
/// keys' order, subset, novelty or repetition from line to line.
@Suite struct FlatJSONColumnsTests {
    @Test func linesAfterLinesHoldWhatTheParserReads() throws {
        var rng = SeededGenerator(seed: 9)
        func next(_ bound: Int) -> Int { rng.below(bound) }
        var order = SeededGenerator(seed: 1)
        let keys = ["id", "name", "customer_email", "a", "bb", "é", "k_with_a_long_name_past_eight"]
        let values = ["1", "-7", "2.5", "\"x\"", "\"\"", "true", "null", "\"é😀\"", "\"q\\\"q\""]
        var lines: [String] = []
        var previous: [String] = keys.shuffled(using: &order)
        for _ in 0..<3_000 {
            var fields = previous
            switch next(6) {
            case 0: fields = keys.filter { _ in next(2) == 0 }  // another subset
            case 1: if fields.count > 1 { fields.swapAt(0, fields.count - 1) }  // same keys, other order
            case 2: fields.append(keys[next(keys.count)])  // maybe a repeated key
            case 3: fields = Array(fields.dropLast())
            default: break  // the same keys: the common line
            }
            previous = fields
            lines.append("{" + fields.map { "\"\($0)\":\(values[next(values.count)])" }.joined(separator: ",") + "}")
        }
        let fast = appendEachAndCompare(lines, allParse: true)
        #expect(fast > 1_500)
    }

    /// A reader's extra field (a stream entry's id) added on the fast path gives the columns,
    /// in the same order, that setting it on the parsed object gives: also when a line names
    /// the field itself (the reader's value wins) and when new keys come after it.
    @Test func anExtraFieldLandsAsObjectSetPutsIt() throws {
        var rng = SeededGenerator(seed: 21)
        func next(_ bound: Int) -> Int { rng.below(bound) }
        let keys = ["order_id", "customer", "status", "amount", "entry_id", "late", "later"]
        var previous = Array(keys.prefix(4))
        var fast = ColumnsBuilder()
        var parsed = ColumnsBuilder()
        var took = 0
        for n in 0..<2_000 {
            var fields = previous
            switch next(8) {
            case 0: fields = keys.filter { _ in next(2) == 0 }
            case 1: fields.append(keys[4 + next(3)])  // the extra's own name, or a new key
            case 2: fields = Array(fields.dropLast())
            default: break
            }
            previous = fields
            let line = "{" + fields.map { "\"\($0)\":\(next(3) == 0 ? "null" : String(next(1_000)))" }.joined(separator: ",") + "}"
            guard case .object(var object) = try JSONText.parse(line) else {
                Issue.record("not an object: \(line)")
                return
            }
            let id = Value.string("1700000000000-\(n)")
            object.set("entry_id", id)
            if Array(line.utf8).withUnsafeBytes({ fast.append(flatJSON: $0, adding: ("entry_id", id)) }) {
                took += 1
            } else {
                fast.append(object: object)
            }
            parsed.append(object: object)
        }
        let (fastSchema, fastColumns) = fast.finish()
        let (schema, columns) = parsed.finish()
        #expect(fastSchema.fields == schema.fields)
        for i in columns.indices {
            #expect((0..<2_000).map(fastColumns[i].value) == (0..<2_000).map(columns[i].value), "\(schema.fields[i])")
        }
        // Lines naming `entry_id` themselves (a third here) take the parser.
        #expect(took > 600)
    }

    /// Lines with the same keys laid out differently from line to line — spaces around colons
    /// and commas, before the brace, after the value, values of every kind and length (strings
    /// longer than a word, with non-ASCII, with an escape) — hold what the parser reads: the
    /// scanner compares a line with the last one's layout and must fall back whenever they differ.
    @Test func lineLayoutsThatDifferHoldWhatTheParserReads() throws {
        var rng = SeededGenerator(seed: 33)
        func next(_ bound: Int) -> Int { rng.below(bound) }
        let keys = ["order_id", "customer_name", "é", "a", "k_with_a_long_name_past_sixteen_bytes"]
        let values = [
            "1", "-7", "0", "-0", "12345678901234567", "2.5", "-0.001", "1e3", "01", "\"x\"", "\"\"", "true", "false", "null",
            "\"a string longer than eight bytes\"", "\"é😀 and more text\"", "\"q\\\"q\"", "\"}\"", "\"tab\\tafter\"",
        ]
        let spaces = ["", " ", "  ", "\t"]
        var style = (0..<6).map { _ in spaces[next(spaces.count)] }
        var lines: [String] = []
        for _ in 0..<4_000 {
            if next(5) == 0 { style = (0..<6).map { _ in spaces[next(spaces.count)] } }  // another writer's layout
            let fields = next(8) == 0 ? keys.filter { _ in next(2) == 0 } : keys
            let body = fields.map { "\"\($0)\"\(style[0]):\(style[1])\(values[next(values.count)])\(style[2])" }
            lines.append(style[3] + "{" + style[4] + body.joined(separator: "," + style[5]) + "}" + style[3])
        }
        let fast = appendEachAndCompare(lines, allParse: false)
        #expect(fast > 1_000)
    }

    /// Appends `lines` to one builder, one after another (each expecting the layout of the line
    /// before), by the fast path or, where it declines, as the parser reads the line; then every
    /// row must hold what the parser reads. A line the parser refuses is an issue when `allParse`,
    /// else the fast path must refuse it too. Returns how many lines took the fast path.
    private func appendEachAndCompare(_ lines: [String], allParse: Bool) -> Int {
        var columns = ColumnsBuilder()
        var expected: [(line: String, object: Object)] = []
        var fast = 0
        for line in lines {
            guard case .object(let object) = try? JSONText.parse(line) else {
                if allParse {
                    Issue.record("not an object: \(line)")
                } else {
                    // The fast path must refuse what the parser refuses (a leading zero, say).
                    #expect(!Array(line.utf8).withUnsafeBytes { columns.append(flatJSON: $0) }, "\(line)")
                }
                continue
            }
            let took = Array(line.utf8).withUnsafeBytes { columns.append(flatJSON: $0) }
            if took { fast += 1 } else { columns.append(object: object) }
            expected.append((line, object))
        }
        let (schema, built) = columns.finish()
        for (row, (line, object)) in expected.enumerated() {
            for (i, name) in schema.fields.enumerated() {
                let want = object.keys.lastIndex(of: name).map { object.values[$0] } ?? .null
                #expect(built[i].value(row) == want, "row \(row) field \(name): \(line)")
            }
        }
        return fast
    }
}
