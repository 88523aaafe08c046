public import RunnelCore

/// Where a file extractor stands: files finished, and the byte offset and line of the next
/// record in the current file. Encoded as the checkpoint's JSON text.
public struct FilePosition: Hashable, Sendable {
    /// Finished inputs, for catalogs whose new inputs may sort anywhere (local globs).
    public var done: [String] = []
    /// The last finished input, for catalogs read in name order (object keys): every name up
    /// to and including it is finished.
    public var doneThrough: String?
    public var file: String?
    public var offset: Int64 = 0
    /// 1-based line number of the next record.
    public var line: Int = 1

    public func isDone(_ name: String) -> Bool {
        if let doneThrough, name <= doneThrough { return true }
        return done.contains(name)
    }

    public mutating func finish(_ name: String, inOrder: Bool) {
        if inOrder { doneThrough = name } else { done.append(name) }
    }

    public var checkpoint: Checkpoint {
        var o = Object()
        o.set("files_done", .array(done.map(Value.string)))
        if let doneThrough { o.set("done_through", .string(doneThrough)) }
        o.set("file", file.map(Value.string) ?? .null)
        o.set("offset", .int(offset))
        o.set("line", .int(Int64(line)))
        return Checkpoint(JSONText.encode(.object(o)))
    }

    public init() {}

    public init(_ checkpoint: Checkpoint) throws(RunnelError) {
        guard case .object(let o)? = try? JSONText.parse(checkpoint.position) else {
            throw RunnelError.config("checkpoint '\(checkpoint.position)' is not a file position; run `checkpoint reset` if the input changed")
        }
        if case .array(let files)? = o["files_done"] {
            done = files.compactMap { if case .string(let s) = $0 { s } else { nil } }
        }
        if case .string(let d)? = o["done_through"] { doneThrough = d }
        if case .string(let f)? = o["file"] { file = f }
        if case .int(let off)? = o["offset"] { offset = off }
        if case .int(let l)? = o["line"] { line = Int(l) }
    }
}
