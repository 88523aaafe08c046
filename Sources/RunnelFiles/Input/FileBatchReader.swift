public import RunnelCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a list of files as batches of records, for any `RowFormat`, with positions exact to the
/// byte so that a restarted run resumes mid-file.
///
/// Memory is bounded by one read buffer (grown only for a row larger than it) and one batch.
final class FileBatchReader<Format: RowFormat>: BatchReader {
    private var format: Format
    private let files: [String]
    private var position: FilePosition
    private let request: ExtractRequest
    private let windowFilter: WindowFilter?
    private var remaining: Int?

    private var file: InputFile?
    private var fields: [String]?
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    private let chunk = 1 << 20
    private var totalBytes: Int64?
    private var bytesDoneBefore: Int64 = 0

    init(format: Format, files: [String], request: ExtractRequest, windowFilter: WindowFilter?) throws(RunnelError) {
        self.format = format
        self.files = files
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
            guard let size = fileSize(f) else {
                total = -1
                break
            }
            if position.done.contains(f) { bytesDoneBefore += size }
            total += size
        }
        totalBytes = total >= 0 ? total : nil
    }

    func next() async throws -> Batch? {
        var rows: [[Value]] = []
        var objects: [Object] = []
        var origins: [Origin] = []
        var raws: [Int: String] = [:]
        var rejections: [(Int, RecordError)] = []
        var bytes = 0
        let maxRecords = max(1, request.batching.maxRecords)
        rows.reserveCapacity(min(maxRecords, 65_536))

        while origins.count < maxRecords, bytes < request.batching.maxBytes, remaining != 0 {
            if file == nil {
                guard try openNextFile() else { break }
            }
            guard let current = file else { break }
            let step = try nextStep(current)
            guard let step else {
                // End of this file: a batch never spans files, so its checkpoint names one file.
                position.done.append(current.path)
                bytesDoneBefore += current.sizeOnDisk ?? 0
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
                position.offset += Int64(step.consumed)
                position.line += step.lines
                bytes += step.consumed
            }
            if let shard = request.shard, shard.count > 1, (origin.line ?? 0) % shard.count != shard.index { continue }
            switch step.row {
            case .skip:
                continue
            case .malformed(let error):
                raws[origins.count] = rawText(consumed: step.consumed)
                rejections.append((origins.count, error))
                origins.append(origin)
                rows.append([])
                objects.append(Object())
            case .fields(let values):
                guard windowFilter?.includes(values: values, fields: fields) ?? true else { continue }
                rows.append(values)
                objects.append(Object())
                origins.append(origin)
            case .object(let object):
                guard windowFilter?.includes(object: object) ?? true else { continue }
                rows.append([])
                objects.append(object)
                origins.append(origin)
            }
            if remaining != nil { remaining! -= 1 }
        }
        if origins.isEmpty && file == nil && position.file == nil && !hasUnopenedFiles() {
            return nil
        }
        if origins.isEmpty && remaining == 0 { return nil }
        return makeBatch(rows: rows, objects: objects, origins: origins, raws: raws, rejections: rejections, bytes: bytes)
    }

    private func makeBatch(
        rows: [[Value]], objects: [Object], origins: [Origin], raws: [Int: String],
        rejections: [(Int, RecordError)], bytes: Int
    ) -> Batch {
        let rejected = Set(rejections.map(\.0))
        let schema: Schema
        var aligned: [[Value]]
        if let fields {
            schema = Schema(fields)
            aligned = rows
        } else {
            // Self-describing rows: the batch schema is the union of their keys, in order of first
            // appearance; a key a record lacks reads as null.
            var names: [String] = []
            var seen: [String: Int] = [:]
            for o in objects {
                for k in o.keys where seen[k] == nil {
                    seen[k] = names.count
                    names.append(k)
                }
            }
            schema = Schema(names)
            aligned = []
            aligned.reserveCapacity(objects.count)
            for (i, o) in objects.enumerated() {
                if rejected.contains(i) {
                    aligned.append([])
                    continue
                }
                var values = [Value](repeating: .null, count: names.count)
                for (k, v) in zip(o.keys, o.values) { values[seen[k]!] = v }
                aligned.append(values)
            }
        }
        var records: [Record] = []
        records.reserveCapacity(aligned.count)
        var sources: [SourceRecord] = []
        sources.reserveCapacity(aligned.count)
        for (i, values) in aligned.enumerated() {
            sources.append(SourceRecord(origin: origins[i], values: values, raw: raws[i]))
            if !rejected.contains(i) { records.append(Record(values: values, ordinal: i)) }
        }
        var batch = Batch(schema: schema, records: records, sources: sources, checkpoint: position.checkpoint, byteCount: bytes)
        for (i, error) in rejections { batch.reject(ordinal: i, stage: "extract", error: error) }
        let read = bytesDoneBefore + (file.map { $0.isCompressed ? $0.compressedOffset : position.offset } ?? 0)
        batch.progress = InputProgress(bytesRead: read, bytesTotal: totalBytes)
        return batch
    }

    /// The raw text of the row just parsed (for dead letters), without its line terminator.
    private func rawText(consumed: Int) -> String {
        var end = start + consumed
        while end > start, buffer[end - 1] == 0x0A || buffer[end - 1] == 0x0D { end -= 1 }
        return String(decoding: buffer[start..<end], as: UTF8.self)
    }

    private func hasUnopenedFiles() -> Bool {
        files.contains { !position.done.contains($0) }
    }

    /// Opens the next unfinished file, reading its preamble and moving to the checkpoint's offset.
    private func openNextFile() throws(RunnelError) -> Bool {
        guard let path = position.file ?? files.first(where: { !position.done.contains($0) }) else { return false }
        let f = try InputFile(path: path)
        file = f
        buffer.removeAll(keepingCapacity: true)
        start = 0
        eof = false
        let resumeOffset = position.file == path ? position.offset : 0
        let resumeLine = position.file == path ? position.line : 1
        position.file = path
        position.offset = 0
        position.line = 1
        // A UTF-8 byte-order mark is not part of the first field name.
        try fill(f)
        let mark = ByteOrderMark.length(buffer)
        if mark > 0 {
            start = mark
            position.offset = Int64(mark)
        }
        while true {
            var preambleError: RunnelError?
            let result = buffer.withUnsafeBytes { raw in
                do {
                    return try format.readPreamble(UnsafeRawBufferPointer(rebasing: raw[start...]), isFinal: eof, file: path)
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
            try fill(f)
        }
        if resumeOffset > position.offset {
            try f.seek(to: resumeOffset)
            buffer.removeAll(keepingCapacity: true)
            start = 0
            eof = false
            position.offset = resumeOffset
            position.line = resumeLine
        }
        return true
    }

    /// The next row of `f`, or nil at its end.
    private func nextStep(_ f: InputFile) throws(RunnelError) -> ParseStep? {
        while true {
            if start >= buffer.count {
                if eof { return nil }
                try fill(f)
                if start >= buffer.count && eof { return nil }
                continue
            }
            let step = buffer.withUnsafeBytes { raw in
                format.parseRow(UnsafeRawBufferPointer(rebasing: raw[start...]), isFinal: eof)
            }
            if let step, step.consumed > 0 { return step }
            if eof { return nil }
            try fill(f)
        }
    }

    /// Drops consumed bytes and reads the next chunk; a row longer than the buffer grows it.
    private func fill(_ f: InputFile) throws(RunnelError) {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let want = max(chunk, buffer.count)
        if try f.read(into: &buffer, count: want) == 0 { eof = true }
    }

    private func fileSize(_ path: String) -> Int64? {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : nil
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
