#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(fd, p, n)
    #else
        Darwin.write(fd, p, n)
    #endif
}

/// Where the writer puts the file's bytes, in order.
public protocol ParquetSink {
    mutating func write(_ bytes: [UInt8]) throws
}

/// Collects the file in memory.
public struct ParquetByteSink: ParquetSink {
    public var bytes: [UInt8] = []
    public init() {}
    public mutating func write(_ bytes: [UInt8]) throws { self.bytes.append(contentsOf: bytes) }
}

/// Writes to an open file descriptor (the caller owns and closes it).
public struct ParquetFileDescriptorSink: ParquetSink {
    public let descriptor: Int32
    public init(descriptor: Int32) { self.descriptor = descriptor }
    public mutating func write(_ bytes: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { b in systemWrite(descriptor, b.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ParquetError(code: .io, message: "write failed (errno \(errno))")
            }
            done += n
        }
    }
}

/// Writes a Parquet file row group by row group: only the row group being written is in memory.
///
/// ```swift
/// var writer = try ParquetWriter(
///     schema: [ParquetField(name: "id", kind: .int64, nullable: false), ParquetField(name: "name", kind: .string)],
///     sink: ParquetByteSink())
/// try writer.writeRowGroup([
///     ParquetColumn(values: .int64([1, 2])),
///     ParquetColumn(values: .byteArrays(ByteArrays(["a", ""])), validity: [true, false]),
/// ])
/// let bytes = try writer.close().bytes
/// ```
/// Kinds written: boolean, int32, int64, float, double, string, json, binary, date and
/// timestamps (`.timestampMicros` is INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true)).
public struct ParquetWriter<Sink: ParquetSink> {
    public struct Configuration: Sendable {
        /// The codec of every page. Default zstd.
        public var compression: ParquetCompression = .zstd
        /// A column chunk's dictionary may hold this many bytes (PLAIN-encoded) before the chunk
        /// falls back to PLAIN. Default 1 MiB.
        public var dictionaryPageSizeLimit: Int = 1 << 20
        /// A chunk is dictionary-encoded when its distinct values are at most this many or at most
        /// one in 100 of its values (and the dictionary is smaller than PLAIN). Default 64.
        public var dictionaryMinimumEntries: Int = 64
        /// Target uncompressed size of a data page. Default 1 MiB.
        public var dataPageSize: Int = 1 << 20
        /// Min/max statistics longer than this many bytes are left out (not truncated). Default 1024.
        public var statisticsMaxLength: Int = 1024
        /// The footer's created_by.
        public var createdBy: String = "Runnel parquet writer"

        public init(compression: ParquetCompression = .zstd) { self.compression = compression }
    }

    public let schema: [ParquetField]
    public let configuration: Configuration
    private var sink: Sink
    private var position: Int64 = 0
    private var rowGroups: [RowGroup] = []
    private var rows: Int64 = 0

    public init(schema: [ParquetField], sink: Sink, configuration: Configuration = .init()) throws {
        for f in schema {
            guard Self.physicalType(f.kind) != nil else {
                throw ParquetError(
                    code: .invalidInput, message: "the writer has no mapping for \(f.kind)", column: f.name)
            }
        }
        guard !schema.isEmpty else {
            throw ParquetError(code: .invalidInput, message: "a Parquet file needs at least one column")
        }
        self.schema = schema
        self.configuration = configuration
        self.sink = sink
        try write(Array("PAR1".utf8))
    }

    static func physicalType(_ kind: ColumnKind) -> PhysicalType? {
        switch kind.kind {
        case .boolean: .boolean
        case .int32, .date: .int32
        case .int64, .timestamp: .int64
        case .float: .float
        case .double: .double
        case .string, .json, .binary: .byteArray
        case .time, .decimal, .uint64: nil
        }
    }

    private mutating func write(_ bytes: [UInt8]) throws {
        try sink.write(bytes)
        position += Int64(bytes.count)
    }

