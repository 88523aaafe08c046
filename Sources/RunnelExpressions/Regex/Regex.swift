/// The regular expressions of `matches()`: a subset of RE2's syntax, matched by simulating the
/// automaton (all threads in step, like RE2 and Thompson's construction), so the time is
/// proportional to pattern size × text length whatever the pattern: no backtracking blow-ups.
///
/// Supported: literals and escapes (`\.`, `\n`, `\t`, `\x41`, `\x{263a}`), `.`, classes
/// (`[a-z_]`, `[^0-9]`, `[[:alpha:]]`), `\d \D \w \W \s \S`, anchors `^ $ \A \z \b \B`,
/// groups `( )`, `(?: )`, `(?P<name> )`, `(?<name> )`, alternation `|`, the quantifiers
/// `* + ? {n} {n,} {n,m}` and their lazy forms (the same for a yes/no match), the flags
/// `(?i) (?s) (?m)` and `(?i: )`. Not supported (a compile error says so): Unicode classes
/// `\p{..}`, back references (RE2 has none either), look-around.
/// Matching is a search, as CEL specifies: `'hubba'.matches('ubb')` is true; anchor with `^...$`.
public struct CELRegex: Sendable {
    let program: [Instruction]
    let start: Int

    /// Counted repetitions above this are refused (RE2 has the same limit).
    static let maxRepeat = 1000
    /// Programs above this many instructions are refused: `(a{1000}){1000}` must not eat the memory.
    static let maxProgram = 20_000

    public init(_ pattern: String) throws(RegexError) {
        var parser = RegexParser(Array(pattern.unicodeScalars))
        let node = try parser.parseAll()
        var compiler = RegexCompiler()
        try compiler.emit(node)
        compiler.append(.match)
        program = compiler.program
        start = 0
    }

    /// True when the pattern matches somewhere in `text`.
    public func matches(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        var current = StateSet(count: program.count)
        var next = StateSet(count: program.count)
        var previous: Unicode.Scalar? = nil
        for i in 0...scalars.count {
            let c: Unicode.Scalar? = i < scalars.count ? scalars[i] : nil
            // Unanchored search: a new thread starts at every position.
            if addThread(start, to: &current, previous: previous, next: c) { return true }
            guard let c else { break }
            next.clear()
            var k = 0
            while k < current.dense.count {
                let pc = current.dense[k]
                k += 1
                if program[pc].consumes(c), addThread(pc + 1, to: &next, previous: c, next: i + 1 < scalars.count ? scalars[i + 1] : nil) {
                    return true
                }
            }
            swap(&current, &next)
            previous = c
        }
        return false
    }

    /// Follows the empty transitions from `pc`; returns true when a match state is reached.
    private func addThread(_ pc0: Int, to set: inout StateSet, previous: Unicode.Scalar?, next: Unicode.Scalar?) -> Bool {
        var stack = [pc0]
        while let pc = stack.popLast() {
            guard !set.contains(pc) else { continue }
            set.insert(pc)
            switch program[pc] {
            case .match: return true
            case .jump(let to): stack.append(to)
            case .split(let a, let b):
                stack.append(b)
                stack.append(a)
            case .assert(let a):
                if a.holds(previous: previous, next: next) { stack.append(pc + 1) }
            case .scalar, .set, .any: break
            }
        }
        return false
    }
}

public struct RegexError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The states of the automaton active at one position: a sparse set (constant-time clear and insert).
struct StateSet {
    var dense: [Int] = []
    var sparse: [Int]
    init(count: Int) { sparse = [Int](repeating: 0, count: count) }
    func contains(_ i: Int) -> Bool {
        let d = sparse[i]
        return d < dense.count && dense[d] == i
    }
    mutating func insert(_ i: Int) {
        sparse[i] = dense.count
        dense.append(i)
    }
    mutating func clear() { dense.removeAll(keepingCapacity: true) }
}

enum Assertion: Sendable {
    case lineStart, lineEnd, textStart, textEnd, wordBoundary, notWordBoundary

    func holds(previous: Unicode.Scalar?, next: Unicode.Scalar?) -> Bool {
        switch self {
        case .textStart: return previous == nil
        case .textEnd: return next == nil
        case .lineStart: return previous == nil || previous == "\n"
        case .lineEnd: return next == nil || next == "\n"
        case .wordBoundary, .notWordBoundary:
            let a = previous.map(CharClass.isWord) ?? false
            let b = next.map(CharClass.isWord) ?? false
            return (a != b) == (self == .wordBoundary)
        }
    }
}

enum Instruction: Sendable {
    case scalar(Unicode.Scalar, foldCase: Bool)
    case any(newline: Bool)
    case set(CharClass)
    case split(Int, Int)
    case jump(Int)
    case assert(Assertion)
    case match

