public import RunnelCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a catalog of inputs (local files, objects) as batches of records, for any `RowFormat`,
/// with positions exact to the byte so that a restarted run resumes mid-input.
///
/// Memory is bounded by one read buffer (grown only for a row larger than it) and one batch.
final class FileBatchReader<Format: RowFormat>: BatchReader {
    private var format: Format
    private let catalog: any InputCatalog
    private let files: [String]
    private var position: FilePosition
    private let request: ExtractRequest
    private let windowFilter: WindowFilter?
    private var remaining: Int?

    private var file: (path: String, stream: any ByteStream)?
    private var fields: [String]?
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    private let chunk = 1 << 20
    private var totalBytes: Int64?
    private var bytesDoneBefore: Int64 = 0
    /// Set when the current file's compressed data turned out damaged: everything decoded before
    /// the damage is read as usual, the undecodable rest becomes one `truncated_input` dead letter.
    private var damage: RunnelError?
    private var damageReported = false
    /// The damaged files of this run; once every file is read, the run fails with exit 3.
    private var damagedFiles: [String] = []

    init(format: Format, catalog: any InputCatalog, request: ExtractRequest, windowFilter: WindowFilter?) throws(RunnelError) {
        self.format = format
        self.catalog = catalog
        self.files = catalog.names
        self.request = request
        self.windowFilter = windowFilter
        self.remaining = request.limit
        position = FilePosition()
        if let checkpoint = request.checkpoint {
            position = try FilePosition(checkpoint)
            if let current = position.file, !files.contains(current) {
                throw RunnelError.config(
                    "the checkpoint is inside '\(current)', which the input no longer names; run `checkpoint reset` to start over")
            }
        }
        var total: Int64 = 0
        for f in files {
            guard let size = catalog.storedSize(of: f) else {
                total = -1
                break
            }
            if position.isDone(f) { bytesDoneBefore += size }
            total += size
        }
        totalBytes = total >= 0 ? total : nil
    }

    /// Appends the rows at `start` that the format takes straight into the columns (its fast
    /// path), one after another, until one it does not take (`declined`), the end of the buffered
    /// input, another shard's line or the batch's bounds. The reader's state is copied into
    /// locals for the loop and back after it: a stored property of this class read or written
    /// per row costs a dynamic exclusivity check each time.
    private func appendDirectRows(
        _ path: String, _ columns: inout ColumnsBuilder, _ origins: inout [Origin], _ bytes: inout Int, maxRecords: Int
    ) -> (took: Bool, declined: Bool) {
        let isFinal = eof && damage == nil
        let maxBytes = request.batching.maxBytes
        let shard = request.shard.flatMap { $0.count > 1 ? $0 : nil }
        var format = self.format
        var position = self.position
        var remaining = self.remaining
        var at = start
        let taken = origins.count
        var declined = false
        buffer.withUnsafeBytes { raw in
            while at < raw.count, origins.count < maxRecords, bytes < maxBytes, remaining != 0 {
                // Another shard's line is left to the general path, which skips it.
                if let shard, position.line % shard.count != shard.index { break }
                guard let row = format.appendRow(UnsafeRawBufferPointer(rebasing: raw[at...]), isFinal: isFinal, to: &columns) else {
                    declined = true
                    break
                }
                origins.append(Origin(source: path, line: position.line, offset: position.offset))
                at += row.consumed
                position.offset += Int64(row.consumed)
                position.line += row.lines
                bytes += row.consumed
                if remaining != nil { remaining! -= 1 }
            }
        }
        self.format = format
        self.position = position
        self.remaining = remaining
        start = at
        return (origins.count > taken, declined)
    }

