// Decoding a column chunk's pages into a column: synchronous and over bytes already read, so the
// fuzz target and any source (local file, S3 ranged GET) share it.

/// Physical values as a page holds them (INT96 already converted to nanoseconds).
enum PhysicalValues {
    case boolean([Bool])
    case int32([Int32])
    case int64([Int64])
    case float([Float])
    case double([Double])
    case bytes(ByteArrays)

    var count: Int {
        switch self {
        case .boolean(let v): v.count
        case .int32(let v): v.count
        case .int64(let v): v.count
        case .float(let v): v.count
        case .double(let v): v.count
        case .bytes(let v): v.count
        }
    }
}

/// A flat leaf column as the footer describes it.
struct LeafColumn: Sendable {
    var field: ParquetField
    var physical: PhysicalType
    var typeLength: Int
    var maxDefinitionLevel: Int
    var unsigned32 = false
    var float16 = false
}

/// Limits that keep a hostile file from making the reader allocate without bound.
public struct ParquetReaderLimits: Sendable {
    /// Rows in one row group (the values of each column chunk are held in memory). Default 64 Mi.
    public var maxRowsPerRowGroup: Int = 1 << 26
    /// Uncompressed bytes of one page. Default 512 MiB.
    public var maxPageSize: Int = 512 << 20

    public init() {}
}

enum PageDecoder {
    static func decodePlain(_ c: inout ByteCursor, count: Int, leaf: LeafColumn) throws(ParquetError) -> PhysicalValues
    {
        guard count >= 0 else { throw .corrupt("negative value count") }
        switch leaf.physical {
        case .boolean:
            let r = try c.take((count + 7) / 8)
            var out = [Bool](repeating: false, count: count)
            for i in 0..<count { out[i] = c.bytes[r.lowerBound + i >> 3] >> UInt8(i & 7) & 1 == 1 }
            return .boolean(out)
        case .int32: return .int32(try fixed(&c, count: count, as: Int32.self))
        case .int64: return .int64(try fixed(&c, count: count, as: Int64.self))
        case .float: return .float(try fixed(&c, count: count, as: Float.self))
        case .double: return .double(try fixed(&c, count: count, as: Double.self))
        case .int96:
            guard count <= c.remaining / 12 else { throw .corrupt("INT96 values exceed the page") }
            var out = [Int64](repeating: 0, count: count)
            for i in 0..<count {
                let r = try c.take(12)
                out[i] = int96Nanos(
                    c.loadLE(r.lowerBound, 8), UInt32(truncatingIfNeeded: c.loadLE(r.lowerBound + 8, 4)))
            }
            return .int64(out)
        case .byteArray:
            guard count <= c.remaining / 4 else { throw .corrupt("byte array values exceed the page") }
            var out = ByteArrays()
            out.reserveCapacity(values: count, bytes: max(0, c.remaining - 4 * count))
            for _ in 0..<count {
                let n = Int(try c.uint32LE())
                let r = try c.take(n)
                out.append(c.bytes[r])
            }
            return .bytes(out)
        case .fixedLenByteArray:
            let w = leaf.typeLength
            guard w > 0 ? count <= c.remaining / w : true else { throw .corrupt("fixed-length values exceed the page") }
            let r = try c.take(w * count)
            return .bytes(ByteArrays(bytes: Array(c.bytes[r]), offsets: (0...count).map { $0 * w }))
        }
    }

