import RunnelTesting
import Testing

@testable import RunnelFiles


/// What a reader makes of each row: the fields, or the error with the bytes it dead-letters.
private enum Outcome: Equatable, CustomStringConvertible {
    case row([String], lines: Int)
    case malformed(CSVRowError.Code, column: Int?, skipped: [UInt8], lines: Int)

    var description: String {
        switch self {
        case .row(let f, let lines): "row(\(f), lines: \(lines))"
        case .malformed(let c, let col, let skipped, let lines):
            "malformed(\(c), column: \(col.map(String.init) ?? "nil"), skipped: \(String(decoding: skipped, as: UTF8.self).debugDescription), lines: \(lines))"
        }
    }
}

/// Drives the parser the way the CSV reader does: `firstChunk` bytes are available at first and
/// `chunk` more each time the parser asks for more; `isFinal` once everything is available.
private func parseAll(
    _ bytes: [UInt8], parser: CSVParser = CSVParser(), expectedFields: Int? = nil,
    firstChunk: Int? = nil, chunk: Int? = nil
) -> [Outcome] {
    var available = min(firstChunk ?? bytes.count, bytes.count)
    var offset = 0
    var outcomes: [Outcome] = []
    while offset < bytes.count {
        let isFinal = available == bytes.count
        let result = bytes.withUnsafeBytes {
            parser.parseRow(UnsafeRawBufferPointer(rebasing: $0[offset..<available]), expectedFields: expectedFields, isFinal: isFinal)
        }
        switch result {
        case .row(let fields, let consumed, let lines):
            guard consumed > 0 && offset + consumed <= available else {
                Issue.record("row consumed \(consumed) bytes at \(offset) of \(available)")
                return outcomes
            }
            outcomes.append(.row(fields, lines: lines))
            offset += consumed
        case .malformed(let error, let consumed, let lines):
            guard consumed > 0 && offset + consumed <= available else {
                Issue.record("malformed consumed \(consumed) bytes at \(offset) of \(available)")
                return outcomes
            }
            outcomes.append(.malformed(error.code, column: error.column, skipped: Array(bytes[offset..<offset + consumed]), lines: lines))
            offset += consumed
        case .needMoreData:
            guard !isFinal else {
                Issue.record("needMoreData with the final bytes at \(offset)")
                return outcomes
            }
            available = min(bytes.count, available + (chunk ?? bytes.count))
        }
    }
    return outcomes
}

private func rows(_ text: String, dialect: CSVDialect = .comma, expectedFields: Int? = nil) -> [Outcome] {
    parseAll(Array(text.utf8), parser: CSVParser(dialect: dialect), expectedFields: expectedFields)
}

private func row(_ fields: String..., lines: Int = 1) -> Outcome { .row(fields, lines: lines) }

private func parseOne(_ text: String, isFinal: Bool, expectedFields: Int? = nil) -> CSVParseResult {
    Array(text.utf8).withUnsafeBytes { CSVParser().parseRow($0, expectedFields: expectedFields, isFinal: isFinal) }
}

struct CSVParserTests {
    @Test func plainRows() {
        #expect(rows("a,b,c\n1,2,3\n") == [row("a", "b", "c"), row("1", "2", "3")])
        #expect(parseOne("a,b,c\n1,2,3\n", isFinal: false) == .row(fields: ["a", "b", "c"], consumed: 6, lines: 1))
        #expect(rows("a,,c\n,\n") == [row("a", "", "c"), row("", "")])
        #expect(rows("a,\n") == [row("a", "")])
        #expect(rows(" spaced , kept \n") == [row(" spaced ", " kept ")])
    }

