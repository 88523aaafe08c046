// The footer and page-header structures of parquet.thrift that this module reads and writes.
// Field numbers follow parquet-format's parquet.thrift; unknown fields are skipped.

enum PhysicalType: Int32 {
    case boolean = 0
    case int32 = 1
    case int64 = 2
    case int96 = 3
    case float = 4
    case double = 5
    case byteArray = 6
    case fixedLenByteArray = 7
}

enum Encoding: Int32 {
    case plain = 0
    case plainDictionary = 2
    case rle = 3
    case bitPacked = 4
    case deltaBinaryPacked = 5
    case deltaLengthByteArray = 6
    case deltaByteArray = 7
    case rleDictionary = 8
    case byteStreamSplit = 9
}

enum CompressionCodec: Int32 {
    case uncompressed = 0
    case snappy = 1
    case gzip = 2
    case lzo = 3
    case brotli = 4
    case lz4 = 5
    case zstd = 6
    case lz4Raw = 7
}

enum PageType: Int32 {
    case dataPage = 0
    case indexPage = 1
    case dictionaryPage = 2
    case dataPageV2 = 3
}

enum Repetition: Int32 {
    case required = 0
    case optional = 1
    case repeated = 2
}

enum ConvertedType: Int32 {
    case utf8 = 0
    case map = 1
    case mapKeyValue = 2
    case list = 3
    case enumeration = 4
    case decimal = 5
    case date = 6
    case timeMillis = 7
    case timeMicros = 8
    case timestampMillis = 9
    case timestampMicros = 10
    case uint8 = 11
    case uint16 = 12
    case uint32 = 13
    case uint64 = 14
    case int8 = 15
    case int16 = 16
    case int32 = 17
    case int64 = 18
    case json = 19
    case bson = 20
    case interval = 21
}

/// The LogicalType union; `other` keeps the field id of members this module does not interpret.
enum LogicalType: Equatable {
    case string, map, list, enumeration, date, json, bson, uuid, float16, unknown
    case decimal(scale: Int32, precision: Int32)
    case time(utc: Bool, unit: ColumnKind.TimeUnit)
    case timestamp(utc: Bool, unit: ColumnKind.TimeUnit)
    case integer(bitWidth: Int8, signed: Bool)
    case other(Int16)
}

struct Statistics: Equatable {
    var max: [UInt8]?
    var min: [UInt8]?
    var nullCount: Int64?
    var distinctCount: Int64?
    var maxValue: [UInt8]?
    var minValue: [UInt8]?
}

struct SchemaElement {
    var type: PhysicalType?
    var typeLength: Int32?
    var repetition: Repetition?
    var name: String = ""
    var numChildren: Int32?
    var convertedType: ConvertedType?
    var scale: Int32?
    var precision: Int32?
    var logicalType: LogicalType?
}

struct ColumnMetaData {
    var type: PhysicalType = .boolean
    var encodings: [Int32] = []
    var pathInSchema: [String] = []
    var codec: Int32 = 0
    var numValues: Int64 = 0
    var totalUncompressedSize: Int64 = 0
    var totalCompressedSize: Int64 = 0
    var dataPageOffset: Int64 = 0
    var dictionaryPageOffset: Int64?
    var statistics: Statistics?
}

struct ColumnChunk {
    var filePath: String?
    var fileOffset: Int64 = 0
    var metaData: ColumnMetaData?
    var encrypted = false
}

struct RowGroup {
    var columns: [ColumnChunk] = []
    var totalByteSize: Int64 = 0
    var numRows: Int64 = 0
    var fileOffset: Int64?
    var totalCompressedSize: Int64?
}

struct FileMetaData {
    var version: Int32 = 2
    var schema: [SchemaElement] = []
    var numRows: Int64 = 0
    var rowGroups: [RowGroup] = []
    var createdBy: String?
    var encrypted = false
}

struct DataPageHeader {
    var numValues: Int32 = 0
    var encoding: Int32 = 0
    var definitionLevelEncoding: Int32 = 3
    var repetitionLevelEncoding: Int32 = 3
    var statistics: Statistics?
}

struct DataPageHeaderV2 {
    var numValues: Int32 = 0
    var numNulls: Int32 = 0
    var numRows: Int32 = 0
    var encoding: Int32 = 0
    var definitionLevelsByteLength: Int32 = 0
    var repetitionLevelsByteLength: Int32 = 0
    var isCompressed = true
    var statistics: Statistics?
}

struct DictionaryPageHeader {
    var numValues: Int32 = 0
    var encoding: Int32 = 0
}

