import Parquet
public import RunnelCore
import RunnelFiles

/// Reads Parquet files with flat schemas from a path or glob, one row group in memory at a time.
///
/// Each column converts to a field: booleans, integers, doubles (and floats), strings, JSON
/// (parsed), timestamps (INT96 and nanoseconds truncated to Runnel's microseconds), DATE as a
/// timestamp at midnight UTC, TIME as microseconds since midnight, decimals as their exact text,
/// UINT64 above Int64's range as text, and binary as a string when it is UTF-8, else base64.
/// The position is the file and the row within it (`line`, 1-based, with the row group in
/// `offset`), so a killed run resumes at the first row not committed. A damaged file or an
/// unsupported feature (nested schema, LZ4) stops the run with exit 3 naming file and column.
///
/// This converts columns to rows in one small place; the columnar batch will take the columns as they are.
public struct ParquetExtractor: Extractor {
    public struct Configuration: Sendable {
        public var path: String
        /// The column `--from/--to` apply to. Row groups whose statistics lie wholly outside the
        /// window are skipped without being read; the rows of the others are filtered.
        public var cursor: String?
        public init(path: String) { self.path = path }
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration) { self.configuration = configuration }

    public func open(_ request: ExtractRequest) async throws -> any BatchReader {
        if request.shard != nil {
            throw RunnelError.config("the parquet extractor does not split its input across workers yet")
        }
        let files = try FileGlob.expand(configuration.path).map { LocalFileObject(path: $0) }
        return try ParquetPartDecoder().open(request, objects: files, inOrder: false, cursor: configuration.cursor)
    }
}

/// `format: parquet` for the extractors of other modules (S3): Parquet read from random-access
/// objects, one row group in memory at a time, the footer and each column chunk fetched by range.
public struct ParquetPartDecoder: PartDecoder {
    public init() {}

    public func open(_ request: ExtractRequest, objects: [any RandomAccessObject], inOrder: Bool, cursor: String?) throws -> any BatchReader {
        var filter: WindowFilter?
        if let window = request.window {
            guard let cursor else {
                throw RunnelError.config("--from/--to need a cursor: set 'extract.cursor' to the column the window applies to (parquet)")
            }
            filter = WindowFilter(field: cursor, window: window)
        }
        if request.shard != nil {
            throw RunnelError.config("format parquet does not split its input across workers yet")
        }
        let position = try request.checkpoint.map { c throws(RunnelError) in try FilePosition(c) } ?? FilePosition()
        return ParquetBatchReader(
            objects: objects, inOrder: inOrder, position: position, maxRecords: max(1, request.batching.maxRecords),
            limit: request.limit, window: filter)
    }
}

/// A random-access object as the Parquet module's source.
struct ObjectParquetSource: ParquetSource {
    let object: any RandomAccessObject
    func size() async throws -> Int64 { try await object.size() }
    func read(offset: Int64, count: Int) async throws -> [UInt8] { try await object.read(offset: offset, count: count) }
}

final class ParquetBatchReader: BatchReader {
    private var files: [any RandomAccessObject]
    private let inOrder: Bool
    private var position: FilePosition
    private let maxRecords: Int
    private var remaining: Int?
    private var open: OpenFile?
    /// `--from/--to` on a cursor column.
    private let window: WindowFilter?
    /// Row groups left unread because their statistics lie outside the window (the tests read it).
    private(set) var skippedRowGroups = 0

    struct OpenFile {
        var name: String
        var reader: ParquetReader<ObjectParquetSource>
        var schema: Schema
        var rowGroup = 0
        var columns: [ParquetColumn] = []
        var rowInGroup = 0
        /// 0-based row in the file of `rowInGroup`.
        var row = 0
        /// The cursor's column, with a window.
        var cursor: Int?
    }

    init(
        objects: [any RandomAccessObject], inOrder: Bool, position: FilePosition, maxRecords: Int, limit: Int?,
        window: WindowFilter? = nil
    ) {
        self.window = window
        self.files = objects.filter { !position.isDone($0.name) }
        self.inOrder = inOrder
        self.position = position
        self.maxRecords = maxRecords
        self.remaining = limit
        // A file in progress is read first, from its position.
        if let current = position.file, let i = self.files.firstIndex(where: { $0.name == current }) {
            self.files.insert(self.files.remove(at: i), at: 0)
        }
    }

    private func failure(_ error: any Error, _ file: String) -> RunnelError {
        guard let e = error as? ParquetError else { return RunnelError.classify(error) }
        if e.code == .io { return RunnelError.transient("parquet file '\(file)': \(e)") }
        return RunnelError.dataContract("parquet file '\(file)': \(e)")
    }

    private func openNext() async throws -> Bool {
        while let object = files.first {
            let name = object.name
            let reader: ParquetReader<ObjectParquetSource>
            do { reader = try await ParquetReader.open(ObjectParquetSource(object: object)) } catch {
                throw failure(error, name)
            }
            var file = OpenFile(name: name, reader: reader, schema: Schema(reader.schema.map(\.name)))
            if let window {
                guard let i = reader.schema.firstIndex(where: { $0.name == window.field }) else {
                    throw RunnelError.dataContract(
                        "parquet file '\(name)' has no column '\(window.field)' (extract.cursor); it has \(reader.schema.map(\.name))")
                }
                file.cursor = i
            }
            // Resume: skip whole row groups before the stored row, then rows within one.
            let start = position.file == name ? max(0, position.line - 1) : 0
            while file.rowGroup < reader.rowGroupCount, file.row + reader.rowCount(rowGroup: file.rowGroup) <= start {
                file.row += reader.rowCount(rowGroup: file.rowGroup)
                file.rowGroup += 1
            }
            file.rowInGroup = start - file.row
            file.row = start
            if file.rowGroup < reader.rowGroupCount {
                open = file
                return true
            }
            files.removeFirst()
            position.finish(name, inOrder: inOrder)
            position.file = nil
        }
        return false
    }

