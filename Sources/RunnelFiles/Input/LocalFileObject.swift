public import RunnelCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A local file read by offset (`pread`), for the formats that read a footer first and then only
/// the parts they need (Parquet's extractor, and part loaders reading back their newest part).
public struct LocalFileObject: RandomAccessObject {
    public let name: String

    public init(path: String) { self.name = path }

    public func size() async throws -> Int64 {
        var st = stat()
        guard stat(name, &st) == 0 else { throw RunnelError.io("cannot stat '\(name)'", errno: errno) }
        return Int64(st.st_size)
    }

    public func read(offset: Int64, count: Int) async throws -> [UInt8] {
        let fd = open(name, O_RDONLY)
        guard fd >= 0 else { throw RunnelError.io("cannot open '\(name)'", errno: errno) }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: max(0, count))
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { b in pread(fd, b.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RunnelError.io("cannot read '\(name)' at offset \(offset + Int64(done))", errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        out.removeSubrange(done...)
        return out
    }
}