struct PageHeader {
    var type: Int32 = 0
    var uncompressedPageSize: Int32 = 0
    var compressedPageSize: Int32 = 0
    var dataPage: DataPageHeader?
    var dictionaryPage: DictionaryPageHeader?
    var dataPageV2: DataPageHeaderV2?
}

// MARK: - Decoding

extension ThriftReader {
    mutating func readStatistics() throws(ParquetError) -> Statistics {
        var s = Statistics()
        try readStruct { r, id, t throws(ParquetError) in
            switch (id, t) {
            case (1, .binary): s.max = try r.readBinary()
            case (2, .binary): s.min = try r.readBinary()
            case (3, .i64): s.nullCount = try r.readI64()
            case (4, .i64): s.distinctCount = try r.readI64()
            case (5, .binary): s.maxValue = try r.readBinary()
            case (6, .binary): s.minValue = try r.readBinary()
            default: return false
            }
            return true
        }
        return s
    }

    mutating func readTimeUnit() throws(ParquetError) -> ColumnKind.TimeUnit {
        var unit: ColumnKind.TimeUnit?
        try readStruct { r, id, t throws(ParquetError) in
            switch id {
            case 1: unit = .millis
            case 2: unit = .micros
            case 3: unit = .nanos
            default: return false
            }
            try r.skip(t)
            return true
        }
        guard let unit else { throw corrupt("time unit without a unit") }
        return unit
    }

    mutating func readLogicalType() throws(ParquetError) -> LogicalType {
        var result: LogicalType = .unknown
        try readStruct { r, id, t throws(ParquetError) in
            guard t == .structure else { return false }
            switch id {
            case 1: result = .string
            case 2: result = .map
            case 3: result = .list
            case 4: result = .enumeration
            case 6: result = .date
            case 11: result = .unknown
            case 12: result = .json
            case 13: result = .bson
            case 14: result = .uuid
            case 15: result = .float16
            case 5:
                var scale: Int32 = 0
                var precision: Int32 = 0
                try r.readStruct { r, id, t throws(ParquetError) in
                    switch (id, t) {
                    case (1, .i32): scale = try r.readI32()
                    case (2, .i32): precision = try r.readI32()
                    default: return false
                    }
                    return true
                }
                result = .decimal(scale: scale, precision: precision)
                return true
            case 7, 8:
                var utc = false
                var unit: ColumnKind.TimeUnit = .millis
                try r.readStruct { r, fid, ft throws(ParquetError) in
                    switch (fid, ft) {
                    case (1, .boolTrue), (1, .boolFalse): utc = try r.readBool(ft)
                    case (2, .structure): unit = try r.readTimeUnit()
                    default: return false
                    }
                    return true
                }
                result = id == 7 ? .time(utc: utc, unit: unit) : .timestamp(utc: utc, unit: unit)
                return true
            case 10:
                var width: Int8 = 0
                var signed = true
                try r.readStruct { r, fid, ft throws(ParquetError) in
                    switch (fid, ft) {
                    case (1, .byte): width = Int8(bitPattern: try r.readByte())
                    case (2, .boolTrue), (2, .boolFalse): signed = try r.readBool(ft)
                    default: return false
                    }
                    return true
                }
                result = .integer(bitWidth: width, signed: signed)
                return true
            default: result = .other(id)
            }
            try r.skip(t)
            return true
        }
        return result
    }

    mutating func readSchemaElement() throws(ParquetError) -> SchemaElement {
        var e = SchemaElement()
        try readStruct { r, id, t throws(ParquetError) in
            switch (id, t) {
            case (1, .i32):
                let v = try r.readI32()
                guard let type = PhysicalType(rawValue: v) else { throw r.corrupt("unknown physical type \(v)") }
                e.type = type
            case (2, .i32): e.typeLength = try r.readI32()
            case (3, .i32):
                let v = try r.readI32()
                guard let rep = Repetition(rawValue: v) else { throw r.corrupt("unknown repetition \(v)") }
                e.repetition = rep
            case (4, .binary): e.name = try r.readString()
            case (5, .i32): e.numChildren = try r.readI32()
            case (6, .i32): e.convertedType = ConvertedType(rawValue: try r.readI32())
            case (7, .i32): e.scale = try r.readI32()
            case (8, .i32): e.precision = try r.readI32()
            case (10, .structure): e.logicalType = try r.readLogicalType()
            default: return false
            }
            return true
        }
        return e
    }

