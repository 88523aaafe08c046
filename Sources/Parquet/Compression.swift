internal import CSnappy
internal import CZlib
internal import CZstd

/// The codecs the writer offers: `zstd` (the default), `snappy`, `gzip` or `none`.
public struct ParquetCompression: Sendable, Hashable, CustomStringConvertible {
    let codec: CompressionCodec
    /// zstd at level 3 (DuckDB's and pyarrow's default level).
    public static let zstd = ParquetCompression(codec: .zstd)
    public static let snappy = ParquetCompression(codec: .snappy)
    public static let gzip = ParquetCompression(codec: .gzip)
    public static let none = ParquetCompression(codec: .uncompressed)

    /// Parses `zstd`, `snappy`, `gzip`, `none` (or `uncompressed`).
    public init?(name: String) {
        switch name.lowercased() {
        case "zstd": codec = .zstd
        case "snappy": codec = .snappy
        case "gzip": codec = .gzip
        case "none", "uncompressed": codec = .uncompressed
        default: return nil
        }
    }

    init(codec: CompressionCodec) { self.codec = codec }

    public var description: String {
        switch codec {
        case .zstd: "zstd"
        case .snappy: "snappy"
        case .gzip: "gzip"
        default: "none"
        }
    }
}

enum Codecs {
    static func name(_ raw: Int32) -> String {
        switch CompressionCodec(rawValue: raw) {
        case .uncompressed: "UNCOMPRESSED"
        case .snappy: "SNAPPY"
        case .gzip: "GZIP"
        case .lzo: "LZO"
        case .brotli: "BROTLI"
        case .lz4: "LZ4"
        case .zstd: "ZSTD"
        case .lz4Raw: "LZ4_RAW"
        case nil: "codec \(raw)"
        }
    }

    static func compress(_ input: [UInt8], _ codec: CompressionCodec) throws(ParquetError) -> [UInt8] {
        switch codec {
        case .uncompressed: return input
        case .zstd:
            let bound = ZSTD_compressBound(input.count)
            var out = [UInt8](repeating: 0, count: bound)
            let n = out.withUnsafeMutableBytes { o in
                input.withUnsafeBytes { i in ZSTD_compress(o.baseAddress, bound, i.baseAddress, i.count, 3) }
            }
            guard ZSTD_isError(n) == 0 else { throw ParquetError(code: .io, message: "zstd compression failed") }
            out.removeSubrange(n...)
            return out
        case .snappy:
            var length = snappy_max_compressed_length(input.count)
            var out = [UInt8](repeating: 0, count: length)
            let status = out.withUnsafeMutableBytes { o in
                input.withUnsafeBytes { i in
                    snappy_compress(
                        i.baseAddress?.assumingMemoryBound(to: CChar.self), i.count,
                        o.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
                }
            }
            guard status == SNAPPY_OK else { throw ParquetError(code: .io, message: "snappy compression failed") }
            out.removeSubrange(length...)
            return out
        case .gzip: return try gzip(input)
        default: throw ParquetError.unsupported("writing \(name(codec.rawValue))")
        }
    }

    /// Decompresses a page to exactly `size` bytes; any other length is corruption.
    static func decompress(_ input: ArraySlice<UInt8>, codec raw: Int32, size: Int) throws(ParquetError) -> [UInt8] {
        guard let codec = CompressionCodec(rawValue: raw) else { throw .unsupported("compression \(name(raw))") }
        switch codec {
        case .uncompressed:
            guard input.count == size else {
                throw .corrupt("uncompressed page of \(input.count) bytes declares \(size)")
            }
            return Array(input)
        case .zstd:
            if size == 0 { return [] }
            var out = [UInt8](repeating: 0, count: size)
            let n = out.withUnsafeMutableBytes { o in
                input.withUnsafeBytes { i in ZSTD_decompress(o.baseAddress, size, i.baseAddress, i.count) }
            }
            guard ZSTD_isError(n) == 0, n == size else {
                throw .corrupt("zstd page does not decompress to its declared \(size) bytes")
            }
            return out
        case .snappy:
            var length = 0
            let ok = input.withUnsafeBytes { i in
                snappy_uncompressed_length(i.baseAddress?.assumingMemoryBound(to: CChar.self), i.count, &length)
            }
            guard ok == SNAPPY_OK, length == size else {
                throw .corrupt("snappy page does not decompress to its declared \(size) bytes")
            }
            if size == 0 { return [] }
            var out = [UInt8](repeating: 0, count: size)
            let status = out.withUnsafeMutableBytes { o in
                input.withUnsafeBytes { i in
                    snappy_uncompress(
                        i.baseAddress?.assumingMemoryBound(to: CChar.self), i.count,
                        o.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
                }
            }
            guard status == SNAPPY_OK, length == size else { throw .corrupt("snappy page is corrupt") }
            return out
        case .gzip: return try gunzip(input, size: size)
        default: throw .unsupported("compression \(name(raw))")
        }
    }

    private static func gzip(_ input: [UInt8]) throws(ParquetError) -> [UInt8] {
        var stream = z_stream()
        guard
            deflateInit2_(
                &stream, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
                == Z_OK
        else {
            throw ParquetError(code: .io, message: "gzip init failed")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.count))) + 32
        var out = [UInt8](repeating: 0, count: bound)
        var input = input
        let rc = input.withUnsafeMutableBytes { i in
            out.withUnsafeMutableBytes { o in
                stream.next_in = i.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(i.count)
                stream.next_out = o.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(o.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard rc == Z_STREAM_END else { throw ParquetError(code: .io, message: "gzip compression failed") }
        out.removeSubrange(Int(stream.total_out)...)
        return out
    }

    /// Inflates gzip (or zlib) data, member after member, to exactly `size` bytes.
    private static func gunzip(_ input: ArraySlice<UInt8>, size: Int) throws(ParquetError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 47, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ParquetError(code: .io, message: "gzip init failed")
        }
        defer { inflateEnd(&stream) }
        // One spare byte shows a stream that would decompress to more than `size`.
        var out = [UInt8](repeating: 0, count: size + 1)
        var input = Array(input)
        let produced: Int? = input.withUnsafeMutableBytes { i in
            out.withUnsafeMutableBytes { o in
                stream.next_in = i.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(i.count)
                stream.next_out = o.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(o.count)
                while true {
                    let rc = inflate(&stream, Z_NO_FLUSH)
                    if rc == Z_STREAM_END {
                        // Concatenated members: start the next one if input remains.
                        if stream.avail_in > 0 && stream.next_in.pointee == 0x1F && stream.avail_out > 0 {
                            if inflateReset(&stream) != Z_OK { return nil }
                            continue
                        }
                        return o.count - Int(stream.avail_out)
                    }
                    if rc != Z_OK || stream.avail_out == 0 || stream.avail_in == 0 { return nil }
                }
            }
        }
        guard let produced, produced == size else {
            throw .corrupt("gzip page does not decompress to its declared \(size) bytes")
        }
        out.removeLast()
        return out
    }
}
