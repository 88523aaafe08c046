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
        var columns = ColumnsBuilder()
        var expected: [Object] = []
        var fast = 0
        for line in lines {
            guard case .object(let object) = try JSONText.parse(line) else {
                Issue.record("not an object: \(line)")
                return
            }
            let took = Array(line.utf8).withUnsafeBytes { columns.append(flatJSON: $0) }
            if took { fast += 1 } else { columns.append(object: object) }
            expected.append(object)
        }
        let (schema, built) = columns.finish()
        for (row, object) in expected.enumerated() {
            for (i, name) in schema.fields.enumerated() {
                let want = object.keys.lastIndex(of: name).map { object.values[$0] } ?? .null
                #expect(built[i].value(row) == want, "row \(row) field \(name): \(lines[row])")
            }
        }
        #expect(fast > 1_500)
    }
}