    mutating func readColumnMetaData() throws(ParquetError) -> ColumnMetaData {
        var m = ColumnMetaData()
        var sawType = false
        try readStruct { r, id, t throws(ParquetError) in
            switch (id, t) {
            case (1, .i32):
                let v = try r.readI32()
                guard let type = PhysicalType(rawValue: v) else { throw r.corrupt("unknown physical type \(v)") }
                m.type = type
                sawType = true
            case (2, .list): m.encodings = try r.readList { r throws(ParquetError) in try r.readI32() }
            case (3, .list): m.pathInSchema = try r.readList { r throws(ParquetError) in try r.readString() }
            case (4, .i32): m.codec = try r.readI32()
            case (5, .i64): m.numValues = try r.readI64()
            case (6, .i64): m.totalUncompressedSize = try r.readI64()
            case (7, .i64): m.totalCompressedSize = try r.readI64()
            case (9, .i64): m.dataPageOffset = try r.readI64()
            case (11, .i64): m.dictionaryPageOffset = try r.readI64()
            case (12, .structure): m.statistics = try r.readStatistics()
            default: return false
            }
            return true
        }
        guard sawType else { throw corrupt("column metadata without a type") }
        return m
    }

    mutating func readColumnChunk() throws(ParquetError) -> ColumnChunk {
        var c = ColumnChunk()
        try readStruct { r, id, t throws(ParquetError) in
            switch (id, t) {
            case (1, .binary): c.filePath = try r.readString()
            case (2, .i64): c.fileOffset = try r.readI64()
            case (3, .structure): c.metaData = try r.readColumnMetaData()
            case (8, _), (9, _):
                c.encrypted = true
                return false
            default: return false
            }
            return true
        }
        return c
    }

    mutating func readRowGroup() throws(ParquetError) -> RowGroup {
        var g = RowGroup()
        try readStruct { r, id, t throws(ParquetError) in
            switch (id, t) {
            case (1, .list): g.columns = try r.readList { r throws(ParquetError) in try r.readColumnChunk() }
            case (2, .i64): g.totalByteSize = try r.readI64()
            case (3, .i64): g.numRows = try r.readI64()
            default: return false
            }
            return true
        }
        return g
    }

    mutating func readFileMetaData() throws(ParquetError) -> FileMetaData {
        var f = FileMetaData()
        try readStruct { r, id, t throws(ParquetError) in
            switch (id, t) {
            case (1, .i32): f.version = try r.readI32()
            case (2, .list): f.schema = try r.readList { r throws(ParquetError) in try r.readSchemaElement() }
            case (3, .i64): f.numRows = try r.readI64()
            case (4, .list): f.rowGroups = try r.readList { r throws(ParquetError) in try r.readRowGroup() }
            case (6, .binary): f.createdBy = try r.readString()
            case (8, _):
                f.encrypted = true
                return false
            default: return false
            }
            return true
        }
        return f
    }

    mutating func readPageHeader() throws(ParquetError) -> PageHeader {
        var h = PageHeader()
        try readStruct { r, id, t throws(ParquetError) in
            switch (id, t) {
            case (1, .i32): h.type = try r.readI32()
            case (2, .i32): h.uncompressedPageSize = try r.readI32()
            case (3, .i32): h.compressedPageSize = try r.readI32()
            case (5, .structure):
                var d = DataPageHeader()
                try r.readStruct { r, id, t throws(ParquetError) in
                    switch (id, t) {
                    case (1, .i32): d.numValues = try r.readI32()
                    case (2, .i32): d.encoding = try r.readI32()
                    case (3, .i32): d.definitionLevelEncoding = try r.readI32()
                    case (4, .i32): d.repetitionLevelEncoding = try r.readI32()
                    default: return false
                    }
                    return true
                }
                h.dataPage = d
            case (7, .structure):
                var d = DictionaryPageHeader()
                try r.readStruct { r, id, t throws(ParquetError) in
                    switch (id, t) {
                    case (1, .i32): d.numValues = try r.readI32()
                    case (2, .i32): d.encoding = try r.readI32()
                    default: return false
                    }
                    return true
                }
                h.dictionaryPage = d
            case (8, .structure):
                var d = DataPageHeaderV2()
                try r.readStruct { r, id, t throws(ParquetError) in
                    switch (id, t) {
                    case (1, .i32): d.numValues = try r.readI32()
                    case (2, .i32): d.numNulls = try r.readI32()
                    case (3, .i32): d.numRows = try r.readI32()
                    case (4, .i32): d.encoding = try r.readI32()
                    case (5, .i32): d.definitionLevelsByteLength = try r.readI32()
                    case (6, .i32): d.repetitionLevelsByteLength = try r.readI32()
                    case (7, .boolTrue), (7, .boolFalse): d.isCompressed = try r.readBool(t)
                    default: return false
                    }
                    return true
                }
                h.dataPageV2 = d
            default: return false
            }
            return true
        }
        return h
    }
}