    /// Appends one row group: one column per schema field, all with the same number of rows.
    public mutating func writeRowGroup(_ columns: [ParquetColumn]) throws {
        guard columns.count == schema.count else {
            throw ParquetError(
                code: .invalidInput, message: "row group has \(columns.count) columns, the schema \(schema.count)")
        }
        let count = columns.first?.count ?? 0
        guard count > 0 else { return }
        let start = position
        var chunks: [ColumnChunk] = []
        var uncompressed: Int64 = 0
        for (field, column) in zip(schema, columns) {
            guard column.count == count, column.validity.map({ $0.count == count }) ?? true else {
                throw ParquetError(
                    code: .invalidInput, message: "column has \(column.count) values, the row group \(count) rows",
                    column: field.name)
            }
            if !field.nullable && column.nullCount > 0 {
                throw ParquetError(code: .invalidInput, message: "null in a required column", column: field.name)
            }
            let encoded = try ChunkEncoder(field: field, column: column, configuration: configuration).encode()
            let chunkStart = position
            var meta = encoded.meta
            meta.dataPageOffset += chunkStart
            if let d = meta.dictionaryPageOffset { meta.dictionaryPageOffset = d + chunkStart }
            try write(encoded.bytes)
            uncompressed += meta.totalUncompressedSize
            chunks.append(ColumnChunk(filePath: nil, fileOffset: chunkStart, metaData: meta))
        }
        rowGroups.append(
            RowGroup(
                columns: chunks, totalByteSize: uncompressed, numRows: Int64(count), fileOffset: start,
                totalCompressedSize: position - start))
        rows += Int64(count)
    }

    /// Writes the footer and hands the sink back.
    public consuming func close() throws -> Sink {
        var meta = FileMetaData()
        meta.version = 2
        meta.numRows = rows
        meta.rowGroups = rowGroups
        meta.createdBy = configuration.createdBy
        var root = SchemaElement()
        root.name = "schema"
        root.numChildren = Int32(schema.count)
        meta.schema = [root] + schema.map(Self.schemaElement)
        var w = ThriftWriter()
        w.structValue { $0.writeFileMetaData(meta) }
        let length = UInt32(w.bytes.count)
        try write(
            w.bytes + [
                UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24),
            ] + Array("PAR1".utf8))
        return sink
    }

    static func schemaElement(_ f: ParquetField) -> SchemaElement {
        var e = SchemaElement()
        e.name = f.name
        e.type = physicalType(f.kind)
        e.repetition = f.nullable ? .optional : .required
        switch f.kind.kind {
        case .string:
            e.convertedType = .utf8
            e.logicalType = .string
        case .json:
            e.convertedType = .json
            e.logicalType = .json
        case .date:
            e.convertedType = .date
            e.logicalType = .date
        case .timestamp(let unit, let utc):
            if utc && unit != .nanos { e.convertedType = unit == .millis ? .timestampMillis : .timestampMicros }
            e.logicalType = .timestamp(utc: utc, unit: unit)
        default: break
        }
        return e
    }
}

/// Encodes one column chunk: an optional dictionary page, then data pages, with statistics.
struct ChunkEncoder {
    let field: ParquetField
    let column: ParquetColumn
    let configuration: ParquetWriter<ParquetByteSink>.Configuration
    let physical: PhysicalType

    init<S>(field: ParquetField, column: ParquetColumn, configuration: ParquetWriter<S>.Configuration) {
        self.field = field
        self.column = column
        var c = ParquetWriter<ParquetByteSink>.Configuration(compression: configuration.compression)
        c.dictionaryPageSizeLimit = configuration.dictionaryPageSizeLimit
        c.dictionaryMinimumEntries = configuration.dictionaryMinimumEntries
        c.dataPageSize = configuration.dataPageSize
        c.statisticsMaxLength = configuration.statisticsMaxLength
        self.configuration = c
        self.physical = ParquetWriter<ParquetByteSink>.physicalType(field.kind)!
    }

    /// Row indices of non-null values.
    var codec: CompressionCodec { configuration.compression.codec }

    func valueWidth(_ row: Int) -> Int {
        switch column.values {
        case .boolean: 1
        case .int32, .float: 4
        case .int64, .double: 8
        case .byteArrays(let b): 4 + b.offsets[row + 1] - b.offsets[row]
        }
    }

