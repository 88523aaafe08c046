public import RunnelCore

/// Reads CSV files (RFC 4180) from a path or glob, plain or gzip.
///
/// Every value is read as a string (an empty field as null, unless `emptyAsNull` is off); `cast`
/// gives them types. A row that cannot be read, or has the wrong number of fields, becomes a dead
/// letter naming file and line, and the run goes on.
public struct CSVExtractor: Extractor {
    public struct Configuration: Sendable {
        /// A file path or a glob (`data/*.csv.gz`).
        public var path: String
        public var dialect: CSVDialect = CSVDialect()
        /// Whether the first row names the fields. Default true.
        public var header: Bool = true
        /// Field names when there is no header row (or to replace it).
        public var columns: [String]?
        /// Read empty fields as null. Default true.
        public var emptyAsNull: Bool = true
        /// The field a backfill window (`--from/--to`) applies to.
        public var cursor: String?

        public init(path: String) { self.path = path }
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration) { self.configuration = configuration }

    public func open(_ request: ExtractRequest) async throws -> any BatchReader {
        try open(request, from: LocalFiles(pattern: configuration.path))
    }

    /// Reads the inputs of `catalog` (objects in a bucket, say) as this extractor reads files;
    /// `configuration.path` is not used. A window applies to the `cursor` field; pass
    /// `recordWindow: false` when the catalog has applied it to whole inputs instead.
    public func open(_ request: ExtractRequest, from catalog: any InputCatalog, recordWindow: Bool = true) throws(RunnelError)
        -> any BatchReader
    {
        let filter = recordWindow ? try windowFilter(request.window, cursor: configuration.cursor, source: "csv") : nil
        let format = CSVFormat(configuration: configuration, maxRowBytes: request.maxRecordBytes)
        return try FileBatchReader(format: format, catalog: catalog, request: request, windowFilter: filter)
    }

    public func reparse(raw: String, origin: Origin) throws(RecordError) -> (Schema, [Value])? {
        guard let columns = configuration.columns ?? headerOf(origin.source) else { return nil }
        var format = CSVFormat(configuration: configuration)
        format.fields = columns
        var bytes = Array(raw.utf8)
        bytes.append(0x0A)
        let step = bytes.withUnsafeBytes { format.parseRow($0, isFinal: true) }
        switch step?.row {
        case .fields(let values)?: return (Schema(columns), values)
        case .malformed(let e)?: throw e
        default: throw RecordError(code: "malformed_row", message: "empty row")
        }
    }

    /// The header row of a file, read again for redrive.
    private func headerOf(_ path: String) -> [String]? {
        guard configuration.header, let f = try? InputFile(path: path) else { return nil }
        var buffer: [UInt8] = []
        var format = CSVFormat(configuration: configuration)
        while true {
            let n = (try? f.read(into: &buffer, count: 1 << 16)) ?? 0
            let start = ByteOrderMark.length(buffer)
            let r = try? buffer.withUnsafeBytes { raw throws(RunnelError) in
                try format.readPreamble(UnsafeRawBufferPointer(rebasing: raw[start...]), isFinal: n == 0, file: path)
            }
            if let r { return r.fields }
            if n == 0 { return nil }
        }
    }
}

/// CSV rows for `FileBatchReader`.
struct CSVFormat: RowFormat {
    let configuration: CSVExtractor.Configuration
    let parser: CSVParser
    var fields: [String]?
    private var scanner = CSVRowScanner()

    init(configuration: CSVExtractor.Configuration, maxRowBytes: Int = 16 << 20) {
        self.configuration = configuration
        parser = CSVParser(dialect: configuration.dialect, maxRowBytes: min(16 << 20, maxRowBytes))
        fields = configuration.columns
    }