    func read() async throws -> ReadResult {
        // Rows go straight into columns: no per-record array, and a key first seen late in a
        // JSON Lines batch costs nothing for the rows before it (see `ColumnsBuilder`).
        var columns: ColumnsBuilder?
        var origins: [Origin] = []
        var raws: [Int: String] = [:]
        var rejections: [(Int, RecordError)] = []
        var unreadable: Set<Int> = []
        var bytes = 0
        let maxRecords = max(1, request.batching.maxRecords)
        origins.reserveCapacity(min(maxRecords, 65_536))
        // Where in the buffer the format last declined a row (see `appendDirectRows`).
        var declined = -1

        while origins.count < maxRecords, bytes < request.batching.maxBytes, remaining != 0 {
            if file == nil {
                guard try await openNextFile() else { break }
            }
            guard let current = file else { break }
            if columns == nil { columns = ColumnsBuilder(fields: fields ?? [], capacity: maxRecords) }
            if windowFilter == nil, start < buffer.count, start != declined {
                let direct = appendDirectRows(current.path, &columns!, &origins, &bytes, maxRecords: maxRecords)
                // The row the format declined takes the general path below, without a second try.
                if direct.declined { declined = start }
                if direct.took { continue }
            }
            let step = try await nextStep(current.stream)
            guard let step else {
                // End of this file: a batch never spans files, so its checkpoint names one file.
                position.finish(current.path, inOrder: catalog.completesInOrder)
                bytesDoneBefore += catalog.storedSize(of: current.path) ?? 0
                position.file = nil
                position.offset = 0
                position.line = 1
                file = nil
                if !origins.isEmpty { break }
                continue
            }
            let origin = Origin(source: current.path, line: position.line, offset: position.offset)
            defer {
                start += step.consumed
                position.offset += Int64(step.skipped + step.consumed)
                position.line += step.lines
                bytes += step.skipped + step.consumed
            }
            if let shard = request.shard, shard.count > 1, (origin.line ?? 0) % shard.count != shard.index { continue }
            switch step.row {
            case .skip:
                continue
            case .malformed(let error):
                raws[origins.count] = step.raw ?? rawText(consumed: step.consumed)
                rejections.append((origins.count, error))
                unreadable.insert(origins.count)
                origins.append(origin)
                columns!.appendUnreadable()
            case .fields(let values):
                guard windowFilter?.includes(values: values, fields: fields) ?? true else { continue }
                columns!.append(fields: values)
                origins.append(origin)
            case .object(let object):
                guard windowFilter?.includes(object: object) ?? true else { continue }
                columns!.append(object: object)
                origins.append(origin)
            }
            if remaining != nil { remaining! -= 1 }
        }
        if origins.isEmpty && file == nil && position.file == nil && !hasUnopenedFiles() {
            if !damagedFiles.isEmpty {
                // After the rows before the damage are committed and the damage is parked: a retry
                // reads the same bytes, so this is a data contract error, not a transient one.
                throw RunnelError.dataContract(
                    "damaged input: \(damagedFiles.joined(separator: ", ")); every row that could be decoded was read, "
                        + "the damage is a dead letter with code truncated_input; replace the file and run `checkpoint reset` to read it again")
            }
            return .end
        }
        if origins.isEmpty && remaining == 0 { return .end }
        let (schema, built) = (columns ?? ColumnsBuilder(fields: fields ?? [])).finish()
        var batch = Batch(
            schema: schema, columns: built, origins: origins, raws: raws, unreadable: unreadable, byteCount: bytes)
        // A header (or `columns:`) declares the fields: a stage naming another is a contract error.
        batch.closedSchema = fields != nil
        for (i, error) in rejections { batch.reject(ordinal: i, stage: "extract", error: error) }
        let read = bytesDoneBefore + (file.map { $0.stream.storedOffset ?? position.offset } ?? 0)
        batch.progress = InputProgress(bytesRead: read, bytesTotal: totalBytes)
        return .batch(batch, checkpoint: position.checkpoint)
    }

    /// The raw text of the row just parsed (for dead letters), without its line terminator.
    private func rawText(consumed: Int) -> String {
        var end = start + consumed
        while end > start, buffer[end - 1] == 0x0A || buffer[end - 1] == 0x0D { end -= 1 }
        return String(decoding: buffer[start..<end], as: UTF8.self)
    }

    private func hasUnopenedFiles() -> Bool {
        files.contains { !position.isDone($0) }
    }

    /// Opens the next unfinished file, reading its preamble and moving to the checkpoint's offset.
    private func openNextFile() async throws(RunnelError) -> Bool {
        guard let path = position.file ?? files.first(where: { !position.isDone($0) }) else { return false }
        let f = try await catalog.open(path)
        file = (path, f)
        buffer.removeAll(keepingCapacity: true)
        start = 0
        eof = false
        damage = nil
        damageReported = false
        let resumeOffset = position.file == path ? position.offset : 0
        let resumeLine = position.file == path ? position.line : 1
        position.file = path
        position.offset = 0
        position.line = 1
        // A UTF-8 byte-order mark is not part of the first field name.
        try await fill(f)
        let mark = ByteOrderMark.length(buffer)
        if mark > 0 {
            start = mark
            position.offset = Int64(mark)
        }
        while true {
            var preambleError: RunnelError?
            let result = buffer.withUnsafeBytes { raw in
                do {
                    return try format.readPreamble(
                        UnsafeRawBufferPointer(rebasing: raw[start...]), isFinal: eof && damage == nil, file: path)
                } catch {
                    preambleError = RunnelError.classify(error)
                    return nil
                }
            }
            if let preambleError { throw preambleError }
            if let result {
                fields = result.fields
                start += result.consumed
                position.offset += Int64(result.consumed)
                position.line += result.lines
                break
            }
            if let damage { throw damage.adding(context: "the header row of '\(path)' cannot be read") }
            try await fill(f)
        }
        if resumeOffset > position.offset {
            if damage != nil { throw RunnelError.dataContract("'\(path)' ends before byte \(resumeOffset), where the checkpoint is: the file is damaged or was replaced") }
            try await f.seek(to: resumeOffset)
            buffer.removeAll(keepingCapacity: true)
            start = 0
            eof = false
            position.offset = resumeOffset
            position.line = resumeLine
        }
        return true
    }

