import CZlib
public import RunnelCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file read sequentially in large chunks, plain or gzip (zlib's `gzread` reads both, so a
/// `.gz` needs no special case). Offsets are in uncompressed bytes.
final class InputFile {
    let path: String
    private let handle: gzFile
    /// Size on disk, for progress; for gzip files this is the compressed size.
    let sizeOnDisk: Int64?
    let isCompressed: Bool

    init(path: String) throws(RunnelError) {
        self.path = path
        guard let h = gzopen(path, "rb") else {
            throw RunnelError.io("cannot open '\(path)'", errno: errno)
        }
        handle = h
        gzbuffer(h, 1 << 20)
        var st = stat()
        sizeOnDisk = stat(path, &st) == 0 ? Int64(st.st_size) : nil
        isCompressed = gzdirect(h) == 0
    }

    deinit { gzclose(handle) }

    /// Reads up to `count` bytes, appending to `buffer`. Returns the number read; 0 at end of file.
    func read(into buffer: inout [UInt8], count: Int) throws(RunnelError) -> Int {
        let old = buffer.count
        buffer.reserveCapacity(old + count)
        var n: Int32 = 0
        buffer.append(contentsOf: repeatElement(0, count: count))
        buffer.withUnsafeMutableBytes { raw in
            n = gzread(handle, raw.baseAddress! + old, UInt32(count))
        }
        if n < 0 {
            buffer.removeLast(count)
            throw readError()
        }
        buffer.removeLast(count - Int(n))
        // A gzip stream cut short reads as a clean end of file unless the error is checked.
        if n == 0, let error = pendingError() { throw error }
        return Int(n)
    }

    /// The error zlib recorded, if any.
    private func pendingError() -> RunnelError? {
        var code: Int32 = 0
        _ = gzerror(handle, &code)
        return code == Z_OK ? nil : readError()
    }

    /// Damaged compressed data (a truncated or corrupt `.gz`) reads the same on every retry: a
    /// data contract error (`InputFile.isDamage`). An operating-system read error may pass.
    private func readError() -> RunnelError {
        let saved = errno
        var code: Int32 = 0
        let message = String(cString: gzerror(handle, &code))
        switch code {
        case Z_ERRNO: return RunnelError.io("cannot read '\(path)'", errno: saved)
        case Z_DATA_ERROR, Z_BUF_ERROR, Z_STREAM_ERROR:
            return RunnelError(.dataContract, "'\(path)' is damaged: \(message) (a truncated or corrupt compressed file)")
        default: return RunnelError.failure("cannot read '\(path)': \(message)")
        }
    }

    /// True for the error `read` throws when the file's compressed data is damaged.
    static func isDamage(_ error: RunnelError) -> Bool { error.code == .dataContract }

    /// Moves to an uncompressed offset (for gzip, zlib decompresses up to it).
    func seek(to offset: Int64) throws(RunnelError) {
        if gzseek(handle, off_t(offset), SEEK_SET) < 0 {
            // In a gzip file the seek decompresses up to the offset, so damage shows here too.
            throw pendingError() ?? RunnelError.failure("cannot seek '\(path)' to byte \(offset)")
        }
    }

    /// Compressed bytes consumed so far, for progress on gzip input.
    var compressedOffset: Int64 { Int64(gzoffset(handle)) }
}

/// The size of a file on disk, or nil when it cannot be read.
func fileSize(_ path: String) -> Int64? {
    var st = stat()
    return stat(path, &st) == 0 ? Int64(st.st_size) : nil
}

/// Expands a path or glob pattern into the sorted list of files it names.
public enum FileGlob {
    public static func expand(_ pattern: String) throws(RunnelError) -> [String] {
        let isPattern = pattern.contains { "*?[".contains($0) }
        if !isPattern {
            var st = stat()
            guard stat(pattern, &st) == 0 else {
                throw RunnelError.config("input file '\(pattern)' does not exist")
            }
            return [pattern]
        }
        var g = glob_t()
        defer { globfree(&g) }
        let rc = glob(pattern, 0, nil, &g)
        if rc == GLOB_NOMATCH { throw RunnelError.config("no file matches '\(pattern)'") }
        guard rc == 0 else { throw RunnelError.io("cannot expand '\(pattern)' (glob error \(rc))", errno: errno) }
        var paths: [String] = []
        for i in 0..<Int(g.gl_pathc) {
            if let p = g.gl_pathv[i] { paths.append(String(cString: p)) }
        }
        return paths.sorted()
    }
}
