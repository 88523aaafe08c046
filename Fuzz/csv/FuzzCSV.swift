// libFuzzer target for the CSV parser (Sources/RunnelFiles/CSV), built by scripts/fuzz with
// `swiftc -sanitize=fuzzer` together with the parser's sources.
//
// Besides "no crash, no hang", it checks the parser's contract on every input: each step consumes
// at least one byte and no more than it was given, a row that parses also parses when the bytes
// arrive in two pieces (the reader's buffer boundary), and a parsed row written back by CSVWriter
// parses to the same fields.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    // The first byte picks the dialect, so that semicolons and tabs are fuzzed too.
    let dialects: [CSVDialect] = [.comma, .semicolon, .tab]
    let dialect = dialects[Int(input.first ?? 0) % dialects.count]
    let parser = CSVParser(dialect: dialect, maxRowBytes: 4096)
    var start = 0
    var expected: Int?
    while start < input.count {
        let result = input[start...].withUnsafeBytes { parser.parseRow($0, expectedFields: expected, isFinal: true) }
        switch result {
        case .needMoreData:
            fatalError("needMoreData with isFinal at \(start) of \(input.count)")
        case .malformed(_, let consumed, let lines):
            precondition(consumed > 0 && start + consumed <= input.count && lines >= 0, "bad malformed step")
            start += consumed
        case .row(let fields, let consumed, let lines):
            precondition(consumed > 0 && start + consumed <= input.count && lines >= 1, "bad row step")
            if expected == nil, !fields.isEmpty { expected = fields.count }
            // The same row split at every eighth byte: not final, it must ask for more or agree.
            let row = Array(input[start..<start + consumed])
            for cut in stride(from: 1, to: row.count, by: 8) {
                let partial = row[..<cut].withUnsafeBytes { parser.parseRow($0, expectedFields: expected, isFinal: false) }
                if case .row(let f, let c, _) = partial, c == cut, c < row.count, row[c - 1] != 0x0A, row[c - 1] != 0x0D {
                    fatalError("a row ended early at \(c) of \(row.count): \(f)")
                }
            }
            if !fields.isEmpty {
                var written: [UInt8] = []
                CSVWriter.appendRow(fields, dialect: dialect, into: &written)
                let again = written.withUnsafeBytes { parser.parseRow($0, expectedFields: nil, isFinal: true) }
                guard case .row(let back, _, _) = again, back == fields else {
                    fatalError("round trip changed \(fields) into \(again)")
                }
            }
            start += consumed
        }
    }
    return 0
}
