public import RunnelCore

/// Where a file extractor stands: files finished, and the byte offset and line of the next
/// record in the current file. Encoded as the checkpoint's JSON text.
struct FilePosition: Hashable {
    var done: [String] = []
    var file: String?
    var offset: Int64 = 0
    /// 1-based line number of the next record.
    var line: Int = 1

    var checkpoint: Checkpoint {
        var o = Object()
        o.set("files_done", .array(done.map(Value.string)))
        o.set("file", file.map(Value.string) ?? .null)
        o.set("offset", .int(offset))
        o.set("line", .int(Int64(line)))
        return Checkpoint(JSONText.encode(.object(o)))
    }

    init() {}

    init(_ checkpoint: Checkpoint) throws(RunnelError) {
        guard case .object(let o)? = try? JSONText.parse(checkpoint.position) else {
            throw RunnelError.config("checkpoint '\(checkpoint.position)' is not a file position; run `checkpoint reset` if the input changed")
        }
        if case .array(let files)? = o["files_done"] {
            done = files.compactMap { if case .string(let s) = $0 { s } else { nil } }
        }
        if case .string(let f)? = o["file"] { file = f }
        if case .int(let off)? = o["offset"] { offset = off }
        if case .int(let l)? = o["line"] { line = Int(l) }
    }
}
