public import RunnelCore

/// The CSV fast path: finds the fields of one row as spans of the input and appends them straight
/// into the batch's columns, with no `String` or `Value` per field.
///
/// It takes only the common row: one physical line, exactly the header's field count, valid
/// UTF-8, no longer than the row limit, complete in the buffer. Anything else (a blank line, a
/// quoted line break, a wrong field count, bad quoting or bytes, a row cut by the buffer's end)
/// returns nil with nothing appended, and the reader hands the row to `CSVParser`, so errors,
/// line counts and dead letters stay exactly what the parser makes of them. Both paths read a
/// row the same way (`CSVRowScannerTests` compares them on generated input).
struct CSVRowScanner: Sendable {
    private struct Span {
        var start: Int
        var count: Int
        /// A quoted field holding `""`: its text must be unquoted before it is stored.
        var doubled: Bool
    }

    private var spans: [Span] = []
    private var scratch: [UInt8] = []

    /// Appends the row at the front of `bytes` to `columns` and returns the bytes it used
    /// (terminator included), or nil (nothing appended) to leave the row to the parser.
    mutating func append(
        _ bytes: UnsafeRawBufferPointer, isFinal: Bool, expected: Int, dialect: CSVDialect, maxRowBytes: Int,
        emptyAsNull: Bool, to columns: inout ColumnsBuilder
    ) -> Int? {
        let n = bytes.count
        guard n > 0, let raw = bytes.baseAddress else { return nil }
        let p = raw.assumingMemoryBound(to: UInt8.self)
        guard let consumed = scan(p, n, isFinal: isFinal, delimiter: dialect.delimiter, quote: dialect.quote),
            consumed <= maxRowBytes, spans.count == expected
        else { return nil }
        let spans = self.spans
        var scratch = self.scratch
        defer { self.scratch = scratch }
        let quote = dialect.quote
        columns.appendRow { builders in
            for i in spans.indices {
                let s = spans[i]
                if s.count == 0 {
                    if emptyAsNull { builders[i].appendNull() } else { builders[i].appendString(UnsafeRawBufferPointer(start: raw, count: 0)) }
                } else if !s.doubled {
                    builders[i].appendString(UnsafeRawBufferPointer(start: raw + s.start, count: s.count))
                } else {
                    CSVParser.unquote(p, s.start..<(s.start + s.count), quote: quote, into: &scratch)
                    scratch.withUnsafeBytes { builders[i].appendString($0) }
                }
            }
        }
        return consumed
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080
    private static let lineFeeds: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
    private static let carriageReturns: UInt64 = 0x0D0D_0D0D_0D0D_0D0D

    /// Records the spans of the row at `p` and returns its length, or nil when the row is not
    /// one the fast path takes.
    private mutating func scan(_ p: UnsafePointer<UInt8>, _ n: Int, isFinal: Bool, delimiter: UInt8, quote: UInt8) -> Int? {
        // A blank line is the parser's to skip.
        if p[0] == 0x0A || p[0] == 0x0D { return nil }
        spans.removeAll(keepingCapacity: true)
        var pos = 0
        var high: UInt8 = 0
        var wide: UInt64 = 0
        let delimiters = UInt64(delimiter) &* Self.ones
        while true {
            if pos < n && p[pos] == quote {
                pos += 1
                let start = pos
                var doubled = false
                while true {
                    guard pos < n else { return nil }
                    let c = p[pos]
                    if c == quote {
                        if pos + 1 < n {
                            if p[pos + 1] == quote {
                                doubled = true
                                pos += 2
                                continue
                            }
                        } else if !isFinal {
                            return nil
                        }
                        break
                    }
                    // A line break inside quotes: the parser counts the row's lines.
                    if c == 0x0A || c == 0x0D { return nil }
                    high |= c
                    pos += 1
                }
                spans.append(Span(start: start, count: pos - start, doubled: doubled))
                pos += 1
                if pos < n {
                    let c = p[pos]
                    if c != delimiter && c != 0x0A && c != 0x0D { return nil }
                }
            } else {
                let start = pos
                // Eight bytes at a time until one may be a delimiter or a line end (the zero-byte
                // test can also flag a byte after a true match: the byte loop below is exact).
                while pos + 8 <= n {
                    let w = UnsafeRawPointer(p + pos).loadUnaligned(as: UInt64.self)
                    let d = w ^ delimiters
                    let lf = w ^ Self.lineFeeds
                    let cr = w ^ Self.carriageReturns
                    if ((d &- Self.ones) & ~d | (lf &- Self.ones) & ~lf | (cr &- Self.ones) & ~cr) & Self.highBits != 0 { break }
                    wide |= w
                    pos += 8
                }
                while pos < n {
                    let c = p[pos]
                    if c == delimiter || c == 0x0A || c == 0x0D { break }
                    high |= c
                    pos += 1
                }
                if pos == n && !isFinal { return nil }
                spans.append(Span(start: start, count: pos - start, doubled: false))
            }
            if pos == n { break }
            let c = p[pos]
            if c == delimiter {
                pos += 1
                continue
            }
            if c == 0x0D {
                if pos + 1 == n && !isFinal { return nil }
                pos += pos + 1 < n && p[pos + 1] == 0x0A ? 2 : 1
            } else {
                pos += 1
            }
            break
        }
        // Delimiters, quotes and line ends are ASCII, so a row that is valid UTF-8 as a whole has
        // valid fields, and one that is not has an invalid field.
        if high >= 0x80 || wide & Self.highBits != 0, UTF8Check.firstInvalidOffset(UnsafeBufferPointer(start: p, count: pos)) != nil { return nil }
        return pos
    }
}
