// The Thrift compact protocol, as much of it as the Parquet footer and page headers use.
// Decoding is bounds-checked against the buffer and depth-limited, so untrusted bytes can only
// produce a `ParquetError`, never a trap, an unbounded allocation or deep recursion.

enum CompactType: UInt8 {
    case stop = 0
    case boolTrue = 1
    case boolFalse = 2
    case byte = 3
    case i16 = 4
    case i32 = 5
    case i64 = 6
    case double = 7
    case binary = 8
    case list = 9
    case set = 10
    case map = 11
    case structure = 12
}

struct ThriftReader {
    let bytes: [UInt8]
    var position: Int
    let end: Int
    /// The position of the buffer's first byte in the file, for error messages.
    let fileOffset: Int64
    private var lastFieldIDs: [Int16] = []
    private var lastFieldID: Int16 = 0
    /// A pending boolean value carried in a field header.
    private var pendingBool: Bool?

    init(_ bytes: [UInt8], start: Int = 0, end: Int? = nil, fileOffset: Int64 = 0) {
        self.bytes = bytes
        self.position = start
        self.end = min(end ?? bytes.count, bytes.count)
        self.fileOffset = fileOffset
    }

    func corrupt(_ what: String) -> ParquetError {
        .corrupt("\(what) at offset \(fileOffset + Int64(position))")
    }

