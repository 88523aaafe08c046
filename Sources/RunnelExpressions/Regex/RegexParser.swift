/// The syntax tree of a pattern.
indirect enum RegexNode {
    case empty
    case scalar(Unicode.Scalar, foldCase: Bool)
    case any(newline: Bool)
    case set(CharClass)
    case assert(Assertion)
    case concat([RegexNode])
    case alternate([RegexNode])
    case `repeat`(RegexNode, min: Int, max: Int?)  // max nil: unbounded
}

struct RegexParser {
    private let s: [Unicode.Scalar]
    private var i = 0
    private var foldCase = false
    private var dotNewline = false
    private var multiLine = false
    private var depth = 0

    init(_ s: [Unicode.Scalar]) { self.s = s }

    private func error(_ m: String) -> RegexError { RegexError(message: "invalid regular expression: \(m)") }
    private var atEnd: Bool { i >= s.count }
    private func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < s.count ? s[i + k] : nil }

    mutating func parseAll() throws(RegexError) -> RegexNode {
        let n = try alternation()
        if !atEnd { throw error("unmatched ')'") }
        return n
    }

    private mutating func alternation() throws(RegexError) -> RegexNode {
        depth += 1
        defer { depth -= 1 }
        if depth > 100 { throw error("groups nested too deeply") }
        var branches = [try concatenation()]
        while peek() == "|" {
            i += 1
            branches.append(try concatenation())
        }
        return branches.count == 1 ? branches[0] : .alternate(branches)
    }

    private mutating func concatenation() throws(RegexError) -> RegexNode {
        var items: [RegexNode] = []
        // Flags set by `(?i)` last until the end of the enclosing group.
        let saved = (foldCase, dotNewline, multiLine)
        defer { (foldCase, dotNewline, multiLine) = saved }
        while let c = peek(), c != "|", c != ")" {
            guard let atom = try atom() else { continue }
            items.append(try quantified(atom))
        }
        return items.count == 1 ? items[0] : .concat(items)
    }

    private mutating func quantified(_ atom: RegexNode) throws(RegexError) -> RegexNode {
        var node = atom
        var quantifiers = 0
        while let c = peek() {
            var range: (Int, Int?)
            switch c {
            case "*": range = (0, nil)
            case "+": range = (1, nil)
            case "?": range = (0, 1)
            case "{":
                guard let r = try counted() else { return node }
                range = r
                quantifiers += 1
                if quantifiers > 1 { throw error("bad repetition operator") }
                if peek() == "?" { i += 1 }
                node = .repeat(node, min: range.0, max: range.1)
                continue
            default: return node
            }
            i += 1
            quantifiers += 1
            if quantifiers > 1 { throw error("bad repetition operator: \(c)") }
            if peek() == "?" { i += 1 }  // lazy: the same answer for a yes/no match
            if case .assert = node { throw error("missing argument to repetition operator") }
            node = .repeat(node, min: range.0, max: range.1)
        }
        return node
    }

    /// `{n}`, `{n,}`, `{n,m}`; nil (a literal `{`) when it is not a repetition, as RE2 reads it.
    private mutating func counted() throws(RegexError) -> (Int, Int?)? {
        var j = i + 1
        func number() -> Int? {
            var v = 0
            var n = 0
            while j < s.count, let d = Int(String(s[j])), s[j].isASCII {
                v = min(v * 10 + d, 100_000)
                j += 1
                n += 1
            }
            return n > 0 ? v : nil
        }
        guard let lo = number() else { return nil }
        var hi: Int? = lo
        if j < s.count, s[j] == "," {
            j += 1
            hi = number()
        }
        guard j < s.count, s[j] == "}" else { return nil }
        i = j + 1
        if lo > CELRegex.maxRepeat || (hi ?? 0) > CELRegex.maxRepeat { throw error("repetition count above \(CELRegex.maxRepeat)") }
        if let hi, hi < lo { throw error("invalid repetition range {\(lo),\(hi)}") }
        return (lo, hi)
    }

    /// One atom; nil for a flag group that only changes flags.
    private mutating func atom() throws(RegexError) -> RegexNode? {
        let c = s[i]
        i += 1
        switch c {
        case ".": return .any(newline: dotNewline)
        case "^": return .assert(multiLine ? .lineStart : .textStart)
        case "$": return .assert(multiLine ? .lineEnd : .textEnd)
        case "*", "+", "?": throw error("missing argument to repetition operator: \(c)")
        case "[": return .set(try bracket())
        case "\\": return try escape()
        case "(": return try group()
        default: return .scalar(c, foldCase: foldCase)
        }
    }

    private mutating func group() throws(RegexError) -> RegexNode? {
        if peek() == "?" {
            i += 1
            if peek() == "P" || peek() == "<" {
                if peek() == "P" { i += 1 }
                guard peek() == "<" else { throw error("invalid named group") }
                while let c = peek(), c != ">" { i += 1 }
                guard peek() == ">" else { throw error("invalid named group") }
                i += 1
            } else {
                // Flags: (?i) (?s-m) (?i:...)
                var on = true
                var fold = foldCase, dot = dotNewline, multi = multiLine
                while let c = peek(), c != ")", c != ":" {
                    switch c {
                    case "-": on = false
                    case "i": fold = on
                    case "s": dot = on
                    case "m": multi = on
                    case "U": break
                    default: throw error("unsupported group or flag '(?\(c)' (look-around and other Perl groups are not RE2)")
                    }
                    i += 1
                }
                guard let end = peek() else { throw error("missing ')'") }
                i += 1
                if end == ")" {
                    (foldCase, dotNewline, multiLine) = (fold, dot, multi)
                    return nil
                }
                let saved = (foldCase, dotNewline, multiLine)
                (foldCase, dotNewline, multiLine) = (fold, dot, multi)
                let inner = try alternation()
                (foldCase, dotNewline, multiLine) = saved
                guard peek() == ")" else { throw error("missing ')'") }
                i += 1
                return inner
            }
        }
        let inner = try alternation()
        guard peek() == ")" else { throw error("missing ')'") }
        i += 1
        return inner
    }

    private mutating func escape() throws(RegexError) -> RegexNode {
        guard let c = peek() else { throw error("trailing backslash") }
        i += 1
        switch c {
        case "d": return .set(CharClass(ranges: CharClass.digit))
        case "D": return .set(CharClass(ranges: CharClass.digit, negated: true))
        case "w": return .set(CharClass(ranges: CharClass.word))
        case "W": return .set(CharClass(ranges: CharClass.word, negated: true))
        case "s": return .set(CharClass(ranges: CharClass.space))
        case "S": return .set(CharClass(ranges: CharClass.space, negated: true))
        case "b": return .assert(.wordBoundary)
        case "B": return .assert(.notWordBoundary)
        case "A": return .assert(.textStart)
        case "z": return .assert(.textEnd)
        default:
            i -= 1
            return .scalar(try escapedScalar(), foldCase: foldCase)
        }
    }

    /// An escape that stands for one code point (`i` after the backslash).
    private mutating func escapedScalar() throws(RegexError) -> Unicode.Scalar {
        let c = s[i]
        i += 1
        switch c {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        case "f": return "\u{0C}"
        case "v": return "\u{0B}"
        case "a": return "\u{07}"
        case "0": return "\u{00}"
        case "x":
            var hex = ""
            if peek() == "{" {
                i += 1
                while let d = peek(), d != "}" {
                    hex.unicodeScalars.append(d)
                    i += 1
                }
                guard peek() == "}" else { throw error("invalid \\x{...} escape") }
                i += 1
            } else {
                for _ in 0..<2 {
                    guard let d = peek() else { throw error("invalid \\x escape") }
                    hex.unicodeScalars.append(d)
                    i += 1
                }
            }
            guard let v = UInt32(hex, radix: 16), let u = Unicode.Scalar(v) else { throw error("invalid \\x escape") }
            return u
        case "p", "P": throw error("Unicode classes (\\p{..}) are not supported")
        case "1"..."9": throw error("back references are not supported (RE2 has none)")
        default:
            // Punctuation escapes itself; RE2 rejects unknown letter escapes, and so do we.
            if c.properties.isAlphabetic || c.properties.numericType != nil {
                throw error("invalid escape sequence \\\(c)")
            }
            return c
        }
    }

    private mutating func bracket() throws(RegexError) -> CharClass {
        var cls = CharClass(foldCase: foldCase)
        if peek() == "^" {
            cls.negated = true
            i += 1
        }
        var first = true
        while true {
            guard let c = peek() else { throw error("missing ']'") }
            if c == "]", !first {
                i += 1
                return cls
            }
            first = false
            if c == "[", peek(1) == ":" {
                guard let close = (i + 2..<s.count).first(where: { s[$0] == ":" && $0 + 1 < s.count && s[$0 + 1] == "]" }) else {
                    throw error("invalid character class")
                }
                var name = String(String.UnicodeScalarView(s[(i + 2)..<close]))
                let negate = name.hasPrefix("^")
                if negate { name.removeFirst() }
                guard let ranges = CharClass.posix[name] else { throw error("unknown class [:\(name):]") }
                cls.ranges += negate ? CharClass.complement(ranges) : ranges
                i = close + 2
                continue
            }
            var lo: Unicode.Scalar
            if c == "\\" {
                i += 1
                guard let e = peek() else { throw error("trailing backslash") }
                let classes: [Unicode.Scalar: ([ClosedRange<UInt32>], Bool)] = [
                    "d": (CharClass.digit, false), "D": (CharClass.digit, true), "w": (CharClass.word, false),
                    "W": (CharClass.word, true), "s": (CharClass.space, false), "S": (CharClass.space, true),
                ]
                if let (ranges, negate) = classes[e] {
                    i += 1
                    cls.ranges += negate ? CharClass.complement(ranges) : ranges
                    continue
                }
                lo = try escapedScalar()
            } else {
                lo = c
                i += 1
            }
            if peek() == "-", let after = peek(1), after != "]" {
                i += 1
                var hi: Unicode.Scalar
                if after == "\\" {
                    i += 1
                    hi = try escapedScalar()
                } else {
                    hi = after
                    i += 1
                }
                guard lo.value <= hi.value else { throw error("invalid character class range \(lo)-\(hi)") }
                cls.ranges.append(lo.value...hi.value)
            } else {
                cls.ranges.append(lo.value...lo.value)
            }
        }
    }
}

