import CZlib
import RunnelCore

/// Streaming gzip decompression for objects read in chunks: memory is zlib's window and one
/// output chunk, whatever the object's size. Concatenated gzip members (what `cat a.gz b.gz`
/// and many log shippers produce) are read as one stream, as `gzip -d` and zlib's `gzread` do.
final class GzipInflater {
    private var stream = z_stream()
    private var finishedMember = false
    private let name: String

    init(name: String) throws(RunnelError) {
        self.name = name
        // 15 + 32: a zlib or gzip header, detected automatically.
        let rc = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw RunnelError.failure("cannot start gzip decompression for '\(name)' (zlib \(rc))") }
    }

    deinit { inflateEnd(&stream) }

    /// Decompresses from `input[start...]` and appends up to `capacity` bytes to `output`.
    /// Returns the input bytes consumed.
    func inflate(_ input: [UInt8], from start: Int, into output: inout [UInt8], capacity: Int) throws(RunnelError) -> Int {
        let old = output.count
        output.append(contentsOf: repeatElement(0, count: capacity))
        var consumed = 0
        var produced = 0
        var failure: Int32?
        input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                var offset = start
                while produced < capacity, offset < inBuf.count {
                    if finishedMember {
                        // Another member follows the end of the last one.
                        inflateReset(&stream)
                        finishedMember = false
                    }
                    stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress! + offset)
                    stream.avail_in = UInt32(inBuf.count - offset)
                    stream.next_out = outBuf.baseAddress! + old + produced
                    stream.avail_out = UInt32(capacity - produced)
                    let rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                    let usedIn = (inBuf.count - offset) - Int(stream.avail_in)
                    let usedOut = (capacity - produced) - Int(stream.avail_out)
                    offset += usedIn
                    produced += usedOut
                    if rc == Z_STREAM_END {
                        finishedMember = true
                    } else if rc == Z_BUF_ERROR {
                        break
                    } else if rc != Z_OK {
                        failure = rc
                        break
                    }
                    if usedIn == 0 && usedOut == 0 { break }
                }
                consumed = offset - start
            }
        }
        output.removeLast(capacity - produced)
        if let failure {
            let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(failure)"
            throw RunnelError.failure("cannot decompress '\(name)': \(message) (is it really gzip?)")
        }
        return consumed
    }

    /// Whether the input ended cleanly, at the end of a member; anything else is a truncated object.
    var atMemberEnd: Bool { finishedMember || (stream.total_in == 0) }
}

/// gzip compression of a whole part, for loaders that write `.gz` parts.
enum Gzip {
    static func compress(_ input: [UInt8], level: Int32 = 6) throws(RunnelError) -> [UInt8] {
        var stream = z_stream()
        // 15 + 16: a gzip header and trailer rather than zlib's.
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { throw RunnelError.failure("cannot start gzip compression") }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.count))) + 64
        var output = [UInt8](repeating: 0, count: bound)
        var rc: Int32 = Z_OK
        input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress!
                stream.avail_out = UInt32(outBuf.count)
                rc = deflate(&stream, Z_FINISH)
            }
        }
        guard rc == Z_STREAM_END else { throw RunnelError.failure("gzip compression failed (zlib \(rc))") }
        output.removeLast(output.count - Int(stream.total_out))
        return output
    }
}
