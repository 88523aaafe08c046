/// The bytes that structure a CSV file. Both must be ASCII, distinct, and neither CR nor LF.
public struct CSVDialect: Sendable, Hashable {
    /// Separates fields. Default `,`.
    public var delimiter: UInt8
    /// Encloses fields that contain the delimiter, the quote or a line break. Default `"`.
    public var quote: UInt8

    public init(delimiter: UInt8 = UInt8(ascii: ","), quote: UInt8 = UInt8(ascii: "\"")) {
        self.delimiter = delimiter
        self.quote = quote
    }

    /// `,` and `"` (RFC 4180).
    public static var comma: CSVDialect { CSVDialect() }
    /// `;` and `"`, common in locales where `,` is the decimal separator.
    public static var semicolon: CSVDialect { CSVDialect(delimiter: UInt8(ascii: ";")) }
    /// Tab and `"` (TSV files).
    public static var tab: CSVDialect { CSVDialect(delimiter: 0x09) }
}

/// What `CSVParser.parseRow` found at the start of the bytes it was given.
///
/// An enum on purpose: these three outcomes are the whole contract between parser and reader,
/// and callers are expected to switch over them exhaustively.
public enum CSVParseResult: Sendable, Hashable {
    /// A complete row. `consumed` counts its bytes including the line terminator (if any);
    /// `lines` is the number of physical lines it spans (1, plus the line breaks inside quoted
    /// fields). The field count is not checked against `expectedFields`: the caller reports a
    /// mismatch with the header's names.
    ///
    /// A blank line (just a terminator) is `fields == []`, which no other line gives: a line
    /// holding only `""` is `[""]`. Readers skip blank lines by testing `fields.isEmpty`.
    case row(fields: [String], consumed: Int, lines: Int)
    /// A bad row. Skip `consumed` bytes (dead-lettering them as `lines` physical lines) and call
    /// again with the rest. For broken quoting this covers only the row's first physical line.
    case malformed(CSVRowError, consumed: Int, lines: Int)
    /// The row does not end within the bytes and `isFinal` is false: call again with the same
    /// start and more bytes. Also returned for an empty buffer, whatever `isFinal`.
    case needMoreData
}

/// Why a CSV row could not be read.
public struct CSVRowError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A struct over a private enum so that new codes do not break callers' `switch`es.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unterminatedQuote = "unterminated_quote"
            case characterAfterQuote = "character_after_quote"
            case unbalancedQuote = "unbalanced_quote"
            case invalidUTF8 = "invalid_utf8"
            case rowTooLong = "row_too_long"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The input ended inside a quoted field.
        public static let unterminatedQuote = Code(.unterminatedQuote)
        /// Something other than a delimiter or line end follows a closing quote.
        public static let characterAfterQuote = Code(.characterAfterQuote)
        /// A quoted field spans lines and the row has the wrong number of fields: most likely a
        /// stray quote opened a field that swallowed the following lines.
        public static let unbalancedQuote = Code(.unbalancedQuote)
        /// A field is not valid UTF-8.
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// The row is longer than `CSVParser.maxRowBytes`.
        public static let rowTooLong = Code(.rowTooLong)

        /// A label-safe name for metrics and dead letter reasons.
        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    /// The 1-based number of the field where the problem is, when it is one field's.
    public var column: Int?

    public init(code: Code, message: String, column: Int? = nil) {
        self.code = code
        self.message = message
        self.column = column
    }

    public var description: String { message }
}

/// A byte-level RFC 4180 row parser, driven by a reader over a growing buffer.
///
/// - Fields are separated by `dialect.delimiter`; rows end at LF, CRLF or a lone CR.
/// - A field that starts with the quote may contain delimiters, line breaks and doubled quotes
///   (`""` is one `"`); after its closing quote only a delimiter or a line end may follow.
/// - A quote inside an unquoted field is kept literally (`5" disk` reads as `5" disk`).
/// - At the end of input (`isFinal`) the last row may lack a terminator.
/// - A blank line is a row with no fields (`[]`), for the reader to skip.
/// - Every field must be valid UTF-8. A byte-order mark is the reader's to strip.
///
/// Broken quoting does not swallow the file: when a quoted field spans lines and the input ends
/// inside it, or the row it completes has a field count other than `expectedFields`, or the row
/// grows beyond `maxRowBytes`, the result is `.malformed` for the row's first physical line only,
/// and parsing resumes on the next line.
///
/// ```swift
/// let parser = CSVParser(dialect: .comma)
/// // `buffer` holds the unread bytes; `atEOF` says the file has nothing more.
/// while !(atEOF && buffer.isEmpty) {
///     let result = buffer.withUnsafeBytes { parser.parseRow($0, expectedFields: header.count, isFinal: atEOF) }
///     switch result {
///     case .row(let fields, let consumed, let lines):
///         if !fields.isEmpty { emit(fields, line: line) }  // skip blank lines
///         buffer.removeFirst(consumed)
///         line += lines
///     case .malformed(let error, let consumed, let lines):
///         deadLetter(error, line: line)
///         buffer.removeFirst(consumed)
///         line += lines
///     case .needMoreData:
///         atEOF = readMore(into: &buffer)  // at least double what is buffered: see parseRow
///     }
/// }
/// ```
public struct CSVParser: Sendable {
    /// Checked once in `init`, so not settable afterwards.
    public let dialect: CSVDialect
    /// Rows longer than this are malformed (reported for their first line). It bounds what a
    /// stray quote can make the reader buffer. Default 16 MiB.
    public var maxRowBytes: Int