    func encode() throws -> (bytes: [UInt8], meta: ColumnMetaData) {
        let rows = column.count
        var out: [UInt8] = []
        var meta = ColumnMetaData()
        meta.type = physical
        meta.pathInSchema = [field.name]
        meta.codec = codec.rawValue
        meta.numValues = Int64(rows)
        var encodings: Set<Int32> = [Encoding.rle.rawValue]

        // Dictionary: values in first-seen order and each row's index; nil when PLAIN is better.
        let dictionary = buildDictionary()
        if let dictionary {
            let plain = plainEncode(rows: dictionary.representatives)
            let page = try compressedPage(
                plain,
                header: { h in
                    h.type = PageType.dictionaryPage.rawValue
                    h.dictionaryPage = DictionaryPageHeader(
                        numValues: Int32(dictionary.representatives.count), encoding: Encoding.plain.rawValue)
                })
            meta.dictionaryPageOffset = 0
            out += page.bytes
            meta.totalUncompressedSize += Int64(page.uncompressed)
            encodings.insert(Encoding.plain.rawValue)
        }
        meta.dataPageOffset = Int64(out.count)
        let width = dictionary.map { bitWidth(UInt64(max($0.representatives.count, 1) - 1)) } ?? 0
        var start = 0
        var chunkStats = StatsAccumulator(column: column, physical: physical)
        while start < rows {
            var end = start
            var bytes = 0
            while end < rows && bytes < configuration.dataPageSize {
                bytes += dictionary != nil ? 2 : valueWidth(end)
                end += 1
            }
            var body: [UInt8] = []
            if field.nullable {
                var levels = HybridEncoder(width: 1)
                for r in start..<end { levels.append(column.isNull(r) ? 0 : 1) }
                let l = levels.finish()
                let n = UInt32(l.count)
                body += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)]
                body += l
            }
            let nonNull = (start..<end).filter { !column.isNull($0) }
            let encoding: Encoding
            if let dictionary {
                body.append(UInt8(width))
                var indices = HybridEncoder(width: width)
                for r in nonNull { indices.append(dictionary.indices[r]) }
                body += indices.finish()
                encoding = .rleDictionary
            } else {
                body += plainEncode(rows: nonNull)
                encoding = .plain
            }
            encodings.insert(encoding.rawValue)
            var stats = StatsAccumulator(column: column, physical: physical)
            stats.add(start..<end)
            chunkStats.merge(stats)
            let pageStats = stats.statistics(maxLength: configuration.statisticsMaxLength)
            let page = try compressedPage(
                body,
                header: { h in
                    h.type = PageType.dataPage.rawValue
                    h.dataPage = DataPageHeader(
                        numValues: Int32(end - start), encoding: encoding.rawValue,
                        definitionLevelEncoding: Encoding.rle.rawValue,
                        repetitionLevelEncoding: Encoding.rle.rawValue, statistics: pageStats)
                })
            out += page.bytes
            meta.totalUncompressedSize += Int64(page.uncompressed)
            start = end
        }
        meta.totalCompressedSize = Int64(out.count)
        meta.encodings = encodings.sorted()
        meta.statistics = chunkStats.statistics(maxLength: configuration.statisticsMaxLength)
        return (out, meta)
    }

    private func compressedPage(_ body: [UInt8], header: (inout PageHeader) -> Void) throws -> (
        bytes: [UInt8], uncompressed: Int
    ) {
        let compressed = try Codecs.compress(body, codec)
        var h = PageHeader()
        header(&h)
        h.uncompressedPageSize = Int32(body.count)
        h.compressedPageSize = Int32(compressed.count)
        var w = ThriftWriter()
        w.structValue { $0.writePageHeader(h) }
        return (w.bytes + compressed, w.bytes.count + body.count)
    }

    struct Dictionary {
        var representatives: [Int]  // a row holding each distinct value, in index order
        var indices: [UInt32]  // per row (0 for nulls)
    }

    /// A dictionary for the chunk when it stays under the limit and is smaller than PLAIN.
    func buildDictionary() -> Dictionary? {
        let rows = column.count
        var indices = [UInt32](repeating: 0, count: rows)
        var representatives: [Int] = []
        var dictBytes = 0
        var plainBytes = 0
        let limit = configuration.dictionaryPageSizeLimit
        // Many distinct values make wide indices that compress worse than the PLAIN values do:
        // like DuckDB, keep the dictionary to chunks with at most one distinct value in 100
        // (uncompressed files go by size alone). Known before the first row, so a column of
        // mostly distinct values (keys, emails, times) stops after a few thousand rows instead of
        // hashing the whole chunk to be refused at the end.
        let maxEntries = codec == .uncompressed
            ? Int.max : max(configuration.dictionaryMinimumEntries, (rows - column.nullCount) / 100)
        var table = DictionaryTable(expected: min(rows, 4_096))
        /// Adds row `r` (its hash and a test of equality with a representative row) to the
        /// dictionary; false once the dictionary passes the limit.
        @inline(__always)
        func add(_ r: Int, width w: Int, hash: UInt64, equals: (Int) -> Bool) -> Bool {
            plainBytes += w
            let (i, inserted) = table.index(hash: hash, equals: equals)
            indices[r] = UInt32(i)
            guard inserted else { return true }
            representatives.append(r)
            dictBytes += w
            return dictBytes <= limit && representatives.count <= maxEntries
        }
        func fixed<T: FixedWidthInteger>(_ v: UnsafeBufferPointer<T>) -> Bool {
            for r in 0..<rows where !column.isNull(r) {
                let x = v[r]
                guard
                    add(
                        r, width: MemoryLayout<T>.size, hash: DictionaryTable.hash(UInt64(truncatingIfNeeded: x)),
                        equals: { v[representatives[$0]] == x })
                else { return false }
            }
            return true
        }
        /// Floating-point values are compared by their bits (so -0 and 0, or two NaNs, are told
        /// apart as PLAIN would write them), read in place rather than copied to integers.
        func bits<F, B: FixedWidthInteger>(_ v: [F], as _: B.Type) -> Bool {
            v.withUnsafeBytes { fixed($0.bindMemory(to: B.self)) }
        }
        let ok: Bool
        switch column.values {
        case .boolean: return nil
        case .int32(let v): ok = v.withUnsafeBufferPointer(fixed)
        case .int64(let v): ok = v.withUnsafeBufferPointer(fixed)
        case .float(let v): ok = bits(v, as: UInt32.self)
        case .double(let v): ok = bits(v, as: UInt64.self)
        case .byteArrays(let b):
            ok = b.bytes.withUnsafeBytes { bytes in
                b.offsets.withUnsafeBufferPointer { offsets in
                    for r in 0..<rows where !column.isNull(r) {
                        let start = offsets[r]
                        let n = offsets[r + 1] - start
                        let p = bytes.baseAddress.map { $0 + start }
                        let fits = add(r, width: 4 + n, hash: DictionaryTable.hash(p, n)) { k in
                            let other = offsets[representatives[k]]
                            return offsets[representatives[k] + 1] - other == n
                                && (n == 0 || memcmp(bytes.baseAddress! + other, p!, n) == 0)
                        }
                        if !fits { return false }
                    }
                    return true
                }
            }
        }
        guard ok, !representatives.isEmpty else { return nil }
        let nonNull = plainBytes == 0 ? 0 : rows - column.nullCount
        let indexBytes = (nonNull * bitWidth(UInt64(representatives.count - 1)) + 7) / 8
        guard dictBytes + indexBytes < plainBytes else { return nil }
        return Dictionary(representatives: representatives, indices: indices)
    }

    func plainEncode(rows: some Collection<Int>) -> [UInt8] {
        var out: [UInt8] = []
        func append<T: FixedWidthInteger>(_ v: T) {
            withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
        }
        switch column.values {
        case .boolean(let v):
            out.reserveCapacity((rows.count + 7) / 8)
            var byte: UInt8 = 0
            var bit = 0
            for r in rows {
                if v[r] { byte |= 1 << UInt8(bit) }
                bit += 1
                if bit == 8 {
                    out.append(byte)
                    byte = 0
                    bit = 0
                }
            }
            if bit > 0 { out.append(byte) }
        case .int32(let v):
            out.reserveCapacity(rows.count * 4)
            for r in rows { append(v[r]) }
        case .int64(let v):
            out.reserveCapacity(rows.count * 8)
            for r in rows { append(v[r]) }
        case .float(let v):
            out.reserveCapacity(rows.count * 4)
            for r in rows { append(v[r].bitPattern) }
        case .double(let v):
            out.reserveCapacity(rows.count * 8)
            for r in rows { append(v[r].bitPattern) }
        case .byteArrays(let b):
            for r in rows {
                append(UInt32(b.offsets[r + 1] - b.offsets[r]))
                out.append(contentsOf: b[r])
            }
        }
        return out
    }
}

