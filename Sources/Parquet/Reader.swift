#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Random access to a file's bytes: a local file, memory, or (later) an object store's ranged GETs.
public protocol ParquetSource: Sendable {
    /// The total length in bytes.
    func size() async throws -> Int64
    /// `count` bytes from `offset`; fewer only at the end of the source.
    func read(offset: Int64, count: Int) async throws -> [UInt8]
}

/// Bytes already in memory.
public struct ParquetMemorySource: ParquetSource {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public func size() async throws -> Int64 { Int64(bytes.count) }
    public func read(offset: Int64, count: Int) async throws -> [UInt8] {
        let start = Int(clamping: max(0, offset))
        guard start < bytes.count else { return [] }
        return Array(bytes[start..<min(bytes.count, start + count)])
    }
}

/// A local file read with `pread`.
public struct ParquetFileSource: ParquetSource {
    public let path: String

    public init(path: String) { self.path = path }

    public func size() async throws -> Int64 {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw ParquetError(code: .io, message: "cannot stat \(path) (errno \(errno))")
        }
        return Int64(st.st_size)
    }

    public func read(offset: Int64, count: Int) async throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ParquetError(code: .io, message: "cannot open \(path) (errno \(errno))") }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { b in
                pread(fd, b.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ParquetError(code: .io, message: "cannot read \(path) (errno \(errno))")
            }
            if n == 0 { break }
            done += n
        }
        out.removeSubrange(done...)
        return out
    }
}

/// A parsed footer: the flat schema and where each row group's column chunks lie.
struct ParquetFooter: Sendable {
    var leaves: [LeafColumn]
    var rowGroups: [RowGroupInfo]
    var createdBy: String?

    struct RowGroupInfo: Sendable {
        var rows: Int
        var chunks: [ChunkInfo]
    }

    struct ChunkInfo: Sendable {
        var offset: Int64
        var length: Int
        var meta: ColumnMetaData
    }

    /// Parses the footer bytes of a file of `fileSize` bytes.
    static func parse(_ footer: [UInt8], fileSize: Int64, limits: ParquetReaderLimits) throws(ParquetError)
        -> ParquetFooter
    {
        var r = ThriftReader(footer, fileOffset: fileSize - 8 - Int64(footer.count))
        let meta = try r.readFileMetaData()
        if meta.encrypted { throw .unsupported("encryption") }
        let leaves = try flatSchema(meta.schema)
        let dataEnd = fileSize - 8 - Int64(footer.count)
        // parquet-mr before 1.2.9 left the dictionary page header out of total_compressed_size
        // (PARQUET-816): read up to 100 more bytes for its chunks, as parquet-cpp does.
        let padding: Int64 = writtenBeforeParquet816Fix(meta.createdBy) ? 100 : 0
        var groups: [RowGroupInfo] = []
        for (gi, g) in meta.rowGroups.enumerated() {
            guard g.columns.count == leaves.count else {
                throw .corrupt("row group \(gi) has \(g.columns.count) column chunks for \(leaves.count) columns")
            }
            guard g.numRows >= 0, g.numRows <= Int64(limits.maxRowsPerRowGroup) else {
                throw .corrupt("row group \(gi) declares \(g.numRows) rows")
            }
            var chunks: [ChunkInfo] = []
            if g.numRows == 0 {
                // An empty row group's chunks hold nothing to read (some writers leave their offsets 0).
                for c in g.columns {
                    chunks.append(ChunkInfo(offset: 0, length: 0, meta: c.metaData ?? ColumnMetaData()))
                }
                groups.append(RowGroupInfo(rows: 0, chunks: chunks))
                continue
            }
            for (ci, c) in g.columns.enumerated() {
                let name = leaves[ci].field.name
                if c.encrypted { throw ParquetError.unsupported("column encryption", column: name) }
                if c.filePath != nil { throw ParquetError.unsupported("column chunk in another file", column: name) }
                guard let m = c.metaData else {
                    throw ParquetError(code: .corrupt, message: "column chunk without metadata", column: name)
                }
                guard m.type == leaves[ci].physical else {
                    throw ParquetError(
                        code: .corrupt, message: "chunk type \(m.type) differs from the schema's", column: name)
                }
                var start = m.dataPageOffset
                if let d = m.dictionaryPageOffset, d > 0, d < start { start = d }
                let length = m.totalCompressedSize
                guard start >= 4, length >= 0, start <= dataEnd, length <= dataEnd - start else {
                    throw ParquetError(
                        code: .corrupt, message: "column chunk [\(start), +\(length)) lies outside the file's data",
                        column: name)
                }
                chunks.append(
                    ChunkInfo(offset: start, length: Int(length + min(padding, dataEnd - start - length)), meta: m))
            }
            groups.append(RowGroupInfo(rows: Int(g.numRows), chunks: chunks))
        }
        return ParquetFooter(leaves: leaves, rowGroups: groups, createdBy: meta.createdBy)
    }

