#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The key hashes a batch run has outgrown its memory for, on disk: one sorted run of distinct
/// hashes in an unlinked temporary file, so that a killed process leaves nothing behind.
///
/// Each spill merges the hashes held in memory into the run (a two-way merge into a second file,
/// which then takes the first one's place), counting the hashes that were already there: those
/// are keys an earlier part of the run had, found too late to count with their batch. Memory is
/// two 64 KiB buffers, whatever the number of keys; the files hold 8 bytes per distinct key.
final class KeySpill {
    private var run: Int32
    private var spare: Int32
    /// Hashes in `run`.
    private(set) var count = 0

    init(directory: String) throws {
        run = try Self.temporaryFile(in: directory)
        do { spare = try Self.temporaryFile(in: directory) } catch {
            close(run)
            throw error
        }
    }

    deinit {
        close(run)
        close(spare)
    }

    /// Merges `sorted` (ascending, distinct) into the run; returns how many were already in it.
    func merge(_ sorted: [UInt64]) throws -> Int {
        guard ftruncate(spare, 0) == 0 else { throw Self.failure("truncate") }
        var reader = Reader(fd: run, count: count)
        var writer = Writer(fd: spare)
        var duplicates = 0
        var i = 0
        var head = try reader.next()
        while let h = head, i < sorted.count {
            if h < sorted[i] {
                try writer.append(h)
                head = try reader.next()
            } else if h > sorted[i] {
                try writer.append(sorted[i])
                i += 1
            } else {
                duplicates += 1
                try writer.append(h)
                head = try reader.next()
                i += 1
            }
        }
        while let h = head {
            try writer.append(h)
            head = try reader.next()
        }
        while i < sorted.count {
            try writer.append(sorted[i])
            i += 1
        }
        try writer.flush()
        swap(&run, &spare)
        count = writer.written
        return duplicates
    }

    /// How many of `sorted` (ascending, distinct) are in the run, without changing it.
    func overlap(_ sorted: [UInt64]) throws -> Int {
        var reader = Reader(fd: run, count: count)
        var duplicates = 0
        var i = 0
        var head = try reader.next()
        while let h = head, i < sorted.count {
            if h < sorted[i] {
                head = try reader.next()
            } else if h > sorted[i] {
                i += 1
            } else {
                duplicates += 1
                head = try reader.next()
                i += 1
            }
        }
        return duplicates
    }

    private static let bufferCount = 8192

    private struct Reader {
        let fd: Int32
        let count: Int
        var buffer = [UInt64](repeating: 0, count: KeySpill.bufferCount)
        var filled = 0
        var position = 0
        var consumed = 0

        init(fd: Int32, count: Int) {
            self.fd = fd
            self.count = count
        }

        mutating func next() throws -> UInt64? {
            if position == filled {
                guard consumed < count else { return nil }
                let want = min(buffer.count, count - consumed)
                let offset = off_t(consumed * 8)
                let got = buffer.withUnsafeMutableBytes { b in
                    KeySpill.readFully(fd, b.baseAddress!, want * 8, offset)
                }
                guard got == want * 8 else { throw KeySpill.failure("read") }
                filled = want
                position = 0
                consumed += want
            }
            defer { position += 1 }
            return buffer[position]
        }
    }

    private struct Writer {
        let fd: Int32
        var buffer: [UInt64] = []
        var written = 0

        init(fd: Int32) {
            self.fd = fd
            buffer.reserveCapacity(KeySpill.bufferCount)
        }

        mutating func append(_ h: UInt64) throws {
            buffer.append(h)
            if buffer.count == KeySpill.bufferCount { try flush() }
        }

        mutating func flush() throws {
            guard !buffer.isEmpty else { return }
            let offset = off_t(written * 8)
            let bytes = buffer.count * 8
            let put = buffer.withUnsafeBytes { b in KeySpill.writeFully(fd, b.baseAddress!, bytes, offset) }
            guard put == bytes else { throw KeySpill.failure("write") }
            written += buffer.count
            buffer.removeAll(keepingCapacity: true)
        }
    }

    private static func readFully(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int, _ offset: off_t) -> Int {
        fully(n) { done in pread(fd, p + done, n - done, offset + off_t(done)) }
    }

    private static func writeFully(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int, _ offset: off_t) -> Int {
        fully(n) { done in pwrite(fd, p + done, n - done, offset + off_t(done)) }
    }

    /// Repeats a partial read or write (`step`, given the bytes done so far) until `n` bytes are
    /// done, the file ends, or it fails other than by an interrupt; returns the bytes done.
    private static func fully(_ n: Int, _ step: (Int) -> Int) -> Int {
        var done = 0
        while done < n {
            let r = step(done)
            if r < 0, errno == EINTR { continue }
            if r <= 0 { break }
            done += r
        }
        return done
    }

    private static func temporaryFile(in directory: String) throws -> Int32 {
        var template = Array((directory + "/runnel-keys-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw failure("create a file in \(directory) for") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return fd
    }

    private static func failure(_ what: String) -> RunnelError {
        let reason = String(cString: strerror(errno))
        return RunnelError(.transient, "cannot \(what) the run's key hashes (\(reason)); set TMPDIR to a folder with room")
    }
}
