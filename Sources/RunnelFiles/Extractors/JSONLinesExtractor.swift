public import RunnelCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads JSON Lines files (one JSON object per line) from a path or glob, plain or gzip.
///
/// Values keep their JSON types. A line that is not valid JSON, not an object, or not UTF-8
/// becomes a dead letter naming file and line; blank lines are skipped.
public struct JSONLinesExtractor: Extractor {
    public struct Configuration: Sendable {
        public var path: String
        /// The field a backfill window (`--from/--to`) applies to.
        public var cursor: String?
        public init(path: String) { self.path = path }
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration) { self.configuration = configuration }

    public func open(_ request: ExtractRequest) async throws -> any BatchReader {
        try open(request, from: LocalFiles(pattern: configuration.path))
    }

    /// Reads the inputs of `catalog` as this extractor reads files (see `CSVExtractor.open(_:from:recordWindow:)`).
    public func open(_ request: ExtractRequest, from catalog: any InputCatalog, recordWindow: Bool = true) throws(RunnelError)
        -> any BatchReader
    {
        let filter = recordWindow ? try windowFilter(request.window, cursor: configuration.cursor, source: "jsonl") : nil
        return try FileBatchReader(format: JSONLinesFormat(), catalog: catalog, request: request, windowFilter: filter)
    }

    public func reparse(raw: String, origin: Origin) throws(RecordError) -> (Schema, [Value])? {
        var bytes = Array(raw.utf8)
        bytes.append(0x0A)
        let step = bytes.withUnsafeBytes { JSONLinesFormat().parseRow($0, isFinal: true) }
        switch step?.row {
        case .object(let o)?: return (Schema(o.keys), o.values)
        case .malformed(let e)?: throw e
        default: throw RecordError(code: "malformed_line", message: "empty line")
        }
    }
}

struct JSONLinesFormat: RowFormat {
    /// One per reader: its buffers and the last record's keys carry over from line to line.
    let stream = JSONText.Stream()

    mutating func readPreamble(_ bytes: UnsafeRawBufferPointer, isFinal: Bool, file: String) throws(RunnelError)
        -> (fields: [String]?, consumed: Int, lines: Int)?
    {
        (nil, 0, 0)
    }

    /// A line that is a flat object of scalars goes straight into the columns (see
    /// `ColumnsBuilder.append(flatJSON:)`); blank lines and every other line take `parseRow`.
    mutating func appendRow(_ bytes: UnsafeRawBufferPointer, isFinal: Bool, to columns: inout ColumnsBuilder) -> (consumed: Int, lines: Int)? {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        let lineEnd: Int
        if let newline = memchr(base, 0x0A, bytes.count) {
            lineEnd = base.distance(to: UnsafeRawPointer(newline))
        } else {
            guard isFinal else { return nil }
            lineEnd = bytes.count
        }
        var end = lineEnd
        if end > 0, bytes[end - 1] == 0x0D { end -= 1 }
        guard end > 0, columns.append(flatJSON: UnsafeRawBufferPointer(rebasing: bytes[0..<end])) else { return nil }
        return (min(lineEnd + 1, bytes.count), 1)
    }

    func parseRow(_ bytes: UnsafeRawBufferPointer, isFinal: Bool) -> ParseStep? {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        let newline = memchr(base, 0x0A, bytes.count)
        let lineEnd: Int
        let consumed: Int
        if let newline {
            lineEnd = base.distance(to: UnsafeRawPointer(newline))
            consumed = lineEnd + 1
        } else {
            guard isFinal else { return nil }
            lineEnd = bytes.count
            consumed = bytes.count
        }
        var end = lineEnd
        if end > 0, bytes[end - 1] == 0x0D { end -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: bytes[0..<end])
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return ParseStep(row: .skip, consumed: consumed, lines: 1) }
        do {
            let value = try stream.parse(line)
            guard case .object(let object) = value else {
                return ParseStep(
                    row: .malformed(RecordError(code: "malformed_line", message: "line is a JSON \(value.typeName), not an object")),
                    consumed: consumed, lines: 1)
            }
            return ParseStep(row: .object(object), consumed: consumed, lines: 1)
        } catch {
            let code = error.code == .numberOutOfRange ? "number_out_of_range" : "malformed_line"
            return ParseStep(
                row: .malformed(RecordError(code: code, message: "\(error)")), consumed: consumed,
                lines: 1)
        }
    }
}
