public import RunnelCore

/// One step of parsing the bytes at the front of a file buffer.
struct ParseStep {
    enum Row {
        /// Values aligned to the file's fields (CSV).
        case fields([Value])
        /// A self-describing record (JSON Lines).
        case object(Object)
        /// Unreadable input: becomes a dead letter carrying the raw bytes.
        case malformed(RecordError)
        /// Nothing to emit (a blank line).
        case skip
    }
    var row: Row
    /// Bytes consumed, including the line terminator.
    var consumed: Int
    /// Physical lines consumed.
    var lines: Int
    /// Bytes before `consumed` that were dropped from the buffer already (an oversized row).
    var skipped = 0
    /// The raw text for the dead letter when it is not the consumed bytes (an oversized row's start).
    var raw: String?
}

/// A file format: how to read a file's preamble (a CSV header) and then one row at a time.
protocol RowFormat {
    /// Reads what comes before the first record at the start of a file and returns the field
    /// names it declares (nil for self-describing formats), with the bytes and lines it used.
    /// Returns nil when more data is needed.
    mutating func readPreamble(_ bytes: UnsafeRawBufferPointer, isFinal: Bool, file: String) throws(RunnelError)
        -> (fields: [String]?, consumed: Int, lines: Int)?

    /// Parses one row at the front of `bytes`, or returns nil when it needs more data.
    /// When `isFinal` it must consume what is left.
    func parseRow(_ bytes: UnsafeRawBufferPointer, isFinal: Bool) -> ParseStep?

    /// The fast path: appends the row at the front of `bytes` straight into `columns` and returns
    /// the bytes and lines it used, or nil (nothing appended) to leave the row to `parseRow`.
    mutating func appendRow(_ bytes: UnsafeRawBufferPointer, isFinal: Bool, to columns: inout ColumnsBuilder) -> (consumed: Int, lines: Int)?
}

extension RowFormat {
    mutating func appendRow(_ bytes: UnsafeRawBufferPointer, isFinal: Bool, to columns: inout ColumnsBuilder) -> (consumed: Int, lines: Int)? {
        nil
    }
}