    static func fixed<T: BitwiseCopyable>(_ c: inout ByteCursor, count: Int, as: T.Type) throws(ParquetError) -> [T] {
        let w = MemoryLayout<T>.size
        guard count <= c.remaining / w else { throw .corrupt("values exceed the page") }
        let r = try c.take(count * w)
        return c.bytes.withUnsafeBytes { raw in
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                for i in 0..<count { buffer[i] = raw.loadUnaligned(fromByteOffset: r.lowerBound + i * w, as: T.self) }
                initialized = count
            }
        }
    }

    static func int96Nanos(_ nanosOfDay: UInt64, _ julianDay: UInt32) -> Int64 {
        (Int64(julianDay) &- 2_440_588) &* 86_400_000_000_000 &+ Int64(bitPattern: nanosOfDay)
    }

    static func fromBytes(_ bytes: [UInt8], width: Int, count: Int, leaf: LeafColumn) -> PhysicalValues {
        func load<T: BitwiseCopyable>(_: T.Type) -> [T] {
            bytes.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * width, as: T.self) }
            }
        }
        switch leaf.physical {
        case .int32: return .int32(load(Int32.self))
        case .int64: return .int64(load(Int64.self))
        case .float: return .float(load(Float.self))
        case .double: return .double(load(Double.self))
        default: return .bytes(ByteArrays(bytes: bytes, offsets: (0...count).map { $0 * width }))
        }
    }

    /// Decodes `count` non-null values of a data page.
    static func decodeValues(
        _ c: inout ByteCursor, encoding raw: Int32, count: Int, leaf: LeafColumn, dictionary: PhysicalValues?,
        pageLimit: Int
    ) throws(ParquetError) -> PhysicalValues {
        guard let encoding = Encoding(rawValue: raw) else { throw .unsupported("encoding \(raw)") }
        switch encoding {
        case .plain: return try decodePlain(&c, count: count, leaf: leaf)
        case .plainDictionary, .rleDictionary:
            guard let dictionary else { throw .corrupt("dictionary-encoded page without a dictionary page") }
            if count == 0 { return try gather(dictionary, []) }
            let width = Int(try c.byte())
            let indices = try decodeHybrid(&c, width: width, count: count)
            return try gather(dictionary, indices)
        case .rle:
            guard leaf.physical == .boolean else { throw .unsupported("RLE encoding of \(leaf.physical) values") }
            let length = Int(try c.uint32LE())
            let r = try c.take(length)
            var sub = ByteCursor(c.bytes, start: r.lowerBound, end: r.upperBound)
            return .boolean(try decodeHybrid(&sub, width: 1, count: count).map { $0 == 1 })
        case .deltaBinaryPacked:
            switch leaf.physical {
            case .int32:
                return .int32(
                    try decodeDeltaBinaryPacked(&c, count: count, thirtyTwo: true).map { Int32(truncatingIfNeeded: $0) }
                )
            case .int64: return .int64(try decodeDeltaBinaryPacked(&c, count: count, thirtyTwo: false))
            default: throw .unsupported("DELTA_BINARY_PACKED encoding of \(leaf.physical) values")
            }
        case .deltaLengthByteArray:
            guard leaf.physical == .byteArray else {
                throw .unsupported("DELTA_LENGTH_BYTE_ARRAY encoding of \(leaf.physical) values")
            }
            return .bytes(try decodeDeltaLengthByteArray(&c, count: count))
        case .deltaByteArray:
            guard leaf.physical == .byteArray || leaf.physical == .fixedLenByteArray else {
                throw .unsupported("DELTA_BYTE_ARRAY encoding of \(leaf.physical) values")
            }
            return .bytes(try decodeDeltaByteArray(&c, count: count, limit: pageLimit))
        case .byteStreamSplit:
            let width: Int
            switch leaf.physical {
            case .int32, .float: width = 4
            case .int64, .double: width = 8
            case .fixedLenByteArray: width = leaf.typeLength
            default: throw .unsupported("BYTE_STREAM_SPLIT encoding of \(leaf.physical) values")
            }
            let bytes = try decodeByteStreamSplit(&c, count: count, width: width)
            return fromBytes(bytes, width: width, count: count, leaf: leaf)
        case .bitPacked: throw .unsupported("BIT_PACKED value encoding")
        }
    }

    static func gather(_ dictionary: PhysicalValues, _ indices: [UInt32]) throws(ParquetError) -> PhysicalValues {
        let n = dictionary.count
        for i in indices where Int(i) >= n { throw .corrupt("dictionary index \(i) out of range (\(n) entries)") }
        switch dictionary {
        case .boolean(let d): return .boolean(indices.map { d[Int($0)] })
        case .int32(let d): return .int32(indices.map { d[Int($0)] })
        case .int64(let d): return .int64(indices.map { d[Int($0)] })
        case .float(let d): return .float(indices.map { d[Int($0)] })
        case .double(let d): return .double(indices.map { d[Int($0)] })
        case .bytes(let d):
            var out = ByteArrays()
            var total = 0
            for i in indices { total += d.offsets[Int(i) + 1] - d.offsets[Int(i)] }
            out.reserveCapacity(values: indices.count, bytes: total)
            for i in indices { out.append(d[Int(i)]) }
            return .bytes(out)
        }
    }

    /// Decodes a column chunk (its bytes start at `fileOffset` in the file) into `rows` row slots.
    static func decodeChunk(
        _ bytes: [UInt8], fileOffset: Int64, leaf: LeafColumn, meta: ColumnMetaData, rows: Int,
        limits: ParquetReaderLimits
    ) throws(ParquetError) -> ParquetColumn {
        do {
            return try decodeChunkPages(
                bytes, fileOffset: fileOffset, leaf: leaf, meta: meta, rows: rows, limits: limits)
        } catch {
            throw error.inColumn(leaf.field.name)
        }
    }

    private static func decodeChunkPages(
        _ bytes: [UInt8], fileOffset: Int64, leaf: LeafColumn, meta: ColumnMetaData, rows: Int,
        limits: ParquetReaderLimits
    ) throws(ParquetError) -> ParquetColumn {
        guard rows >= 0, rows <= limits.maxRowsPerRowGroup else {
            throw .corrupt("row group of \(rows) rows exceeds the reader's limit")
        }
        guard meta.numValues == Int64(rows) else {
            throw .corrupt("column chunk holds \(meta.numValues) values for \(rows) rows")
        }
        var builder = ColumnBuilder(leaf: leaf, rows: rows)
        var dictionary: PhysicalValues?
        var position = 0
        while builder.rows < rows {
            guard position < bytes.count else {
                throw .corrupt(
                    "column chunk ends after \(builder.rows) of \(rows) values at offset \(fileOffset + Int64(position))"
                )
            }
            var thrift = ThriftReader(bytes, start: position, fileOffset: fileOffset)
            let header = try thrift.readPageHeader()
            let pageOffset = fileOffset + Int64(position)
            position = thrift.position
            let compressedSize = Int(header.compressedPageSize)
            let uncompressedSize = Int(header.uncompressedPageSize)
            guard compressedSize >= 0, compressedSize <= bytes.count - position else {
                throw .corrupt("page at offset \(pageOffset) is longer than its column chunk")
            }
            guard uncompressedSize >= 0, uncompressedSize <= limits.maxPageSize else {
                throw .corrupt("page at offset \(pageOffset) declares \(uncompressedSize) uncompressed bytes")
            }
            let body = bytes[position..<position + compressedSize]
            position += compressedSize
            let remainingRows = rows - builder.rows
            switch PageType(rawValue: header.type) {
            case .dictionaryPage:
                guard let d = header.dictionaryPage else {
                    throw .corrupt("dictionary page without its header at offset \(pageOffset)")
                }
                guard dictionary == nil else { throw .corrupt("second dictionary page at offset \(pageOffset)") }
                guard d.encoding == Encoding.plain.rawValue || d.encoding == Encoding.plainDictionary.rawValue else {
                    throw .unsupported("dictionary page encoding \(d.encoding)")
                }
                let data = try Codecs.decompress(body, codec: meta.codec, size: uncompressedSize)
                var c = ByteCursor(data)
                guard d.numValues >= 0 else { throw .corrupt("negative dictionary size at offset \(pageOffset)") }
                dictionary = try decodePlain(&c, count: Int(d.numValues), leaf: leaf)
            case .dataPage:
                guard let d = header.dataPage else {
                    throw .corrupt("data page without its header at offset \(pageOffset)")
                }
                let count = Int(d.numValues)
                guard count >= 0, count <= remainingRows else {
                    throw .corrupt("data page at offset \(pageOffset) holds \(count) values, \(remainingRows) remain")
                }
                let data = try Codecs.decompress(body, codec: meta.codec, size: uncompressedSize)
                var c = ByteCursor(data)
                var levels: [UInt32]?
                if leaf.maxDefinitionLevel > 0 {
                    switch Encoding(rawValue: d.definitionLevelEncoding) {
                    case .rle:
                        let length = Int(try c.uint32LE())
                        let r = try c.take(length)
                        var sub = ByteCursor(data, start: r.lowerBound, end: r.upperBound)
                        levels = try decodeHybrid(&sub, width: bitWidth(UInt64(leaf.maxDefinitionLevel)), count: count)
                    default: throw .unsupported("definition level encoding \(d.definitionLevelEncoding)")
                    }
                }
                let nonNull = levels.map { $0.count { Int($0) == leaf.maxDefinitionLevel } } ?? count
                let values = try decodeValues(
                    &c, encoding: d.encoding, count: nonNull, leaf: leaf, dictionary: dictionary,
                    pageLimit: limits.maxPageSize)
                try builder.append(values, levels: levels)
            case .dataPageV2:
                guard let d = header.dataPageV2 else {
                    throw .corrupt("data page v2 without its header at offset \(pageOffset)")
                }
                let count = Int(d.numValues)
                let repLength = Int(d.repetitionLevelsByteLength)
                let defLength = Int(d.definitionLevelsByteLength)
                guard count >= 0, count <= remainingRows, repLength >= 0, defLength >= 0,
                    repLength + defLength <= compressedSize,
                    repLength + defLength <= uncompressedSize
                else { throw .corrupt("data page v2 at offset \(pageOffset) has inconsistent sizes") }
                // A flat column's repetition levels are all zero (some writers still store them): skip them.
                let levelBytes = Array(body.dropFirst(repLength).prefix(defLength))
                var levels: [UInt32]?
                if leaf.maxDefinitionLevel > 0 {
                    var sub = ByteCursor(levelBytes)
                    levels = try decodeHybrid(&sub, width: bitWidth(UInt64(leaf.maxDefinitionLevel)), count: count)
                }
                let valueBody = body.dropFirst(repLength + defLength)
                let valueSize = uncompressedSize - repLength - defLength
                let data: [UInt8]
                if valueSize == 0 {
                    data = []
                } else if d.isCompressed {
                    data = try Codecs.decompress(valueBody, codec: meta.codec, size: valueSize)
                } else {
                    guard valueBody.count == valueSize else {
                        throw .corrupt("uncompressed page v2 at offset \(pageOffset) has the wrong size")
                    }
                    data = Array(valueBody)
                }
                var c = ByteCursor(data)
                let nonNull = levels.map { $0.count { Int($0) == leaf.maxDefinitionLevel } } ?? count
                let values = try decodeValues(
                    &c, encoding: d.encoding, count: nonNull, leaf: leaf, dictionary: dictionary,
                    pageLimit: limits.maxPageSize)
                try builder.append(values, levels: levels)
            default:
                continue  // index pages and unknown page types carry no values
            }
        }
        return try builder.finish()
    }
}