    func read() async throws -> ReadResult {
        if let r = remaining, r <= 0 { return .end }
        if open == nil, try await !openNext() { return .end }
        guard var file = open else { return .end }
        var rows: [[Value]] = []
        var origins: [Origin] = []
        var bytes = 0
        let want = min(maxRecords, remaining ?? .max)
        while rows.count < want, file.rowGroup < file.reader.rowGroupCount {
            if file.columns.isEmpty, file.rowInGroup == 0, outsideWindow(file) {
                // Its statistics say no row can be in the window: move past it unread.
                file.row += file.reader.rowCount(rowGroup: file.rowGroup)
                file.rowGroup += 1
                skippedRowGroups += 1
                continue
            }
            if file.columns.isEmpty {
                do { file.columns = try await file.reader.readRowGroup(file.rowGroup) } catch {
                    throw failure(error, file.name)
                }
            }
            let groupRows = file.reader.rowCount(rowGroup: file.rowGroup)
            let fields = file.reader.schema
            while rows.count < want, file.rowInGroup < groupRows {
                if let window, let c = file.cursor,
                    !window.contains(Self.value(file.columns[c], file.rowInGroup, fields[c].kind))
                {
                    file.rowInGroup += 1
                    file.row += 1
                    continue
                }
                var values: [Value] = []
                values.reserveCapacity(fields.count)
                for (f, c) in zip(fields, file.columns) {
                    let v = Self.value(c, file.rowInGroup, f.kind)
                    bytes += 8 + (v.stringCount ?? 0)
                    values.append(v)
                }
                rows.append(values)
                origins.append(Origin(source: file.name, line: file.row + 1, offset: Int64(file.rowGroup)))
                file.rowInGroup += 1
                file.row += 1
            }
            if file.rowInGroup >= groupRows {
                file.rowGroup += 1
                file.rowInGroup = 0
                file.columns = []
            }
        }
        if file.rowGroup >= file.reader.rowGroupCount {
            files.removeFirst()
            position.finish(file.name, inOrder: inOrder)
            position.file = nil
            position.line = 1
            position.offset = 0
            open = nil
        } else {
            position.file = file.name
            position.line = file.row + 1
            position.offset = Int64(file.rowGroup)
            open = file
        }
        if let r = remaining { remaining = r - rows.count }
        if rows.isEmpty { return try await read() }
        return .batch(Batch(schema: file.schema, rows: rows, origins: origins, byteCount: bytes), checkpoint: position.checkpoint)
    }

    /// Whether the cursor's statistics put the whole of the file's current row group outside
    /// the window: its largest value before `from`, or its smallest at or after `to`.
    private func outsideWindow(_ file: OpenFile) -> Bool {
        guard let window, let c = file.cursor, let bounds = file.reader.bounds(rowGroup: file.rowGroup, column: c) else {
            return false
        }
        let kind = file.reader.schema[c].kind
        let low = Self.value(bounds.min, 0, kind)
        let high = Self.value(bounds.max, 0, kind)
        if let from = window.window.from, let o = WindowFilter.compare(high, from), o == .orderedAscending { return true }
        if let to = window.window.to, let o = WindowFilter.compare(low, to), o != .orderedAscending { return true }
        return false
    }

    static func value(_ column: ParquetColumn, _ row: Int, _ kind: ColumnKind) -> Value {
        if column.isNull(row) { return .null }
        switch column.values {
        case .boolean(let v): return .bool(v[row])
        case .int32(let v):
            if kind == .date { return .timestamp(Timestamp(microseconds: Int64(v[row]) * 86_400_000_000)) }
            if kind.timeUnit == .millis { return .int(Int64(v[row]) * 1000) }
            return .int(Int64(v[row]))
        case .int64(let v):
            let n = v[row]
            if kind == .uint64 { return n >= 0 ? .int(n) : .string(String(UInt64(bitPattern: n))) }
            switch kind.timeUnit {
            case .millis?: return kind.isTimestamp ? .timestamp(Timestamp(microseconds: n &* 1000)) : .int(n &* 1000)
            case .micros?: return kind.isTimestamp ? .timestamp(Timestamp(microseconds: n)) : .int(n)
            case .nanos?:
                // Floor to microseconds (Runnel's precision).
                let micros = n >= 0 ? n / 1000 : (n - 999) / 1000
                return kind.isTimestamp ? .timestamp(Timestamp(microseconds: micros)) : .int(micros)
            case nil: return .int(n)
            }
        case .float(let v): return .double(Double(v[row]))
        case .double(let v): return .double(v[row])
        case .byteArrays(let v):
            let bytes = v[row]
            if kind == .json, let parsed = try? JSONText.parse(Array(bytes)) { return parsed }
            if kind == .binary {
                guard let text = String(validating: bytes, as: UTF8.self) else { return .string(base64(bytes)) }
                return .string(text)
            }
            return .string(String(decoding: bytes, as: UTF8.self))
        }
    }

    static func base64(_ bytes: ArraySlice<UInt8>) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let n = min(3, bytes.endIndex - i)
            var chunk: UInt32 = 0
            for k in 0..<3 { chunk = chunk << 8 | (k < n ? UInt32(bytes[i + k]) : 0) }
            for k in 0..<4 { out.append(k <= n ? table[Int(chunk >> UInt32(18 - 6 * k) & 63)] : UInt8(ascii: "=")) }
            i += n
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Value {
    fileprivate var stringCount: Int? { if case .string(let s) = self { s.utf8.count } else { nil } }
}