    @Test func quotedFields() {
        let text = "id,text\n1,\"a,b\"\n2,\"say \"\"hi\"\"\"\n3,\"line1\nline2\"\n4,\"\"\n5,\"\"\"\"\n"
        #expect(rows(text) == [
            row("id", "text"), row("1", "a,b"), row("2", "say \"hi\""), row("3", "line1\nline2", lines: 2),
            row("4", ""), row("5", "\""),
        ])
        #expect(rows("\"a\",\"\",\"c\"\n") == [row("a", "", "c")])
        #expect(rows("\"x\r\ny\",\"p\rq\",z\r\n") == [row("x\r\ny", "p\rq", "z", lines: 3)])
    }

    @Test func quoteInsideAnUnquotedFieldIsLiteral() {
        #expect(rows("5\" disk,x\nab\"c\"d,e\n") == [row("5\" disk", "x"), row("ab\"c\"d", "e")])
    }

    @Test func lineEndings() {
        #expect(rows("a,b\r\nc,d\re,f\ng,h") == [row("a", "b"), row("c", "d"), row("e", "f"), row("g", "h")])
        #expect(parseOne("a,b\r\nc", isFinal: false) == .row(fields: ["a", "b"], consumed: 5, lines: 1))
        #expect(parseOne("a,b\rc", isFinal: false) == .row(fields: ["a", "b"], consumed: 4, lines: 1))
        #expect(parseOne("a,b\r", isFinal: true) == .row(fields: ["a", "b"], consumed: 4, lines: 1))
    }

    @Test func blankLinesHaveNoFields() {
        #expect(rows("a\n\nb\r\n\r\n\rc") == [row("a"), .row([], lines: 1), row("b"), .row([], lines: 1), .row([], lines: 1), row("c")])
        #expect(parseOne("\r\nx", isFinal: false) == .row(fields: [], consumed: 2, lines: 1))
        // One empty quoted field is a row, not a blank line.
        #expect(rows("\"\"\n\"\"") == [row(""), row("")])
    }

    @Test(arguments: [
        (CSVDialect.semicolon, "a;b,c;\"d;e\"\n1;2;3", [["a", "b,c", "d;e"], ["1", "2", "3"]]),
        (CSVDialect.tab, "a\tb c\t\"x\ty\"\n\t\n", [["a", "b c", "x\ty"], ["", ""]]),
        (CSVDialect(delimiter: UInt8(ascii: "|"), quote: UInt8(ascii: "'")), "a|'b|''c'''|\"d\"\n", [["a", "b|'c'", "\"d\""]]),
    ])
    func customDialects(dialect: CSVDialect, text: String, expected: [[String]]) {
        #expect(rows(text, dialect: dialect) == expected.map { .row($0, lines: 1) })
    }

    @Test func lastRowWithoutTerminator() {
        #expect(rows("a,b\nc,d") == [row("a", "b"), row("c", "d")])
        #expect(rows("a,b\nc,") == [row("a", "b"), row("c", "")])
        #expect(rows("a,\"q\"") == [row("a", "q")])
        #expect(rows("\"multi\nline\"") == [row("multi\nline", lines: 2)])
    }

    @Test(arguments: ["a,b", "a,", "a,\"b\"", "a,\"b", "a,\"b\"\"", "a,b\r", "\r", "a,\"b\nc", "x,\"q\"z"])
    func incompleteRowsNeedMoreData(text: String) {
        #expect(parseOne(text, isFinal: false) == .needMoreData)
    }

    @Test func emptyInputNeedsMoreData() {
        #expect(parseOne("", isFinal: false) == .needMoreData)
        #expect(parseOne("", isFinal: true) == .needMoreData)
    }

    @Test func characterAfterClosingQuoteIsMalformed() {
        let outcomes = rows("1,\"a\"b,3\n4,5,6\n")
        #expect(outcomes == [
            .malformed(.characterAfterQuote, column: 2, skipped: Array("1,\"a\"b,3\n".utf8), lines: 1), row("4", "5", "6"),
        ])
        guard case .malformed(let error, _, _) = parseOne("1,\"a\"b,3\n", isFinal: true) else {
            Issue.record("expected malformed")
            return
        }
        #expect(error.message == "unexpected character after closing quote in field 2")
    }

    @Test func unterminatedQuoteAtEndOfInputRecoversOnTheNextLine() {
        let outcomes = rows("a,b\n1,\"xyz\n2,ok\n3,fine", expectedFields: 2)
        #expect(outcomes == [
            row("a", "b"),
            .malformed(.unterminatedQuote, column: 2, skipped: Array("1,\"xyz\n".utf8), lines: 1),
            row("2", "ok"), row("3", "fine"),
        ])
        #expect(rows("1,\"xyz") == [.malformed(.unterminatedQuote, column: 2, skipped: Array("1,\"xyz".utf8), lines: 1)])
        guard case .malformed(let error, _, _) = parseOne("1,\"xyz\r\n2", isFinal: true) else {
            Issue.record("expected malformed")
            return
        }
        #expect(error.message == "unterminated quoted field")
    }

    @Test func strayQuoteMidFileOnlyCostsItsLine() {
        // The quote opened in line 2 closes in line 4, followed by a character: line 2 is bad,
        // everything after it is read normally.
        let text = "id,name,qty\n1,\"abc,3\n2,x,5\n3,\"y\",6\n4,z,7\n"
        #expect(rows(text, expectedFields: 3) == [
            row("id", "name", "qty"),
            .malformed(.characterAfterQuote, column: 2, skipped: Array("1,\"abc,3\n".utf8), lines: 1),
            row("2", "x", "5"), row("3", "y", "6"), row("4", "z", "7"),
        ])
    }

    @Test func quotedFieldSpanningLinesWithTheWrongFieldCountIsMalformed() {
        let text = "a,\"b\nc\",d,e\nf,g,h\n"
        #expect(rows(text, expectedFields: 3) == [
            .malformed(.unbalancedQuote, column: nil, skipped: Array("a,\"b\n".utf8), lines: 1),
            row("c\"", "d", "e"), row("f", "g", "h"),
        ])
        // Without a header to compare with, the row is what the quoting says.
        #expect(rows(text) == [row("a", "b\nc", "d", "e", lines: 2), row("f", "g", "h")])
        // A multi-line field in a row of the right width is data, not damage.
        #expect(rows("1,\"multi\nline\",3\n", expectedFields: 3) == [row("1", "multi\nline", "3", lines: 2)])
        // A one-line row of the wrong width is the reader's to report, with the header's names.
        #expect(rows("1,2\n", expectedFields: 3) == [row("1", "2")])
    }

    @Test func strayQuoteCannotMakeTheReaderBufferTheFile() {
        let parser = CSVParser(dialect: .comma, maxRowBytes: 100)
        var text = "1,\"abc\n"
        for i in 0..<200 { text += "\(i),y\n" }
        let outcomes = parseAll(Array(text.utf8), parser: parser, expectedFields: 2, firstChunk: 32, chunk: 32)
        #expect(outcomes.first == .malformed(.rowTooLong, column: nil, skipped: Array("1,\"abc\n".utf8), lines: 1))
        #expect(outcomes.dropFirst() == (0..<200).map { row(String($0), "y") }[...])
    }

    @Test func invalidUTF8IsMalformedForTheWholeRow() {
        var bytes = Array("h1,h2,h3\na,".utf8) + [0xC3, 0x28] + Array(",c\nd,\"".utf8) + [0xFF] + Array("\n\",f\ng,é,😀\n".utf8)
        bytes += Array("x,\"ok\"".utf8)
        let outcomes = parseAll(bytes, expectedFields: 3)
        #expect(outcomes == [
            row("h1", "h2", "h3"),
            .malformed(.invalidUTF8, column: 2, skipped: Array("a,".utf8) + [0xC3, 0x28] + Array(",c\n".utf8), lines: 1),
            .malformed(.invalidUTF8, column: 2, skipped: Array("d,\"".utf8) + [0xFF] + Array("\n\",f\n".utf8), lines: 2),
            row("g", "é", "😀"), row("x", "ok"),
        ])
        guard case .malformed(let error, _, _) = (Array("a,".utf8) + [0x80]).withUnsafeBytes({ CSVParser().parseRow($0, isFinal: true) }) else {
            Issue.record("expected malformed")
            return
        }
        #expect(error.message == "invalid UTF-8 in field 2")
    }

    @Test(arguments: [false, true])
    func oneMegabyteField(quoted: Bool) {
        var rng = SeededGenerator(seed: 99)
        let alphabet: [String] = quoted ? ["a", "b", ",", "\"", "\n", "é", " "] : ["a", "b", "é", " ", "z"]
        var big = ""
        while big.utf8.count < 1 << 20 { big += alphabet.randomElement(using: &rng)! }
        var out: [UInt8] = []
        CSVWriter.appendRow(["1", big, "x"], dialect: .comma, into: &out)
        CSVWriter.appendRow(["2", "small", "y"], dialect: .comma, into: &out)
        let newlines = big.utf8.count { $0 == 0x0A }
        let expected: [Outcome] = [.row(["1", big, "x"], lines: 1 + newlines), row("2", "small", "y")]
        #expect(parseAll(out, expectedFields: 3) == expected)
        #expect(parseAll(out, expectedFields: 3, firstChunk: 65_536, chunk: 65_536) == expected)
    }

    /// The reader hands the parser whatever it has read so far: every way of cutting the input
    /// must give the same rows as parsing it whole.
    @Test func everySplitPointGivesTheSameRows() {
        let text = "h1,h2,h3\r\n1,\"a,b\",\"c\"\"d\"\n2,\"x\r\ny\",\r3,plain,\"q\"\n\n4,\"é😀\",z\n5,\"bad\"x,6\n6,\"open,7\n7,,\r\n8,last,\"\""
        let bytes = Array(text.utf8)
        let whole = parseAll(bytes, expectedFields: 3)
        #expect(whole.count == 10)
        #expect(whole[2] == row("2", "x\r\ny", "", lines: 2))
        #expect(whole[4] == .row([], lines: 1))
        #expect(whole[6] == .malformed(.characterAfterQuote, column: 2, skipped: Array("5,\"bad\"x,6\n".utf8), lines: 1))
        #expect(whole[7] == .malformed(.unterminatedQuote, column: 2, skipped: Array("6,\"open,7\n".utf8), lines: 1))
        #expect(whole[9] == row("8", "last", ""))
        for split in 0...bytes.count {
            let outcomes = parseAll(bytes, expectedFields: 3, firstChunk: split, chunk: bytes.count)
            #expect(outcomes == whole, "split at \(split)")
        }
        for chunk in 1...bytes.count {
            let outcomes = parseAll(bytes, expectedFields: 3, firstChunk: chunk, chunk: chunk)
            #expect(outcomes == whole, "chunks of \(chunk)")
        }
    }

    /// Random bytes rich in delimiters, quotes, line ends and broken UTF-8: each call consumes
    /// what it says (never more than it was given), the reader always makes progress, and chunked
    /// reading agrees with whole reading. Each call gets an allocation of exactly the bytes it may
    /// read, so that the address sanitizer catches a read past the end.
    @Test func randomBytesParseConsistently() {
        var rng = SeededGenerator(seed: 17)
        let alphabet: [UInt8] = [UInt8(ascii: "a"), UInt8(ascii: ","), UInt8(ascii: "\""), 0x0A, 0x0D, 0xC3, 0xA9, 0xFF]
        let parser = CSVParser(dialect: .comma, maxRowBytes: 24)
        for _ in 0..<3_000 {
            let bytes = (0..<Int.random(in: 0...40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            let expectedFields: Int? = Bool.random(using: &rng) ? Int.random(in: 1...3, using: &rng) : nil
            for isFinal in [false, true] {
                var offset = 0
                while offset < bytes.count {
                    let remaining = bytes.count - offset
                    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: remaining, alignment: 1)
                    buffer.copyBytes(from: bytes[offset...])
                    let result = parser.parseRow(UnsafeRawBufferPointer(buffer), expectedFields: expectedFields, isFinal: isFinal)
                    buffer.deallocate()
                    switch result {
                    case .row(_, let consumed, let lines), .malformed(_, let consumed, let lines):
                        #expect(consumed >= 1 && consumed <= remaining && lines >= 1)
                        offset += max(consumed, 1)
                    case .needMoreData:
                        #expect(!isFinal)
                        offset = bytes.count
                    }
                }
            }
            let whole = parseAll(bytes, parser: parser, expectedFields: expectedFields)
            let chunked = parseAll(bytes, parser: parser, expectedFields: expectedFields, firstChunk: 1, chunk: Int.random(in: 1...7, using: &rng))
            #expect(chunked == whole, "\(bytes)")
        }
    }

    @Test(arguments: [CSVDialect.comma, .semicolon, .tab])
    func writerAndParserRoundTrip(dialect: CSVDialect) {
        var rng = SeededGenerator(seed: UInt64(dialect.delimiter))
        let pieces = ["a", "b", " ", ",", ";", "\t", "\"", "\n", "\r", "\r\n", "é", "😀", "x y", "'"]
        var expected: [Outcome] = []
        var out: [UInt8] = []
        for _ in 0..<500 {
            let count = Int.random(in: 0...6, using: &rng)
            let fields = (0..<count).map { _ in
                (0..<Int.random(in: 0...5, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            }
            CSVWriter.appendRow(fields, dialect: dialect, into: &out)
            let lineBreaks = fields.reduce(0) { n, f in
                n + f.utf8.count { $0 == 0x0A } + f.utf8.count { $0 == 0x0D } - f.crlfCount
            }
            expected.append(.row(fields, lines: 1 + lineBreaks))
        }
        let parser = CSVParser(dialect: dialect)
        #expect(parseAll(out, parser: parser) == expected)
        #expect(parseAll(out, parser: parser, firstChunk: 7, chunk: 13) == expected)
    }

    @Test func writerQuotesOnlyWhatNeedsIt() {
        var out: [UInt8] = []
        CSVWriter.appendRow(["1", "a,b", "say \"hi\"", "x\ny", "p\rq", "", "é"], dialect: .comma, into: &out)
        CSVWriter.appendRow([""], dialect: .comma, into: &out)
        CSVWriter.appendRow([], dialect: .comma, into: &out)
        CSVWriter.appendRow(["a,b", "a;b"], dialect: .semicolon, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "1,\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",\"p\rq\",,é\n\"\"\n\na,b;\"a;b\"\n")
    }
}

extension String {
    /// The number of CRLF pairs, which are one line break, not two.
    fileprivate var crlfCount: Int {
        var n = 0
        var previousCR = false
        for b in utf8 {
            if b == 0x0A && previousCR { n += 1 }
            previousCR = b == 0x0D
        }
        return n
    }
}