/// Collects a chunk's values into row slots, then converts them to the column's kind.
struct ColumnBuilder {
    let leaf: LeafColumn
    let capacity: Int
    var storage: PhysicalValues
    var validity: [Bool] = []
    var hasNull = false
    var rows = 0

    init(leaf: LeafColumn, rows: Int) {
        self.leaf = leaf
        self.capacity = rows
        switch leaf.physical {
        case .boolean: storage = .boolean([])
        case .int32: storage = .int32([])
        case .int64, .int96: storage = .int64([])
        case .float: storage = .float([])
        case .double: storage = .double([])
        case .byteArray, .fixedLenByteArray: storage = .bytes(ByteArrays())
        }
    }

    private static func scatter<T>(_ out: inout [T], _ values: [T], _ levels: [UInt32]?, _ maxDef: Int, _ zero: T) {
        guard let levels else {
            out.append(contentsOf: values)
            return
        }
        var next = 0
        out.reserveCapacity(out.count + levels.count)
        for l in levels {
            if Int(l) == maxDef {
                out.append(values[next])
                next += 1
            } else {
                out.append(zero)
            }
        }
    }

    mutating func append(_ values: PhysicalValues, levels: [UInt32]?) throws(ParquetError) {
        let count = levels?.count ?? values.count
        let maxDef = leaf.maxDefinitionLevel
        if let levels {
            for l in levels {
                let valid = Int(l) == maxDef
                if !valid {
                    guard Int(l) < maxDef else { throw .corrupt("definition level \(l) above the maximum \(maxDef)") }
                    hasNull = true
                }
                validity.append(valid)
            }
        } else {
            validity.append(contentsOf: repeatElement(true, count: count))
        }
        switch (storage, values) {
        case (.boolean(var o), .boolean(let v)):
            storage = .int32([])
            Self.scatter(&o, v, levels, maxDef, false)
            storage = .boolean(o)
        case (.int32(var o), .int32(let v)):
            storage = .boolean([])
            Self.scatter(&o, v, levels, maxDef, 0)
            storage = .int32(o)
        case (.int64(var o), .int64(let v)):
            storage = .boolean([])
            Self.scatter(&o, v, levels, maxDef, 0)
            storage = .int64(o)
        case (.float(var o), .float(let v)):
            storage = .boolean([])
            Self.scatter(&o, v, levels, maxDef, 0)
            storage = .float(o)
        case (.double(var o), .double(let v)):
            storage = .boolean([])
            Self.scatter(&o, v, levels, maxDef, 0)
            storage = .double(o)
        case (.bytes(var o), .bytes(let v)):
            storage = .boolean([])
            if let levels {
                var next = 0
                for l in levels {
                    if Int(l) == maxDef {
                        o.append(v[next])
                        next += 1
                    } else {
                        o.offsets.append(o.bytes.count)
                    }
                }
            } else {
                o.bytes.append(contentsOf: v.bytes)
                let base = o.offsets.last ?? 0
                for i in 1..<v.offsets.count { o.offsets.append(base + v.offsets[i]) }
            }
            storage = .bytes(o)
        default:
            throw .corrupt("page values do not match the column's type")
        }
        rows += count
    }

