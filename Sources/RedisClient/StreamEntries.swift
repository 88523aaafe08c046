import NIOCore

/// The entries of an XREADGROUP or XAUTOCLAIM reply, read in place from the reply's bytes.
///
/// An entry's id is parsed and its fields are views into the reply, so going through a reply
/// allocates nothing per entry: a consumer copies only what it keeps. (Built as values, an
/// entry cost five allocations and most of a stream worker's time outside its store.)
///
/// The reply is framed (its tokens checked) before it gets here; the shape of each entry is
/// checked as `forEach` reaches it.
public struct StreamEntries: Sendable {
    private let frame: ByteBuffer
    /// Where each entry list starts in the frame (a reply holds one per stream asked for).
    private let lists: [Int]
    private let command: String
    /// Elements of the entry lists: the entries, those deleted from the stream included (and a
    /// null element, which Redis 6.2's XAUTOCLAIM sends for an entry it dropped).
    public let count: Int

    public static let empty = StreamEntries(frame: ByteBuffer(), lists: [], command: "", count: 0)

    public var isEmpty: Bool { count == 0 }

    /// The reply's size in bytes: ids, field names and values with their framing.
    public var byteCount: Int { frame.readableBytes }

    private init(frame: ByteBuffer, lists: [Int], command: String, count: Int) {
        self.frame = frame
        self.lists = lists
        self.command = command
        self.count = count
    }

    /// The entry lists at `lists` of `frame`, each `[[id, [field, value, …]], …]` or null.
    init(_ frame: RESPFrame, lists: [Int], command: String) throws {
        let count = try frame.bytes.withUnsafeReadableBytes { bytes in
            try lists.reduce(0) { sum, list in
                var cursor = RESPCursor(bytes, at: list)
                switch cursor.next() {
                case .null: return sum
                case .aggregate(let n): return sum + n
                default: throw Self.unexpected(command, "an entry list that is not an array")
                }
            }
        }
        self.init(frame: frame.bytes, lists: lists, command: command, count: count)
    }

    /// An XREADGROUP reply: RESP2 `[[key, entries], …]`, RESP3 `{key: entries, …}`, or null when
    /// nothing arrived.
    init(xreadgroupReply frame: RESPFrame) throws {
        let lists = try frame.bytes.withUnsafeReadableBytes { bytes -> [Int] in
            let isMap = bytes.first == UInt8(ascii: "%")
            var cursor = RESPCursor(bytes)
            let elements: Int
            switch cursor.next() {
            case .null: return []
            case .aggregate(let n): elements = n
            default: throw Self.unexpected("XREADGROUP", "not an array or map of streams")
            }
            var lists: [Int] = []
            for _ in 0..<(isMap ? elements / 2 : elements) {
                if !isMap {
                    guard case .aggregate(2) = cursor.next() else {
                        throw Self.unexpected("XREADGROUP", "a stream that is not [key, entries]")
                    }
                }
                cursor.skip()  // the stream's key
                lists.append(cursor.offset)
                cursor.skip()
            }
            return lists
        }
        try self.init(frame, lists: lists, command: "XREADGROUP")
    }

    /// An XAUTOCLAIM reply: `[next, entries]` (Redis 6.2) or `[next, entries, deleted ids]` (Redis 7).
    static func xautoclaimReply(_ frame: RESPFrame) throws -> (next: StreamID, entries: StreamEntries, deleted: [StreamID]) {
        let (next, list, deleted) = try frame.bytes.withUnsafeReadableBytes { bytes -> (StreamID, Int, [StreamID]) in
            var cursor = RESPCursor(bytes)
            guard case .aggregate(let parts) = cursor.next(), parts >= 2, case .blob(let nextBytes) = cursor.next(),
                let next = StreamID(utf8: nextBytes)
            else { throw Self.unexpected("XAUTOCLAIM", "not [next, entries, deleted]") }
            let list = cursor.offset
            cursor.skip()
            var deleted: [StreamID] = []
            if parts > 2, case .aggregate(let n) = cursor.next() {
                for _ in 0..<n {
                    guard case .blob(let idBytes) = cursor.next(), let id = StreamID(utf8: idBytes) else {
                        throw Self.unexpected("XAUTOCLAIM", "a deleted id that is not an id")
                    }
                    deleted.append(id)
                }
            }
            return (next, list, deleted)
        }
        return (next, try StreamEntries(frame, lists: [list], command: "XAUTOCLAIM"), deleted)
    }