    static func writtenBeforeParquet816Fix(_ createdBy: String?) -> Bool {
        guard let createdBy, createdBy.hasPrefix("parquet-mr") else { return false }
        let words = createdBy.split(separator: " ")
        guard let v = words.firstIndex(of: "version"), v + 1 < words.count else { return true }
        let numbers = words[v + 1].prefix { $0.isNumber || $0 == "." }.split(separator: ".").compactMap { Int($0) }
        return numbers.lexicographicallyPrecedes([1, 2, 9])
    }

    static func flatSchema(_ elements: [SchemaElement]) throws(ParquetError) -> [LeafColumn] {
        guard let root = elements.first else { throw .corrupt("empty schema") }
        let children = Int(root.numChildren ?? 0)
        guard children >= 0 else { throw .corrupt("schema root declares \(children) children") }
        var leaves: [LeafColumn] = []
        for e in elements.dropFirst() {
            if let n = e.numChildren, n > 0 || e.type == nil {
                throw ParquetError.unsupported("nested schema (group '\(e.name)')", column: e.name)
            }
            if e.repetition == .repeated { throw ParquetError.unsupported("repeated field (a list)", column: e.name) }
            guard let type = e.type else {
                throw ParquetError(code: .corrupt, message: "leaf without a type", column: e.name)
            }
            let nullable = e.repetition != .required
            var leaf = LeafColumn(
                field: ParquetField(name: e.name, kind: .binary, nullable: nullable), physical: type,
                typeLength: Int(e.typeLength ?? 0), maxDefinitionLevel: nullable ? 1 : 0)
            if type == .fixedLenByteArray {
                guard let l = e.typeLength, l >= 0, l <= 1 << 20 else {
                    throw ParquetError(
                        code: .corrupt, message: "fixed-length column without a valid length", column: e.name)
                }
            }
            leaf.field.kind = try kind(of: e, leaf: &leaf)
            leaves.append(leaf)
        }
        guard leaves.count == children else {
            throw .corrupt("schema root declares \(children) children for \(leaves.count) columns")
        }
        return leaves
    }

    static func kind(of e: SchemaElement, leaf: inout LeafColumn) throws(ParquetError) -> ColumnKind {
        let name = e.name
        func decimal() -> ColumnKind {
            if case .decimal(let s, let p) = e.logicalType { return .decimal(precision: Int(p), scale: Int(s)) }
            return .decimal(precision: Int(e.precision ?? 0), scale: Int(e.scale ?? 0))
        }
        let isDecimal = e.convertedType == .decimal || { if case .decimal = e.logicalType { true } else { false } }()
        switch leaf.physical {
        case .boolean: return .boolean
        case .int32:
            if isDecimal { return decimal() }
            switch (e.logicalType, e.convertedType) {
            case (.date?, _), (nil, .date?): return .date
            case (.time(_, .millis)?, _), (nil, .timeMillis?): return .time(.millis)
            case (.integer(32, false)?, _), (nil, .uint32?):
                leaf.unsigned32 = true
                return .int64
            default: return .int32
            }
        case .int64:
            if isDecimal { return decimal() }
            switch (e.logicalType, e.convertedType) {
            case (.timestamp(let utc, let unit)?, _): return .timestamp(unit, utc: utc)
            case (nil, .timestampMillis?): return .timestamp(.millis, utc: true)
            case (nil, .timestampMicros?): return .timestamp(.micros, utc: true)
            case (.time(_, let unit)?, _): return .time(unit)
            case (nil, .timeMicros?): return .time(.micros)
            case (.integer(64, false)?, _), (nil, .uint64?): return .uint64
            default: return .int64
            }
        case .int96: return .timestamp(.nanos, utc: false)
        case .float: return .float
        case .double: return .double
        case .byteArray:
            if isDecimal { return decimal() }
            switch (e.logicalType, e.convertedType) {
            case (.string?, _), (.enumeration?, _), (nil, .utf8?), (nil, .enumeration?): return .string
            case (.json?, _), (nil, .json?): return .json
            default: return .binary
            }
        case .fixedLenByteArray:
            if isDecimal { return decimal() }
            if e.logicalType == .float16 {
                guard e.typeLength == 2 else {
                    throw ParquetError(code: .corrupt, message: "FLOAT16 of length \(e.typeLength ?? 0)", column: name)
                }
                leaf.float16 = true
                return .float
            }
            return .binary
        }
    }
}

