import RunnelCore
import Testing
@testable import RunnelFiles

/// The CSV fast path (`CSVRowScanner`) must read every row it takes exactly as `CSVParser` does
/// (same values, bytes and lines), and leave every other row to the parser.
@Suite struct CSVRowScannerTests {
    /// Bytes that matter to CSV: delimiters, quotes, both line ends, non-ASCII text, a byte that is
    /// never UTF-8, a space and letters.
    private static let alphabet: [[UInt8]] = [
        [0x61], [0x62], [0x2C], [0x2C], [0x22], [0x22], [0x0A], [0x0D], [0x20],
        Array("é".utf8), Array("😀".utf8), [0xFF], [0xC3],
    ]

    private func compare(_ bytes: [UInt8], isFinal: Bool, emptyAsNull: Bool, maxRowBytes: Int = 1 << 20) -> Bool? {
        var configuration = CSVExtractor.Configuration(path: "unused.csv")
        configuration.emptyAsNull = emptyAsNull
        var format = CSVFormat(configuration: configuration, maxRowBytes: maxRowBytes)
        format.fields = ["a", "b", "c"]
        var columns = ColumnsBuilder(fields: ["a", "b", "c"])
        let fast = bytes.withUnsafeBytes { format.appendRow($0, isFinal: isFinal, to: &columns) }
        guard let fast else {
            #expect(columns.rowCount == 0)
            return false
        }
        let slow = bytes.withUnsafeBytes { format.parseRow($0, isFinal: isFinal) }
        guard let slow, case .fields(let values) = slow.row else {
            Issue.record("fast path took \(bytes) (final: \(isFinal)) that the parser reads as \(String(describing: slow?.row))")
            return nil
        }
        #expect(fast.consumed == slow.consumed && fast.lines == slow.lines, "\(bytes)")
        let (_, built) = columns.finish()
        #expect(built.map { $0.value(0) } == values, "\(bytes)")
        return true
    }

    @Test func generatedRowsReadAlikeOnBothPaths() {
        // A fixed-seed generator: failures repeat.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var taken = 0
        var trials = 0
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            for _ in 0..<(1 + next(24)) { bytes += Self.alphabet[next(Self.alphabet.count)] }
            for isFinal in [true, false] {
                for emptyAsNull in [true, false] {
                    trials += 1
                    if compare(bytes, isFinal: isFinal, emptyAsNull: emptyAsNull) == true { taken += 1 }
                }
            }
        }
        // The comparison means something only if the fast path takes a fair share of rows.
        #expect(taken > trials / 50, "fast path took \(taken) of \(trials)")
    }

    @Test func commonRowsTakeTheFastPath() {
        for text in ["1,Ada,12.5\n", "1,\"Ada, \"\"the\"\" first\",é\r\n", "1,,\n", "x,y,z", "\"\",\"\",\"\"\r"] {
            #expect(compare(Array(text.utf8), isFinal: true, emptyAsNull: true) == true, "\(text)")
        }
    }

    @Test func otherRowsAreLeftToTheParser() {
        for text in ["\n", "1,2\n", "1,2,3,4\n", "1,\"a\nb\",3\n", "1,\"a\"x,3\n"] {
            #expect(compare(Array(text.utf8), isFinal: true, emptyAsNull: true) != true, "\(text)")
        }
        #expect(compare([0x31, 0x2C, 0xFF, 0x2C, 0x33, 0x0A], isFinal: true, emptyAsNull: true) == false)
        // A row cut by the buffer's end, and one past the row limit.
        #expect(compare(Array("1,2,3".utf8), isFinal: false, emptyAsNull: true) == false)
        #expect(compare(Array("1,2,3\r".utf8), isFinal: false, emptyAsNull: true) == false)
        #expect(compare(Array("1,2,345678\n".utf8), isFinal: true, emptyAsNull: true, maxRowBytes: 8) == false)
    }
}