/// Turns the syntax tree into automaton instructions.
struct RegexCompiler {
    var program: [Instruction] = []

    mutating func append(_ inst: Instruction) { program.append(inst) }

    mutating func emit(_ node: RegexNode) throws(RegexError) {
        if program.count > CELRegex.maxProgram {
            throw RegexError(message: "invalid regular expression: the pattern is too large (above \(CELRegex.maxProgram) states)")
        }
        switch node {
        case .empty: break
        case .scalar(let c, let fold): append(.scalar(c, foldCase: fold))
        case .any(let nl): append(.any(newline: nl))
        case .set(let cls): append(.set(cls))
        case .assert(let a): append(.assert(a))
        case .concat(let items): for n in items { try emit(n) }
        case .alternate(let branches):
            var jumps: [Int] = []
            for (k, b) in branches.enumerated() {
                if k < branches.count - 1 {
                    let split = program.count
                    append(.split(split + 1, -1))
                    try emit(b)
                    jumps.append(program.count)
                    append(.jump(-1))
                    program[split] = .split(split + 1, program.count)
                } else {
                    try emit(b)
                }
            }
            for j in jumps { program[j] = .jump(program.count) }
        case .repeat(let inner, let min, let max):
            for _ in 0..<min { try emit(inner) }
            if let max {
                // Each optional copy may be skipped to the end.
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(program.count)
                    append(.split(program.count + 1, -1))
                    try emit(inner)
                }
                for s in splits { program[s] = .split(s + 1, program.count) }
            } else {
                let loop = program.count
                append(.split(loop + 1, -1))
                try emit(inner)
                append(.jump(loop))
                program[loop] = .split(loop + 1, program.count)
            }
        }
    }
}
