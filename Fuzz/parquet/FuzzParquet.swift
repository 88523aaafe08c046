// libFuzzer target for the Parquet footer and page decoder (Sources/Parquet), built by scripts/fuzz
// with `swiftc -sanitize=fuzzer` together with the module's sources and its C codec modules.
//
// Untrusted bytes must end in a value or a ParquetError: no crash, no hang, no unbounded
// allocation (the limits below bound rows and page sizes, as a reader of hostile files would).
//   - An input that starts with "PAR1" is decoded as a whole file (footer, then every row group).
//   - Any other input is a column chunk: byte 0 picks the physical type, nullability and codec,
//     byte 1 the row count, the rest are page headers and pages, so mutations reach the value
//     decoders even where a footer would not parse.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParquet(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    var limits = ParquetReaderLimits()
    limits.maxRowsPerRowGroup = 1 << 16
    limits.maxPageSize = 1 << 20
    if input.starts(with: [0x50, 0x41, 0x52, 0x31]) {
        if let groups = try? ParquetReader<ParquetMemorySource>.decodeAll(input, limits: limits) {
            for g in groups {
                let rows = g.first?.count ?? 0
                for c in g { precondition(c.count == rows && (c.validity?.count ?? rows) == rows, "ragged row group") }
            }
        }
        return 0
    }
    guard input.count >= 2 else { return 0 }
    let types: [PhysicalType] = [.boolean, .int32, .int64, .int96, .float, .double, .byteArray, .fixedLenByteArray]
    let physical = types[Int(input[0] & 7)]
    let nullable = input[0] & 8 != 0
    let codecs: [CompressionCodec] = [.uncompressed, .snappy, .gzip, .zstd]
    let codec = codecs[Int(input[0] >> 4) & 3]
    let rows = Int(input[1])
    let leaf = LeafColumn(
        field: ParquetField(name: "c", kind: kindFor(physical), nullable: nullable), physical: physical,
        typeLength: physical == .fixedLenByteArray ? 3 : 0, maxDefinitionLevel: nullable ? 1 : 0)
    var meta = ColumnMetaData()
    meta.type = physical
    meta.codec = codec.rawValue
    meta.numValues = Int64(rows)
    if let column = try? PageDecoder.decodeChunk(
        Array(input[2...]), fileOffset: 0, leaf: leaf, meta: meta, rows: rows, limits: limits)
    {
        precondition(column.count == rows, "decoded \(column.count) of \(rows) rows")
    }
    return 0
}

private func kindFor(_ t: PhysicalType) -> ColumnKind {
    switch t {
    case .boolean: .boolean
    case .int32: .int32
    case .int64: .int64
    case .int96: .timestamp(.nanos, utc: false)
    case .float: .float
    case .double: .double
    case .byteArray: .string
    case .fixedLenByteArray: .binary
    }
}