// MARK: - Encoding

extension ThriftWriter {
    mutating func writeStatistics(_ id: Int16, _ s: Statistics) {
        structField(id) { w in
            if let v = s.max { w.binary(1, v) }
            if let v = s.min { w.binary(2, v) }
            if let v = s.nullCount { w.i64(3, v) }
            if let v = s.distinctCount { w.i64(4, v) }
            if let v = s.maxValue { w.binary(5, v) }
            if let v = s.minValue { w.binary(6, v) }
        }
    }

    mutating func writeLogicalType(_ id: Int16, _ t: LogicalType) {
        structField(id) { w in
            switch t {
            case .string: w.structField(1) { _ in }
            case .json: w.structField(12) { _ in }
            case .date: w.structField(6) { _ in }
            case .timestamp(let utc, let unit):
                w.structField(8) { w in
                    w.bool(1, utc)
                    w.structField(2) { w in
                        switch unit {
                        case .millis: w.structField(1) { _ in }
                        case .micros: w.structField(2) { _ in }
                        case .nanos: w.structField(3) { _ in }
                        }
                    }
                }
            default: break  // the writer produces only the members above
            }
        }
    }

    mutating func writeSchemaElement(_ e: SchemaElement) {
        if let t = e.type { i32(1, t.rawValue) }
        if let l = e.typeLength { i32(2, l) }
        if let r = e.repetition { i32(3, r.rawValue) }
        string(4, e.name)
        if let n = e.numChildren { i32(5, n) }
        if let c = e.convertedType { i32(6, c.rawValue) }
        if let l = e.logicalType { writeLogicalType(10, l) }
    }

    mutating func writeColumnMetaData(_ m: ColumnMetaData) {
        i32(1, m.type.rawValue)
        fieldHeader(2, .list)
        listHeader(m.encodings.count, .i32)
        for e in m.encodings { writeZigzag(Int64(e)) }
        fieldHeader(3, .list)
        listHeader(m.pathInSchema.count, .binary)
        for p in m.pathInSchema { writeBinaryValue(Array(p.utf8)) }
        i32(4, m.codec)
        i64(5, m.numValues)
        i64(6, m.totalUncompressedSize)
        i64(7, m.totalCompressedSize)
        i64(9, m.dataPageOffset)
        if let d = m.dictionaryPageOffset { i64(11, d) }
        if let s = m.statistics { writeStatistics(12, s) }
    }

    mutating func writeFileMetaData(_ f: FileMetaData) {
        i32(1, f.version)
        structList(2, f.schema) { w, e in w.writeSchemaElement(e) }
        i64(3, f.numRows)
        structList(4, f.rowGroups) { w, g in
            w.structList(1, g.columns) { w, c in
                w.i64(2, c.fileOffset)
                if let m = c.metaData { w.structField(3) { w in w.writeColumnMetaData(m) } }
            }
            w.i64(2, g.totalByteSize)
            w.i64(3, g.numRows)
            if let o = g.fileOffset { w.i64(5, o) }
            if let c = g.totalCompressedSize { w.i64(6, c) }
        }
        if let c = f.createdBy { string(6, c) }
        // column_orders: TYPE_DEFINED_ORDER for every leaf, so readers trust min_value/max_value.
        let leaves = f.schema.count - 1
        structList(7, Array(repeating: 0, count: max(leaves, 0))) { w, _ in w.structField(1) { _ in } }
    }

    mutating func writePageHeader(_ h: PageHeader) {
        i32(1, h.type)
        i32(2, h.uncompressedPageSize)
        i32(3, h.compressedPageSize)
        if let d = h.dataPage {
            structField(5) { w in
                w.i32(1, d.numValues)
                w.i32(2, d.encoding)
                w.i32(3, d.definitionLevelEncoding)
                w.i32(4, d.repetitionLevelEncoding)
                if let s = d.statistics { w.writeStatistics(5, s) }
            }
        }
        if let d = h.dictionaryPage {
            structField(7) { w in
                w.i32(1, d.numValues)
                w.i32(2, d.encoding)
            }
        }
    }
}