    /// The next row of `f`, or nil at its end.
    private func nextStep(_ f: any ByteStream) async throws(RunnelError) -> ParseStep? {
        while true {
            if start >= buffer.count {
                if eof { return damageStep() }
                try await fill(f)
                if start >= buffer.count && eof { return damageStep() }
                continue
            }
            // Past damage the last row is cut off: it must not be read as a complete (shorter) row.
            let step = buffer.withUnsafeBytes { raw in
                format.parseRow(UnsafeRawBufferPointer(rebasing: raw[start...]), isFinal: eof && damage == nil)
            }
            if let step, step.consumed > 0 { return step }
            if eof { return damageStep() }
            if buffer.count - start >= request.maxRecordBytes { return try await oversizedStep(f) }
            try await fill(f)
        }
    }

    /// A row still unfinished after `maxRecordBytes`: one `record_too_large` dead letter holding
    /// its first KiB, and reading goes on after the row's line end. Without this a file with no
    /// line ends (or a stray quote) would be buffered whole. The rest of the row is read and
    /// dropped a chunk at a time, so memory stays at the limit plus one chunk.
    private func oversizedStep(_ f: any ByteStream) async throws(RunnelError) -> ParseStep {
        let limit = request.maxRecordBytes
        let shown = String(decoding: buffer[start..<min(buffer.count, start + 1024)], as: UTF8.self)
        var skipped = 0
        while true {
            if let lf = buffer[start...].firstIndex(of: 0x0A) {
                return oversized(limit: limit, shown: shown, skipped: skipped, consumed: lf + 1 - start, lines: 1)
            }
            if eof { return oversized(limit: limit, shown: shown, skipped: skipped, consumed: buffer.count - start, lines: 0) }
            skipped += buffer.count - start
            // Not keepingCapacity: the buffer gives back what the row made it grow to.
            buffer = []
            start = 0
            try await fill(f)
        }
    }

    private func oversized(limit: Int, shown: String, skipped: Int, consumed: Int, lines: Int) -> ParseStep {
        let error = RecordError(
            code: "record_too_large",
            message: "the record has \(skipped + consumed) bytes, more than the \(limit) a record may have (an eighth of the "
                + "memory window); raise memory.max_bytes or the container's memory limit to read it; the dead letter holds its first KiB")
        return ParseStep(row: .malformed(error), consumed: consumed, lines: lines, skipped: skipped, raw: shown)
    }

    /// Once per damaged file: the bytes after the last complete row, as one dead letter that names
    /// the byte offset and line where the readable data ends.
    private func damageStep() -> ParseStep? {
        guard let damage, !damageReported else { return nil }
        damageReported = true
        if let path = file?.path { damagedFiles.append(path) }
        let tail = buffer.count - start
        let lines = buffer[start...].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        let error = RecordError(
            code: "truncated_input",
            message: "\(damage.message); the readable data ends at byte \(position.offset + Int64(tail)), "
                + "after \(tail) bytes of an incomplete row here; nothing after it could be decoded")
        return ParseStep(row: .malformed(error), consumed: tail, lines: lines)
    }

    /// Drops consumed bytes and reads the next chunk; a row longer than the buffer grows it.
    private func fill(_ f: any ByteStream) async throws(RunnelError) {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let want = max(chunk, buffer.count)
        do {
            if try await f.read(into: &buffer, count: want) == 0 { eof = true }
        } catch where InputFile.isDamage(error) {
            damage = error
            eof = true
        }
    }
}

/// The UTF-8 byte-order mark some tools write at the start of a file; it is not part of the
/// first field name.
enum ByteOrderMark {
    /// 3 when `bytes` starts with the mark, else 0.
    static func length(_ bytes: [UInt8]) -> Int {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    }
}