    mutating func readPreamble(_ bytes: UnsafeRawBufferPointer, isFinal: Bool, file: String) throws(RunnelError)
        -> (fields: [String]?, consumed: Int, lines: Int)?
    {
        guard configuration.header else {
            guard let columns = configuration.columns else {
                throw RunnelError.config("csv extractor: 'header: false' needs 'columns' to name the fields")
            }
            return (columns, 0, 0)
        }
        if bytes.isEmpty && isFinal { return (fields ?? [], 0, 0) }
        switch parser.parseRow(bytes, expectedFields: nil, isFinal: isFinal) {
        case .needMoreData:
            return nil
        case .malformed(let e, _, _):
            throw RunnelError.dataContract("\(file):1: cannot read the header row: \(e.message)")
        case .row(let names, let consumed, let lines):
            if names.isEmpty {
                throw RunnelError.dataContract("\(file):1: the header row is blank")
            }
            // Names replaced by `columns` never become fields, so only a header in use is checked.
            if configuration.columns == nil { try Self.checkHeader(names, file: file) }
            if let columns = configuration.columns, columns.count != names.count {
                throw RunnelError.dataContract(
                    "\(file):1: the header has \(names.count) columns but 'columns' names \(columns.count)")
            }
            fields = configuration.columns ?? names
            return (fields, consumed, lines)
        }
    }

    /// Header names become field names, and through loaders column names: each must be non-empty,
    /// unique and free of control characters (a NUL or a line break in a name is damage, not a
    /// name). The error names the file, line and column so the header can be fixed.
    static func checkHeader(_ names: [String], file: String) throws(RunnelError) {
        var seen: [String: Int] = [:]
        for (i, name) in names.enumerated() {
            let place = "\(file):1: header column \(i + 1)"
            if name.isEmpty {
                throw RunnelError.dataContract("\(place) has no name; header names must be non-empty")
            }
            if let bad = name.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
                let hex = String(bad.value, radix: 16, uppercase: true)
                let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                throw RunnelError.dataContract(
                    "\(place) (\(name.debugDescription)) holds the control character \(code); "
                        + "header names must be free of control characters")
            }
            if let first = seen[name] {
                throw RunnelError.dataContract(
                    "\(place) names '\(name)' again (first in column \(first + 1)); header names must be unique")
            }
            seen[name] = i
        }
    }

    /// The common row goes straight into the columns (see `CSVRowScanner`); the rest takes `parseRow`.
    mutating func appendRow(_ bytes: UnsafeRawBufferPointer, isFinal: Bool, to columns: inout ColumnsBuilder) -> (consumed: Int, lines: Int)? {
        guard let expected = fields?.count else { return nil }
        let consumed = scanner.append(
            bytes, isFinal: isFinal, expected: expected, dialect: parser.dialect, maxRowBytes: parser.maxRowBytes,
            emptyAsNull: configuration.emptyAsNull, to: &columns)
        return consumed.map { ($0, 1) }
    }

    func parseRow(_ bytes: UnsafeRawBufferPointer, isFinal: Bool) -> ParseStep? {
        let expected = fields?.count
        switch parser.parseRow(bytes, expectedFields: expected, isFinal: isFinal) {
        case .needMoreData:
            return nil
        case .malformed(let e, let consumed, let lines):
            return ParseStep(row: .malformed(RecordError(code: "malformed_row", message: e.message)), consumed: consumed, lines: lines)
        case .row(let values, let consumed, let lines):
            if values.isEmpty {
                return ParseStep(row: .skip, consumed: consumed, lines: lines)
            }
            if let expected, values.count != expected {
                let names = fields!.joined(separator: ", ")
                return ParseStep(
                    row: .malformed(
                        RecordError(
                            code: "column_count",
                            message: "expected \(expected) fields (\(names)), found \(values.count)")),
                    consumed: consumed, lines: lines)
            }
            let emptyAsNull = configuration.emptyAsNull
            let row = values.map { emptyAsNull && $0.isEmpty ? Value.null : Value.string($0) }
            return ParseStep(row: .fields(row), consumed: consumed, lines: lines)
        }
    }
}