/// Min, max and null count over rows of a column, in Parquet's sort order for the type.
struct StatsAccumulator {
    let column: ParquetColumn
    let physical: PhysicalType
    var minRow: Int?
    var maxRow: Int?
    var nulls = 0

    init(column: ParquetColumn, physical: PhysicalType) {
        self.column = column
        self.physical = physical
    }

    func less(_ a: Int, _ b: Int) -> Bool {
        switch column.values {
        case .boolean(let v): !v[a] && v[b]
        case .int32(let v): v[a] < v[b]
        case .int64(let v): v[a] < v[b]
        case .float(let v): v[a] < v[b]
        case .double(let v): v[a] < v[b]
        case .byteArrays(let v): v[a].lexicographicallyPrecedes(v[b])
        }
    }

    func isNaN(_ r: Int) -> Bool {
        switch column.values {
        case .float(let v): v[r].isNaN
        case .double(let v): v[r].isNaN
        default: false
        }
    }

    /// Adds the rows' values: one loop per physical type, comparing in place (a `less` that
    /// switches on the values per call cost more than the page's encoding).
    mutating func add(_ rows: Range<Int>) {
        switch column.values {
        case .boolean(let v): scan(rows, isNaN: { _ in false }) { !v[$0] && v[$1] }
        case .int32(let v): v.withUnsafeBufferPointer { v in scan(rows, isNaN: { _ in false }) { v[$0] < v[$1] } }
        case .int64(let v): v.withUnsafeBufferPointer { v in scan(rows, isNaN: { _ in false }) { v[$0] < v[$1] } }
        case .float(let v): v.withUnsafeBufferPointer { v in scan(rows, isNaN: { v[$0].isNaN }) { v[$0] < v[$1] } }
        case .double(let v): v.withUnsafeBufferPointer { v in scan(rows, isNaN: { v[$0].isNaN }) { v[$0] < v[$1] } }
        case .byteArrays(let b):
            b.bytes.withUnsafeBytes { bytes in
                b.offsets.withUnsafeBufferPointer { offsets in
                    // Unsigned byte order (memcmp's), the shorter first on a common prefix.
                    scan(rows, isNaN: { _ in false }) { x, y in
                        let xs = offsets[x]
                        let xn = offsets[x + 1] - xs
                        let ys = offsets[y]
                        let yn = offsets[y + 1] - ys
                        let n = min(xn, yn)
                        let c = n == 0 ? 0 : memcmp(bytes.baseAddress! + xs, bytes.baseAddress! + ys, n)
                        return c < 0 || (c == 0 && xn < yn)
                    }
                }
            }
        }
    }

