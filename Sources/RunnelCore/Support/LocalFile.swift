#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Small local files read whole: specs, test files, checkpoints, cgroup settings, time zones,
/// token files. Nil when the file cannot be opened or read (errno tells why), or is larger than
/// `limit`.
public enum LocalFile {
    public static func read(_ path: String, limit: Int = .max) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { out.append(contentsOf: chunk[0..<n]) }
            if out.count > limit { return nil }
            if n < chunk.count { break }
        }
        return ferror(f) == 0 ? out : nil
    }
}