    public init(dialect: CSVDialect = .comma, maxRowBytes: Int = 16 << 20) {
        precondition(
            dialect.delimiter != dialect.quote && dialect.delimiter < 0x80 && dialect.quote < 0x80
                && ![0x0A, 0x0D].contains(dialect.delimiter) && ![0x0A, 0x0D].contains(dialect.quote),
            "CSV delimiter and quote must be distinct ASCII bytes other than CR and LF"
        )
        self.dialect = dialect
        self.maxRowBytes = maxRowBytes
    }

    /// Parses the row at the start of `bytes`.
    ///
    /// Each call scans from the start of `bytes`, so after `.needMoreData` the reader should at
    /// least double the bytes it offers (or add a large chunk) to keep long rows linear.
    /// - Parameters:
    ///   - expectedFields: the header's field count, if known; used only to detect a stray quote.
    ///   - isFinal: no bytes follow `bytes` (end of file).
    public func parseRow(_ bytes: UnsafeRawBufferPointer, expectedFields: Int? = nil, isFinal: Bool) -> CSVParseResult {
        let n = bytes.count
        guard n > 0, let raw = bytes.baseAddress else { return .needMoreData }
        // Any bytes may be read as UInt8, whatever the memory was bound to.
        let p = raw.assumingMemoryBound(to: UInt8.self)
        let delimiter = dialect.delimiter
        let quote = dialect.quote

        // A blank line: no fields at all, so that it cannot be mistaken for one empty field.
        if p[0] == 0x0A { return .row(fields: [], consumed: 1, lines: 1) }
        if p[0] == 0x0D {
            if n == 1 && !isFinal { return .needMoreData }
            return .row(fields: [], consumed: n > 1 && p[1] == 0x0A ? 2 : 1, lines: 1)
        }

        var fields: [String] = []
        fields.reserveCapacity(expectedFields ?? 16)
        var pos = 0
        var lines = 1
        var spansLines = false
        var invalidField: Int? = nil

        while true {
            // A field starts at `pos`.
            let field: String?
            if pos < n && p[pos] == quote {
                pos += 1
                let contentStart = pos
                var high: UInt8 = 0
                var hasDoubledQuotes = false
                var closed = false
                while pos < n {
                    let c = p[pos]
                    if c == quote {
                        if pos + 1 < n {
                            if p[pos + 1] == quote {
                                hasDoubledQuotes = true
                                pos += 2
                                continue
                            }
                        } else if !isFinal {
                            // Doubled or closing depends on the next byte.
                            return incomplete(p, n, isFinal: isFinal)
                        }
                        closed = true
                        break
                    }
                    if c == 0x0A {
                        lines += 1
                        spansLines = true
                    } else if c == 0x0D {
                        if !(pos + 1 < n && p[pos + 1] == 0x0A) { lines += 1 }
                        spansLines = true
                    }
                    high |= c
                    pos += 1
                }
                guard closed else {
                    if !isFinal { return incomplete(p, n, isFinal: isFinal) }
                    return malformed(
                        CSVRowError(code: .unterminatedQuote, message: "unterminated quoted field", column: fields.count + 1),
                        examined: n, p, n, isFinal: isFinal)
                }
                let contentEnd = pos
                pos += 1
                if pos < n {
                    let c = p[pos]
                    if c != delimiter && c != 0x0A && c != 0x0D {
                        return malformed(
                            CSVRowError(
                                code: .characterAfterQuote,
                                message: "unexpected character after closing quote in field \(fields.count + 1)",
                                column: fields.count + 1),
                            examined: pos + 1, p, n, isFinal: isFinal)
                    }
                }
                field =
                    hasDoubledQuotes
                    ? Self.unquote(p, contentStart..<contentEnd, quote: quote, ascii: high < 0x80)
                    : Self.string(p + contentStart, contentEnd - contentStart, ascii: high < 0x80)
            } else {
                let start = pos
                var high: UInt8 = 0
                while pos < n {
                    let c = p[pos]
                    if c == delimiter || c == 0x0A || c == 0x0D { break }
                    high |= c
                    pos += 1
                }
                if pos == n && !isFinal { return incomplete(p, n, isFinal: isFinal) }
                field = Self.string(p + start, pos - start, ascii: high < 0x80)
            }
            if let field {
                fields.append(field)
            } else {
                invalidField = invalidField ?? fields.count + 1
                fields.append("")
            }

            // After a field: a delimiter, a line end, or the end of the final input.
            if pos == n { break }
            let c = p[pos]
            if c == delimiter {
                pos += 1
                continue
            }
            if c == 0x0D {
                // Only the next byte tells CRLF from a lone CR.
                if pos + 1 == n && !isFinal { return incomplete(p, n, isFinal: isFinal) }
                pos += pos + 1 < n && p[pos + 1] == 0x0A ? 2 : 1
            } else {
                pos += 1
            }
            break
        }

        if pos > maxRowBytes {
            return malformedFirstLine(rowTooLong, p, n, isFinal: isFinal)
        }
        if spansLines, let expectedFields, fields.count != expectedFields {
            return malformedFirstLine(
                CSVRowError(
                    code: .unbalancedQuote,
                    message: "a quoted field spans lines and the row has \(fields.count) fields instead of "
                        + "\(expectedFields) (unbalanced quote?)"),
                p, n, isFinal: isFinal)
        }
        if let invalidField {
            return .malformed(
                CSVRowError(code: .invalidUTF8, message: "invalid UTF-8 in field \(invalidField)", column: invalidField),
                consumed: pos, lines: lines)
        }
        return .row(fields: fields, consumed: pos, lines: lines)
    }