    @inline(__always)
    private mutating func scan(_ rows: Range<Int>, isNaN: (Int) -> Bool, less: (Int, Int) -> Bool) {
        for r in rows {
            if column.isNull(r) {
                nulls += 1
                continue
            }
            if isNaN(r) { continue }
            if let m = minRow { if less(r, m) { minRow = r } } else { minRow = r }
            if let m = maxRow { if less(m, r) { maxRow = r } } else { maxRow = r }
        }
    }

    mutating func merge(_ other: StatsAccumulator) {
        nulls += other.nulls
        if let o = other.minRow { if let m = minRow { if less(o, m) { minRow = o } } else { minRow = o } }
        if let o = other.maxRow { if let m = maxRow { if less(m, o) { maxRow = o } } else { maxRow = o } }
    }

    func encoded(_ r: Int, isMin: Bool) -> [UInt8] {
        switch column.values {
        case .boolean(let v): return [v[r] ? 1 : 0]
        case .int32(let v): return withUnsafeBytes(of: v[r].littleEndian) { Array($0) }
        case .int64(let v): return withUnsafeBytes(of: v[r].littleEndian) { Array($0) }
        case .float(let v):
            // Zero bounds are written as -0.0 (min) and +0.0 (max), as the format asks.
            let x: Float = v[r] == 0 ? (isMin ? -0.0 : 0.0) : v[r]
            return withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) }
        case .double(let v):
            let x: Double = v[r] == 0 ? (isMin ? -0.0 : 0.0) : v[r]
            return withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) }
        case .byteArrays(let v): return Array(v[r])
        }
    }

    func statistics(maxLength: Int) -> Statistics {
        var s = Statistics()
        s.nullCount = Int64(nulls)
        if let minRow, let maxRow {
            let lo = encoded(minRow, isMin: true)
            let hi = encoded(maxRow, isMin: false)
            if lo.count <= maxLength && hi.count <= maxLength {
                s.minValue = lo
                s.maxValue = hi
            }
        }
        return s
    }
}