    func consumes(_ c: Unicode.Scalar) -> Bool {
        switch self {
        case .scalar(let s, let fold): return s == c || (fold && CharClass.fold(s) == CharClass.fold(c))
        case .any(let newline): return newline || c != "\n"
        case .set(let cls): return cls.contains(c)
        default: return false
        }
    }
}

/// A character class: ranges, possibly negated and case-folded.
struct CharClass: Sendable {
    var ranges: [ClosedRange<UInt32>] = []
    var negated = false
    var foldCase = false

    func contains(_ c: Unicode.Scalar) -> Bool {
        var hit = ranges.contains { $0.contains(c.value) }
        if !hit, foldCase {
            let l = CharClass.fold(c)
            let u = CharClass.upper(c)
            hit = ranges.contains { $0.contains(l.value) || $0.contains(u.value) }
        }
        return hit != negated
    }

    static func isWord(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
    }

    static func fold(_ c: Unicode.Scalar) -> Unicode.Scalar {
        if c.isASCII {
            return c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 32)! : c
        }
        let m = c.properties.lowercaseMapping.unicodeScalars
        return m.count == 1 ? m.first! : c
    }

    static func upper(_ c: Unicode.Scalar) -> Unicode.Scalar {
        if c.isASCII {
            return c.value >= 0x61 && c.value <= 0x7A ? Unicode.Scalar(c.value - 32)! : c
        }
        let m = c.properties.uppercaseMapping.unicodeScalars
        return m.count == 1 ? m.first! : c
    }

    static let digit: [ClosedRange<UInt32>] = [0x30...0x39]
    static let word: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
    static let space: [ClosedRange<UInt32>] = [0x09...0x0A, 0x0C...0x0D, 0x20...0x20]

    /// The ASCII classes of `[[:name:]]`.
    static let posix: [String: [ClosedRange<UInt32>]] = [
        "alnum": [0x30...0x39, 0x41...0x5A, 0x61...0x7A], "alpha": [0x41...0x5A, 0x61...0x7A],
        "ascii": [0x00...0x7F], "blank": [0x09...0x09, 0x20...0x20], "cntrl": [0x00...0x1F, 0x7F...0x7F],
        "digit": digit, "graph": [0x21...0x7E], "lower": [0x61...0x7A], "print": [0x20...0x7E],
        "punct": [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E],
        "space": [0x09...0x0D, 0x20...0x20], "upper": [0x41...0x5A], "word": word,
        "xdigit": [0x30...0x39, 0x41...0x46, 0x61...0x66],
    ]

    /// The complement of `ranges` over all code points, for `\D` inside a class.
    static func complement(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if r.lowerBound > next { out.append(next...(r.lowerBound - 1)) }
            next = max(next, r.upperBound + 1)
        }
        if next <= 0x10FFFF { out.append(next...0x10FFFF) }
        return out
    }
}

extension CELRegex {
    /// The leftmost-first matches (as RE2 and Go find them), at most `limit` (all when negative).
    func find(in text: String, limit: Int64) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var out: [String] = []
        var from = 0
        var previousEnd = -1
        while limit < 0 || out.count < limit, from <= scalars.count {
            guard let (s, e) = firstMatch(scalars, from: from) else { break }
            if e == s, s == previousEnd {
                // An empty match right after the previous match does not count (as in Go).
                from = s + 1
                continue
            }
            out.append(String(String.UnicodeScalarView(scalars[s..<e])))
            previousEnd = e
            from = e > s ? e : e + 1
        }
        return out
    }

    /// A Pike VM that tracks each thread's start; threads are kept in priority order so the
    /// first alternative that matches wins, as in Perl, RE2 and Go.
    private func firstMatch(_ s: [Unicode.Scalar], from: Int) -> (Int, Int)? {
        var pending: [(pc: Int, start: Int)] = []
        var best: (Int, Int)?
        var visited = StateSet(count: program.count)
        var i = from
        while i <= s.count {
            let previous: Unicode.Scalar? = i > 0 ? s[i - 1] : nil
            let c: Unicode.Scalar? = i < s.count ? s[i] : nil
            visited.clear()
            var list: [(pc: Int, start: Int)] = []
            var cut = false
            func closure(_ pc: Int, _ start: Int) -> Bool {
                guard !visited.contains(pc) else { return false }
                visited.insert(pc)
                switch program[pc] {
                case .match:
                    best = (start, i)
                    return true
                case .jump(let to): return closure(to, start)
                case .split(let a, let b): return closure(a, start) || closure(b, start)
                case .assert(let a): return a.holds(previous: previous, next: c) ? closure(pc + 1, start) : false
                case .scalar, .set, .any:
                    list.append((pc, start))
                    return false
                }
            }
            for t in pending where !cut {
                if closure(t.pc, t.start) { cut = true }
            }
            if !cut, best == nil { _ = closure(self.start, i) }
            guard let c else { break }
            pending = []
            for t in list where program[t.pc].consumes(c) { pending.append((t.pc + 1, t.start)) }
            if pending.isEmpty, best != nil { break }
            i += 1
        }
        return best
    }
}