    mutating func readByte() throws(ParquetError) -> UInt8 {
        guard position < end else { throw corrupt("truncated Thrift data") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func readVarint() throws(ParquetError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try readByte()
            if shift >= 64 { throw corrupt("varint too long") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func readI64() throws(ParquetError) -> Int64 {
        let v = try readVarint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    mutating func readI32() throws(ParquetError) -> Int32 {
        let v = try readI64()
        guard let r = Int32(exactly: v) else { throw corrupt("i32 out of range") }
        return r
    }

    mutating func readBinary() throws(ParquetError) -> [UInt8] {
        let n = try readVarint()
        guard n <= UInt64(end - position) else { throw corrupt("Thrift binary longer than its buffer") }
        let count = Int(n)
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    mutating func readString() throws(ParquetError) -> String {
        String(decoding: try readBinary(), as: UTF8.self)
    }

    mutating func readBool(_ type: CompactType) throws(ParquetError) -> Bool {
        if let b = pendingBool {
            pendingBool = nil
            return b
        }
        switch type {
        case .boolTrue: return true
        case .boolFalse: return false
        default: return try readByte() == 1
        }
    }

    mutating func beginStruct() throws(ParquetError) {
        guard lastFieldIDs.count < 32 else { throw corrupt("Thrift structures nested too deeply") }
        lastFieldIDs.append(lastFieldID)
        lastFieldID = 0
    }

    mutating func endStruct() {
        lastFieldID = lastFieldIDs.popLast() ?? 0
    }

    /// The next field's id and type, or nil at the struct's end.
    mutating func readFieldHeader() throws(ParquetError) -> (id: Int16, type: CompactType)? {
        let b = try readByte()
        if b == 0 { return nil }
        guard let type = CompactType(rawValue: b & 0x0F) else { throw corrupt("unknown Thrift type \(b & 0x0F)") }
        let delta = Int16(b >> 4)
        if delta == 0 {
            let id = try readI64()
            guard let id16 = Int16(exactly: id) else { throw corrupt("field id out of range") }
            lastFieldID = id16
        } else {
            lastFieldID &+= delta
        }
        if type == .boolTrue { pendingBool = true } else if type == .boolFalse { pendingBool = false }
        return (lastFieldID, type)
    }

    mutating func readListHeader() throws(ParquetError) -> (count: Int, type: CompactType) {
        let b = try readByte()
        guard let type = CompactType(rawValue: b & 0x0F) else { throw corrupt("unknown Thrift list element type") }
        var count = UInt64(b >> 4)
        if count == 15 { count = try readVarint() }
        // Every element takes at least one byte (bools in lists do too), so this bounds allocations.
        guard count <= UInt64(end - position) else { throw corrupt("Thrift list longer than its buffer") }
        return (Int(count), type)
    }

    /// Reads and discards a value of `type`.
    mutating func skip(_ type: CompactType, depth: Int = 0) throws(ParquetError) {
        guard depth < 32 else { throw corrupt("Thrift values nested too deeply") }
        switch type {
        case .stop: throw corrupt("unexpected Thrift stop")
        case .boolTrue, .boolFalse: _ = try readBool(type)
        case .byte: _ = try readByte()
        case .i16, .i32, .i64: _ = try readVarint()
        case .double:
            guard end - position >= 8 else { throw corrupt("truncated double") }
            position += 8
        case .binary: _ = try readBinary()
        case .list, .set:
            let (count, elementType) = try readListHeader()
            for _ in 0..<count {
                if elementType == .boolTrue || elementType == .boolFalse {
                    _ = try readByte()
                } else {
                    try skip(elementType, depth: depth + 1)
                }
            }
        case .map:
            let n = try readVarint()
            guard n <= UInt64(end - position) else { throw corrupt("Thrift map longer than its buffer") }
            if n > 0 {
                let types = try readByte()
                guard let k = CompactType(rawValue: types >> 4), let v = CompactType(rawValue: types & 0x0F) else {
                    throw corrupt("unknown Thrift map types")
                }
                for _ in 0..<n {
                    try skipElement(k, depth: depth + 1)
                    try skipElement(v, depth: depth + 1)
                }
            }
        case .structure:
            try beginStruct()
            while let (_, t) = try readFieldHeader() { try skip(t, depth: depth + 1) }
            endStruct()
        }
    }

    private mutating func skipElement(_ type: CompactType, depth: Int) throws(ParquetError) {
        if type == .boolTrue || type == .boolFalse { _ = try readByte() } else { try skip(type, depth: depth) }
    }

    /// Reads a struct, handing each field to `field`, which returns false for fields it skips.
    mutating func readStruct(_ field: (inout ThriftReader, Int16, CompactType) throws(ParquetError) -> Bool)
        throws(ParquetError)
    {
        try beginStruct()
        while let (id, type) = try readFieldHeader() {
            if try !field(&self, id, type) { try skip(type) }
        }
        endStruct()
    }

    mutating func readList<T>(_ element: (inout ThriftReader) throws(ParquetError) -> T) throws(ParquetError) -> [T] {
        let (count, _) = try readListHeader()
        var out: [T] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(try element(&self)) }
        return out
    }
}

struct ThriftWriter {
    var bytes: [UInt8] = []
    private var lastFieldIDs: [Int16] = []
    private var lastFieldID: Int16 = 0

    mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func writeZigzag(_ v: Int64) { writeVarint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    mutating func fieldHeader(_ id: Int16, _ type: CompactType) {
        let delta = id - lastFieldID
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            writeZigzag(Int64(id))
        }
        lastFieldID = id
    }

    mutating func i32(_ id: Int16, _ v: Int32) {
        fieldHeader(id, .i32)
        writeZigzag(Int64(v))
    }
    mutating func i64(_ id: Int16, _ v: Int64) {
        fieldHeader(id, .i64)
        writeZigzag(v)
    }
    mutating func bool(_ id: Int16, _ v: Bool) { fieldHeader(id, v ? .boolTrue : .boolFalse) }
    mutating func binary(_ id: Int16, _ v: [UInt8]) {
        fieldHeader(id, .binary)
        writeBinaryValue(v)
    }
    mutating func string(_ id: Int16, _ v: String) { binary(id, Array(v.utf8)) }

    mutating func writeBinaryValue(_ v: [UInt8]) {
        writeVarint(UInt64(v.count))
        bytes.append(contentsOf: v)
    }

    mutating func listHeader(_ count: Int, _ type: CompactType) {
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type.rawValue)
        } else {
            bytes.append(0xF0 | type.rawValue)
            writeVarint(UInt64(count))
        }
    }

    /// A struct field: `body` writes the inner fields.
    mutating func structField(_ id: Int16, _ body: (inout ThriftWriter) -> Void) {
        fieldHeader(id, .structure)
        structValue(body)
    }

    mutating func structValue(_ body: (inout ThriftWriter) -> Void) {
        lastFieldIDs.append(lastFieldID)
        lastFieldID = 0
        body(&self)
        bytes.append(0)
        lastFieldID = lastFieldIDs.popLast() ?? 0
    }

    mutating func structList<T>(_ id: Int16, _ items: [T], _ body: (inout ThriftWriter, T) -> Void) {
        fieldHeader(id, .list)
        listHeader(items.count, .structure)
        for item in items { structValue { body(&$0, item) } }
    }
}