    func finish() throws(ParquetError) -> ParquetColumn {
        let validity = hasNull ? validity : nil
        let values: ColumnValues
        switch (leaf.field.kind.kind, storage) {
        case (.boolean, .boolean(let v)): values = .boolean(v)
        case (.int64, .int32(let v)) where leaf.unsigned32: values = .int64(v.map { Int64(UInt32(bitPattern: $0)) })
        case (.int32, .int32(let v)), (.date, .int32(let v)), (.time, .int32(let v)): values = .int32(v)
        case (.int64, .int64(let v)), (.uint64, .int64(let v)), (.timestamp, .int64(let v)), (.time, .int64(let v)):
            values = .int64(v)
        case (.float, .float(let v)): values = .float(v)
        case (.float, .bytes(let v)) where leaf.float16:
            values = .float(
                (0..<v.count).map { i in
                    let s = v[i]
                    guard s.count == 2 else { return .nan }
                    return halfToFloat(UInt16(s[s.startIndex]) | UInt16(s[s.startIndex + 1]) << 8)
                })
        case (.double, .double(let v)): values = .double(v)
        case (.string, .bytes(let v)), (.json, .bytes(let v)), (.binary, .bytes(let v)): values = .byteArrays(v)
        case (.decimal(_, let scale), .int32(let v)):
            values = .byteArrays(
                ByteArrays(
                    v.indices.map {
                        validity?[$0] == false ? "" : decimalText(Int64($0 < v.count ? v[$0] : 0), scale: scale)
                    }))
        case (.decimal(_, let scale), .int64(let v)):
            values = .byteArrays(
                ByteArrays(v.indices.map { validity?[$0] == false ? "" : decimalText(v[$0], scale: scale) }))
        case (.decimal(_, let scale), .bytes(let v)):
            values = .byteArrays(
                ByteArrays(
                    (0..<v.count).map { validity?[$0] == false ? "" : decimalText(bigEndian: v[$0], scale: scale) }))
        default:
            throw .unsupported("reading \(leaf.physical) as \(leaf.field.kind)")
        }
        return ParquetColumn(values: values, validity: validity)
    }
}

