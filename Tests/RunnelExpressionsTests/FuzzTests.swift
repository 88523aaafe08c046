import RunnelCore
import RunnelTesting
import Testing

@testable import RunnelExpressions

/// Random and mutated expressions into the parser, checker and evaluator: every one must end
/// with a value, an error value or a compile error — no crash, no hang (the cost limit bounds
/// evaluation; the nesting limit bounds parsing). Seeded, so a failure replays.
struct FuzzTests {
    static let fields = ["a", "b", "s", "l", "m", "t"]
    static let record: [Value] = [
        .int(7), .double(-2.5), .string("héllo wörld"), .array([.int(1), .string("x"), .null, .double(3)]),
        .object(Object(keys: ["k", "n"], values: [.string("v"), .int(Int64.max)])), .timestamp(Timestamp(seconds: 1_700_000_000)),
    ]

    static let valid = [
        "a + 1 > b * 2.0 || s.startsWith('h')", "size(l) > 0 && l.all(x, x != null)", "m.k == 'v' ? m.n + 1 : -a",
        "s.matches('^h.*d$') && 'o' in ['o', 'p']", "t.getHours('Europe/Paris') + t.getDayOfYear() > 0",
        "l.map(x, string(x)).filter(y, size(y) > 0)", "{'a': [1, 2u, 3.0], 'b': {true: b'\\x00'}}['a'][1]",
        "timestamp('2024-01-01T00:00:00Z') - duration('1h30m') < t", "has(m.k) && !has(record.zz) && int('12') / (a - 7)",
        "[1, 2, 3].exists_one(i, i % 2 == 0) == (uint(a) > 3u)", "double(a) / 0.0 != 1e308 * 10.0",
        // The extension libraries (issue #22).
        "s.split(' ').map(w, w.upperAscii()).join('-') + '%s %d %.2f %x'.format([s, a, b, 255])",
        "math.round(b * 100.0) / 100.0 + double(math.greatest(l.filter(x, type(x) == int)))",
        "record.?m.?k.orValue('none') + m[?'zz'].orValue('') + [?m.?k, 'x'].join()",
        "l.exists(i, v, i > 0 && v == null) && m.all(k, v, k != '') && m.transformMap(k, v, string(v)).size() > 0",
        "cel.bind(x, s.trim(), x.substring(x.indexOf('l'), x.lastIndexOf('l')).reverse().charAt(0))",
        "lists.range(a).sortBy(i, -i).slice(1, 3).sum() + [[1], [2, [3]]].flatten(2).distinct().size()",
        "sets.intersects([1, 2], l) || base64.decode(base64.encode(bytes(s))) == bytes(s)",
        "cidr('10.0.0.0/8').containsIP('10.1.2.3') && quantity('1.5Gi').isGreaterThan(quantity('1G'))",
        "semver('v1.2', true).isLessThan(semver('1.10.0')) && s.findAll('[a-z]+', 2).size() == 2",
        "url('https://x.example:8080/p?q=1').getQuery()['q'][0] + string(ip('::1').family())",
    ]

    static let pieces = [
        "a", "b", "s", "l", "m", "t", "record", "1", "0", "-1", "2u", "3.5", "1e308", "'x'", "\"y\"", "b'z'", "r'\\d'",
        "true", "false", "null", "9223372036854775807", "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&",
        "||", "!", "?", ":", "in", "(", ")", "[", "]", "{", "}", ",", ".", "size(", "int(", "string(", "matches(",
        ".all(x,", ".exists(x,", ".map(x,", ".filter(x,", "has(", "x", "timestamp(", "duration(", ".getHours(", "dyn(",
        "'(a*)*b'", "'\\u00e9'", "`k`", "'''", "\n", "//", "é", "\u{0}",
    ]

    /// The extension libraries' pieces, drawn one time in sixteen so that the core still reaches the evaluator often.
    static let extensionPieces = [
        ".split(", ".format([", "math.round(", "math.greatest(", ".?", "[?", "optional.of(", ".orValue(",
        ".exists(i, v,", ".transformList(k, v,", ".transformMapEntry(k, v,", "cel.bind(y,", ".sort()", ".sortBy(x,",
        "lists.range(", ".substring(", ".charAt(", ".replace(", "'%d %s %.3f'", "base64.decode(", "quantity(",
        "cidr(", "url(", "semver(", ".findAll(", ".distinct()", ".flatten(", ".sum()", ".join(", "sets.contains(",
    ]

    static func piece(using rng: inout SeededGenerator) -> String {
        Int.random(in: 0..<16, using: &rng) == 0
            ? extensionPieces.randomElement(using: &rng)! : pieces.randomElement(using: &rng)!
    }

    @Test func randomTokenSequencesNeverCrash() {
        var rng = SeededGenerator(seed: 9)
        var evaluated = 0
        // 30,000 rather than 20,000 since the extension pieces joined the vocabulary: as many
        // sequences as before still reach the evaluator.
        for _ in 0..<30_000 {
            let n = Int.random(in: 1...24, using: &rng)
            let source = (0..<n).map { _ in Self.piece(using: &rng) }.joined(separator: Bool.random(using: &rng) ? " " : "")
            if Self.run(source) { evaluated += 1 }
        }
        // The generator must reach the evaluator, not only the parser's error paths.
        #expect(evaluated > 500)
    }

    @Test func mutatedValidExpressionsNeverCrash() {
        var rng = SeededGenerator(seed: 42)
        var evaluated = 0
        for _ in 0..<20_000 {
            var scalars = Array(Self.valid.randomElement(using: &rng)!.unicodeScalars)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0...scalars.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0 where at < scalars.count: scalars.remove(at: at)
                case 1: scalars.insert(contentsOf: Self.piece(using: &rng).unicodeScalars, at: at)
                case 2 where at < scalars.count: scalars[at] = "()[]{}.,'\"\\!-+*/%<>=&|?:0u9ex ".unicodeScalars.randomElement(using: &rng)!
                default:
                    // Duplicate a slice: grows nesting and repetition.
                    let end = min(scalars.count, at + Int.random(in: 0...20, using: &rng))
                    scalars.insert(contentsOf: scalars[at..<end], at: at)
                }
            }
            var source = ""
            source.unicodeScalars.append(contentsOf: scalars)
            if Self.run(source) { evaluated += 1 }
        }
        #expect(evaluated > 2_000)
    }

    @Test func everyValidSeedEvaluates() {
        for source in Self.valid {
            #expect(Self.run(source), "\(source) did not compile")
        }
    }

    /// Compiles (with and without the checker) and evaluates; true when it compiled.
    @discardableResult
    static func run(_ source: String) -> Bool {
        var compiled = false
        for typeCheck in [true, false] {
            guard let e = try? CELExpression(source, configuration: .init(costLimit: 20_000, typeCheck: typeCheck)) else { continue }
            compiled = true
            let v = e.bind(Schema(fields)).evaluate(record)
            _ = try? v.recordValue()
            _ = CELText.describe(v)
        }
        return compiled
    }
}