/// Reads a Parquet file with a flat schema, one row group at a time.
///
/// ```swift
/// let reader = try await ParquetReader.open(ParquetFileSource(path: "orders.parquet"))
/// for g in 0..<reader.rowGroupCount {
///     let columns = try await reader.readRowGroup(g)   // one ParquetColumn per field
/// }
/// ```
/// Decimals read as their exact decimal text; INT96 as nanosecond timestamps; DATE as days (int32).
/// Nested schemas, LZ4/BROTLI/LZO and encryption are reported as `ParquetError.Code.unsupported`.
public struct ParquetReader<Source: ParquetSource>: Sendable {
    public let source: Source
    let footer: ParquetFooter
    public let limits: ParquetReaderLimits
    public let fileSize: Int64

    /// The columns, in file order.
    public var schema: [ParquetField] { footer.leaves.map(\.field) }
    public var rowGroupCount: Int { footer.rowGroups.count }
    public func rowCount(rowGroup: Int) -> Int { footer.rowGroups[rowGroup].rows }
    public var rowCount: Int { footer.rowGroups.reduce(0) { $0 + $1.rows } }
    /// The writer that made the file, as its footer says.
    public var createdBy: String? { footer.createdBy }

    /// Reads and checks the footer.
    public static func open(_ source: Source, limits: ParquetReaderLimits = .init()) async throws -> ParquetReader {
        let size = try await source.size()
        guard size >= 12 else { throw ParquetError.corrupt("file of \(size) bytes is too short for Parquet") }
        let head = try await source.read(offset: 0, count: 4)
        let tail = try await source.read(offset: size - 8, count: 8)
        guard head.count == 4, tail.count == 8 else { throw ParquetError.corrupt("file shorter than its size") }
        if tail[4...] == [0x50, 0x41, 0x52, 0x45] { throw ParquetError.unsupported("encrypted footer (PARE)") }
        guard head == [0x50, 0x41, 0x52, 0x31], tail[4...] == [0x50, 0x41, 0x52, 0x31] else {
            throw ParquetError.corrupt("missing PAR1 magic")
        }
        let length = Int64(UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
        guard length <= size - 12 else { throw ParquetError.corrupt("footer length \(length) exceeds the file") }
        let bytes = try await source.read(offset: size - 8 - length, count: Int(length))
        guard bytes.count == Int(length) else { throw ParquetError.corrupt("file shorter than its size") }
        let footer = try ParquetFooter.parse(bytes, fileSize: size, limits: limits)
        return ParquetReader(source: source, footer: footer, limits: limits, fileSize: size)
    }

    /// The columns of row group `index`, one per schema field.
    public func readRowGroup(_ index: Int) async throws -> [ParquetColumn] {
        guard footer.rowGroups.indices.contains(index) else {
            throw ParquetError(code: .invalidInput, message: "no row group \(index)")
        }
        let group = footer.rowGroups[index]
        var columns: [ParquetColumn] = []
        columns.reserveCapacity(group.chunks.count)
        for (i, chunk) in group.chunks.enumerated() {
            let bytes = try await source.read(offset: chunk.offset, count: chunk.length)
            guard bytes.count == chunk.length else { throw ParquetError.corrupt("file shorter than its size") }
            columns.append(
                try PageDecoder.decodeChunk(
                    bytes, fileOffset: chunk.offset, leaf: footer.leaves[i], meta: chunk.meta, rows: group.rows,
                    limits: limits))
        }
        return columns
    }
}

extension ParquetReader where Source == ParquetMemorySource {
    /// Decodes a whole file in memory synchronously (the fuzz target's entry point).
    static func decodeAll(_ bytes: [UInt8], limits: ParquetReaderLimits) throws(ParquetError) -> [[ParquetColumn]] {
        guard bytes.count >= 12 else { throw .corrupt("too short") }
        let n = bytes.count
        guard bytes[0..<4] == [0x50, 0x41, 0x52, 0x31], bytes[(n - 4)...] == [0x50, 0x41, 0x52, 0x31] else {
            throw .corrupt("magic")
        }
        let length = Int(
            UInt32(bytes[n - 8]) | UInt32(bytes[n - 7]) << 8 | UInt32(bytes[n - 6]) << 16 | UInt32(bytes[n - 5]) << 24)
        guard length <= n - 12 else { throw .corrupt("footer length") }
        let footer = try ParquetFooter.parse(
            Array(bytes[(n - 8 - length)..<(n - 8)]), fileSize: Int64(n), limits: limits)
        var out: [[ParquetColumn]] = []
        for g in footer.rowGroups {
            var columns: [ParquetColumn] = []
            for (i, c) in g.chunks.enumerated() {
                let chunk = Array(bytes[Int(c.offset)..<Int(c.offset) + c.length])
                columns.append(
                    try PageDecoder.decodeChunk(
                        chunk, fileOffset: c.offset, leaf: footer.leaves[i], meta: c.meta, rows: g.rows, limits: limits)
                )
            }
            out.append(columns)
        }
        return out
    }
}