    private var rowTooLong: CSVRowError {
        CSVRowError(code: .rowTooLong, message: "row longer than \(maxRowBytes) bytes")
    }

    /// The row is not complete in the buffer: ask for more, unless it is already too long.
    private func incomplete(_ p: UnsafePointer<UInt8>, _ n: Int, isFinal: Bool) -> CSVParseResult {
        if n > maxRowBytes { return malformedFirstLine(rowTooLong, p, n, isFinal: isFinal) }
        return .needMoreData
    }

    /// `error`, found after looking at the row's first `examined` bytes. Past `maxRowBytes` the
    /// error is `rowTooLong` instead, whatever was found there: a reader fed in small pieces
    /// stops at the limit without seeing further, and the outcome must not depend on how the
    /// input was cut.
    private func malformed(
        _ error: CSVRowError, examined: Int, _ p: UnsafePointer<UInt8>, _ n: Int, isFinal: Bool
    ) -> CSVParseResult {
        malformedFirstLine(examined > maxRowBytes ? rowTooLong : error, p, n, isFinal: isFinal)
    }

    /// `error` for the first physical line only, so that the reader resumes on the next line.
    private func malformedFirstLine(
        _ error: CSVRowError, _ p: UnsafePointer<UInt8>, _ n: Int, isFinal: Bool
    ) -> CSVParseResult {
        var i = 0
        while i < n {
            let c = p[i]
            if c == 0x0A { return .malformed(error, consumed: i + 1, lines: 1) }
            if c == 0x0D {
                if i + 1 < n { return .malformed(error, consumed: p[i + 1] == 0x0A ? i + 2 : i + 1, lines: 1) }
                return isFinal ? .malformed(error, consumed: i + 1, lines: 1) : .needMoreData
            }
            i += 1
        }
        return isFinal ? .malformed(error, consumed: n, lines: 1) : .needMoreData
    }

    /// The field's text, or nil if it is not valid UTF-8.
    @inline(__always)
    private static func string(_ start: UnsafePointer<UInt8>, _ count: Int, ascii: Bool) -> String? {
        let span = UnsafeBufferPointer(start: start, count: count)
        return ascii ? String(decoding: span, as: UTF8.self) : String(validating: span, as: UTF8.self)
    }

    /// A quoted field's text with each doubled quote made single.
    private static func unquote(
        _ p: UnsafePointer<UInt8>, _ range: Range<Int>, quote: UInt8, ascii: Bool
    ) -> String? {
        var bytes: [UInt8] = []
        unquote(p, range, quote: quote, into: &bytes)
        return bytes.withUnsafeBufferPointer { string($0.baseAddress!, $0.count, ascii: ascii) }
    }

    /// Replaces `bytes` with a quoted field's content (`range`, between the quotes) with each
    /// doubled quote made single; the parser and the fast path (`CSVRowScanner`) share it.
    static func unquote(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, quote: UInt8, into bytes: inout [UInt8]) {
        bytes.removeAll(keepingCapacity: true)
        bytes.reserveCapacity(range.count)
        var i = range.lowerBound
        while i < range.upperBound {
            let c = p[i]
            bytes.append(c)
            // Inside the content every quote is doubled (the scan ended the field otherwise).
            i += c == quote ? 2 : 1
        }
    }
}
