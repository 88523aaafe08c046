import Foundation
import Testing

@testable import Parquet

/// The encodings, the Thrift layer and the reader's behaviour on damaged files, without Python.
struct FormatTests {
    @Test(arguments: [0, 1, 2, 3, 5, 8, 13, 20, 32])
    func hybridRoundTrip(width: Int) throws {
        var values: [UInt32] = []
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let mask: UInt64 = width == 32 ? 0xFFFF_FFFF : (1 << UInt64(width)) - 1
        for i in 0..<5000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // Runs and noise, so both RLE runs and bit-packed groups appear.
            values.append(i % 300 < 100 ? UInt32(7 & mask) : UInt32((state >> 33) & mask))
        }
        var encoder = HybridEncoder(width: width)
        for v in values { encoder.append(v) }
        let bytes = encoder.finish()
        var cursor = ByteCursor(bytes)
        #expect(try decodeHybrid(&cursor, width: width, count: values.count) == values)
    }

    /// A bit-packed run whose header claims 2^62 groups, with one group present (found by
    /// `scripts/fuzz parquet`: skipping the rest of the run multiplied the claim by the width and
    /// overflowed). The values present decode; the claim moves the cursor to the end.
    @Test func aBitPackedRunClaimingAnyNumberOfGroupsDecodesWhatIsThere() throws {
        let header: [UInt8] = [0x81] + [UInt8](repeating: 0x80, count: 8) + [0x01]  // ULEB128 of 2^63 + 1
        var cursor = ByteCursor(header + [0x88, 0xC6, 0xFA])  // 0 to 7, three bits each
        #expect(try decodeHybrid(&cursor, width: 3, count: 8) == [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(cursor.remaining == 0)
    }

    @Test func thriftSkipsUnknownFieldsAndRejectsTruncation() throws {
        var w = ThriftWriter()
        w.structValue { w in
            w.i32(1, 3)
            w.i32(2, 100)
            w.i32(3, 90)
            w.structField(20) { w in  // unknown to the reader: skipped
                w.string(1, "x")
                w.bool(2, true)
            }
            w.structField(5) { w in
                w.i32(1, 7)
                w.i32(2, 0)
            }
        }
        var r = ThriftReader(w.bytes)
        let h = try r.readPageHeader()
        #expect(h.type == 3 && h.uncompressedPageSize == 100 && h.compressedPageSize == 90)
        #expect(h.dataPage?.numValues == 7)
        for n in 0..<w.bytes.count {
            var t = ThriftReader(Array(w.bytes[..<n]))
            #expect(throws: ParquetError.self) { try t.readPageHeader() }
        }
    }

    @Test func decimalText() {
        #expect(Parquet.decimalText(-1230, scale: 2) == "-12.30")
        #expect(Parquet.decimalText(5, scale: 3) == "0.005")
        #expect(Parquet.decimalText(0, scale: 2) == "0.00")
        #expect(Parquet.decimalText(12, scale: 0) == "12")
        #expect(Parquet.decimalText(bigEndian: [0xFF, 0x85], scale: 1) == "-12.3")
        // 2^64 as 9 bytes: beyond Int64.
        #expect(Parquet.decimalText(bigEndian: [0x01, 0, 0, 0, 0, 0, 0, 0, 0], scale: 2) == "184467440737095516.16")
    }

    static func smallFile(_ compression: ParquetCompression) throws -> [UInt8] {
        var writer = try ParquetWriter(
            schema: [ParquetField(name: "id", kind: .int64, nullable: false), ParquetField(name: "s", kind: .string)],
            sink: ParquetByteSink(), configuration: .init(compression: compression))
        try writer.writeRowGroup([
            ParquetColumn(values: .int64(Array(0..<200))),
            ParquetColumn(
                values: .byteArrays(ByteArrays((0..<200).map { $0 % 3 == 0 ? "" : "v\($0 % 10)" })),
                validity: (0..<200).map { $0 % 3 != 0 }),
        ])
        return try writer.close().bytes
    }

    /// Every truncation and many byte flips of a valid file end in a value or a ParquetError.
    @Test(arguments: [ParquetCompression.none, .zstd, .snappy, .gzip])
    func damagedFilesFailCleanly(compression: ParquetCompression) async throws {
        let bytes = try Self.smallFile(compression)
        var limits = ParquetReaderLimits()
        limits.maxRowsPerRowGroup = 1 << 16
        #expect(try ParquetReader<ParquetMemorySource>.decodeAll(bytes, limits: limits).first?.first?.count == 200)
        var errors = 0
        for n in stride(from: 0, to: bytes.count, by: 7) {
            do { _ = try ParquetReader<ParquetMemorySource>.decodeAll(Array(bytes[..<n]), limits: limits) } catch {
                errors += 1
            }
        }
        #expect(errors == (bytes.count + 6) / 7)
        var state: UInt64 = 42
        for _ in 0..<2000 {
            var damaged = bytes
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let at = Int(state >> 33) % damaged.count
            damaged[at] ^= UInt8(truncatingIfNeeded: state >> 13) | 1
            _ = try? ParquetReader<ParquetMemorySource>.decodeAll(damaged, limits: limits)
        }
        // The async reader reports a truncated file with its offset.
        do {
            _ = try await ParquetReader.open(ParquetMemorySource(Array(bytes.dropLast(3))))
            Issue.record("truncated file opened")
        } catch let e as ParquetError {
            #expect(e.code == .corrupt)
        }
    }

    @Test func unsupportedFeaturesNameTheColumn() throws {
        // A schema with a group (nested) column.
        var root = SchemaElement()
        root.name = "schema"
        root.numChildren = 2
        var a = SchemaElement()
        a.name = "a"
        a.type = .int64
        a.repetition = .optional
        var g = SchemaElement()
        g.name = "address"
        g.numChildren = 1
        var leaf = SchemaElement()
        leaf.name = "city"
        leaf.type = .byteArray
        leaf.repetition = .optional
        do {
            _ = try ParquetFooter.flatSchema([root, a, g, leaf])
            Issue.record("nested schema accepted")
        } catch {
            #expect(error.code == .unsupported && error.column == "address")
            #expect("\(error)".contains("nested schema"))
        }
    }

    @Test func writerRejectsNullsInRequiredColumns() throws {
        var writer = try ParquetWriter(
            schema: [ParquetField(name: "id", kind: .int64, nullable: false)], sink: ParquetByteSink())
        #expect(throws: ParquetError.self) {
            try writer.writeRowGroup([ParquetColumn(values: .int64([1, 2]), validity: [true, false])])
        }
    }
}