func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exponent = Int(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 31 {
        return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
    }
    return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
}

/// The decimal text of `unscaled × 10^-scale`: `decimalText(-1230, scale: 2)` is `"-12.30"`.
func decimalText(_ unscaled: Int64, scale: Int) -> String {
    let digits = String(unscaled.magnitude)
    return placePoint(digits, negative: unscaled < 0, scale: scale)
}

func decimalText(bigEndian bytes: ArraySlice<UInt8>, scale: Int) -> String {
    guard let first = bytes.first else { return placePoint("0", negative: false, scale: scale) }
    let negative = first & 0x80 != 0
    var magnitude = Array(bytes)
    if negative {
        // Two's complement: invert and add one.
        for i in magnitude.indices { magnitude[i] = ~magnitude[i] }
        var i = magnitude.count - 1
        while i >= 0 {
            let (v, overflow) = magnitude[i].addingReportingOverflow(1)
            magnitude[i] = v
            if !overflow { break }
            i -= 1
        }
    }
    var digits: [UInt8] = []
    while magnitude.contains(where: { $0 != 0 }) {
        var remainder = 0
        for i in magnitude.indices {
            let cur = remainder << 8 | Int(magnitude[i])
            magnitude[i] = UInt8(cur / 10)
            remainder = cur % 10
        }
        digits.append(UInt8(remainder) + 48)
    }
    let text = digits.isEmpty ? "0" : String(decoding: digits.reversed(), as: UTF8.self)
    return placePoint(text, negative: negative && !digits.isEmpty, scale: scale)
}

private func placePoint(_ digits: String, negative: Bool, scale: Int) -> String {
    var text: String
    if scale <= 0 {
        text = digits == "0" ? "0" : digits + String(repeating: "0", count: -scale)
    } else {
        let padded = digits.count <= scale ? String(repeating: "0", count: scale + 1 - digits.count) + digits : digits
        let cut = padded.index(padded.endIndex, offsetBy: -scale)
        text = padded[..<cut] + "." + padded[cut...]
    }
    return negative ? "-" + text : text
}