    /// Calls `body` with each entry in order. The view and the byte buffers it hands out are
    /// valid only during that call. Throws what `body` throws, or `.unexpectedReply` at an entry
    /// that is not `[id, [field, value, …]]` (the entries before it were handed out).
    public func forEach(_ body: (StreamEntryView) throws -> Void) throws {
        try frame.withUnsafeReadableBytes { bytes in
            for list in lists {
                var cursor = RESPCursor(bytes, at: list)
                guard case .aggregate(let elements) = cursor.next() else { continue }  // null: checked on init
                for _ in 0..<elements {
                    let entryHead = cursor.next()
                    if case .null = entryHead { continue }
                    guard case .aggregate(2) = entryHead, case .blob(let idBytes) = cursor.next(),
                        let id = StreamID(utf8: idBytes)
                    else { throw Self.unexpected(command, "an entry that is not [id, fields]") }
                    switch cursor.next() {
                    case .null:
                        try body(StreamEntryView(id: id, bytes: bytes, fieldsStart: cursor.offset, pairs: -1, fieldBytes: 0))
                    case .aggregate(let n) where n.isMultiple(of: 2):
                        let fieldsStart = cursor.offset
                        var fieldBytes = 0
                        for _ in 0..<n {
                            guard case .blob(let text) = cursor.next() else {
                                throw Self.unexpected(command, "a field that is not a string")
                            }
                            fieldBytes += text.count
                        }
                        try body(
                            StreamEntryView(id: id, bytes: bytes, fieldsStart: fieldsStart, pairs: n / 2, fieldBytes: fieldBytes))
                    default:
                        throw Self.unexpected(command, "entry fields that are not name/value pairs")
                    }
                }
            }
        }
    }

    /// The entries as values, fields copied.
    public func entries() throws -> [StreamEntry] {
        var entries: [StreamEntry] = []
        entries.reserveCapacity(count)
        try forEach { entries.append($0.entry) }
        return entries
    }

    /// The first and last entry's ids, nil when there is none.
    public func idRange() throws -> (first: StreamID, last: StreamID)? {
        var range: (first: StreamID, last: StreamID)?
        try forEach { range = (range?.first ?? $0.id, $0.id) }
        return range
    }

    static func unexpected(_ command: String, _ shape: String) -> RedisError {
        RedisError(code: .unexpectedReply, message: "unexpected reply shape: \(shape)", command: command)
    }
}

/// One entry of a `StreamEntries` reply, its fields read in place. Valid only inside the
/// `forEach` call that handed it out.
public struct StreamEntryView {
    public let id: StreamID
    fileprivate let bytes: UnsafeRawBufferPointer
    /// Where the entry's first field name starts in `bytes`.
    fileprivate let fieldsStart: Int
    /// Field/value pairs, -1 for an entry deleted from the stream.
    fileprivate let pairs: Int
    /// Bytes of the field names and values.
    public let fieldBytes: Int

    /// The entry is still pending for the group but was deleted or trimmed from the stream, so
    /// the server sent no fields. Such entries can only be acknowledged.
    public var isDeleted: Bool { pairs < 0 }

    /// Calls `body` with each field's name and value, in the order they were added.
    public func forEachField(_ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void)
        rethrows
    {
        var cursor = RESPCursor(bytes, at: fieldsStart)
        for _ in 0..<max(0, pairs) {
            guard case .blob(let name) = cursor.next(), case .blob(let value) = cursor.next() else { return }
            try body(name, value)
        }
    }

    /// The value of the first field called `name` (its UTF-8 bytes).
    public func value(ofField name: [UInt8]) -> UnsafeRawBufferPointer? {
        var cursor = RESPCursor(bytes, at: fieldsStart)
        for _ in 0..<max(0, pairs) {
            guard case .blob(let fieldName) = cursor.next(), case .blob(let value) = cursor.next() else { return nil }
            if fieldName.count == name.count, (0..<name.count).allSatisfy({ fieldName[$0] == name[$0] }) { return value }
        }
        return nil
    }

    /// The entry as a value, its fields copied.
    public var entry: StreamEntry {
        var fields: [(name: String, value: [UInt8])] = []
        fields.reserveCapacity(max(0, pairs))
        forEachField { name, value in fields.append((String(decoding: name, as: UTF8.self), [UInt8](value))) }
        return StreamEntry(id: id, fields: fields, isDeleted: isDeleted)
    }
}
