/// Writes CSV rows that `CSVParser` reads back unchanged.
public enum CSVWriter {
    /// Appends one row and a LF to `out`.
    ///
    /// A field is quoted when it contains the delimiter, the quote, CR or LF (quotes inside are
    /// doubled); other fields are written as they are. A row of one empty field is written as
    /// `""` so that it does not read back as a blank line; a row of no fields is a blank line.
    ///
    /// ```swift
    /// var out: [UInt8] = []
    /// CSVWriter.appendRow(["1", "Widget, large", "5\" disk"], dialect: .comma, into: &out)
    /// // 1,"Widget, large","5"" disk"\n
    /// ```
    public static func appendRow(_ fields: [String], dialect: CSVDialect = .comma, into out: inout [UInt8]) {
        if fields.count == 1 && fields[0].isEmpty {
            out.append(dialect.quote)
            out.append(dialect.quote)
        } else {
            for i in fields.indices {
                if i > 0 { out.append(dialect.delimiter) }
                appendField(fields[i], dialect: dialect, into: &out)
            }
        }
        out.append(0x0A)
    }

    private static func appendField(_ field: String, dialect: CSVDialect, into out: inout [UInt8]) {
        let done: Void? = field.utf8.withContiguousStorageIfAvailable { appendField($0, dialect: dialect, into: &out) }
        if done == nil {
            var copy = field
            copy.makeContiguousUTF8()
            copy.utf8.withContiguousStorageIfAvailable { appendField($0, dialect: dialect, into: &out) }
        }
    }

    private static func appendField(_ bytes: UnsafeBufferPointer<UInt8>, dialect: CSVDialect, into out: inout [UInt8]) {
        let delimiter = dialect.delimiter
        let quote = dialect.quote
        var needsQuotes = false
        for c in bytes where c == delimiter || c == quote || c == 0x0A || c == 0x0D {
            needsQuotes = true
            break
        }
        guard needsQuotes else {
            out.append(contentsOf: bytes)
            return
        }
        out.append(quote)
        var runStart = 0
        for i in bytes.indices where bytes[i] == quote {
            // Write up to and including the quote, then the quote again.
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...i]))
            out.append(quote)
            runStart = i + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        out.append(quote)
    }
}
