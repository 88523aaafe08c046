public import RunnelCore
public import RunnelFiles

#if canImport(Glibc)
    import Glibc
#endif

/// Reads CSV or JSON Lines objects from a bucket, in key order, through the same parsers as
/// local files (`CSVExtractor`, `JSONLinesExtractor`), plain or gzip (by a `.gz` name or
/// `Content-Encoding: gzip`).
///
/// The checkpoint is the local files' one — object, byte offset and line — so a killed run
/// resumes mid-object (a plain object with a ranged GET at the offset; a gzip object by
/// decompressing up to it). Finished objects are remembered as the last finished key: the next
/// run lists only keys after it, so new objects must sort after the ones already read (keys that
/// start with a date or a sequence number do).
public struct S3Extractor: Extractor {
    /// What the records are.
    public enum Format: Sendable {
        case csv(CSVExtractor.Configuration)
        case jsonl(JSONLinesExtractor.Configuration)
        /// A format read by range (`parquet`): the decoder fetches the footer and the column
        /// chunks it needs with ranged GETs, so memory holds a row group, not an object.
        /// `cursor`: the field `--from/--to` apply to, if any.
        case decoded(name: String, any PartDecoder, cursor: String? = nil)
    }

    /// What `--from/--to` select.
    public struct WindowField: Sendable, Hashable {
        enum Base: Sendable, Hashable { case key, lastModified, cursor }
        let base: Base
        /// Objects whose key is in `[from, to)`: `--from logs/2024-01 --to logs/2024-02`.
        public static let key = WindowField(base: .key)
        /// Objects last modified in `[from, to)` (ISO 8601 times).
        public static let lastModified = WindowField(base: .lastModified)
        /// Records whose `cursor` field is in `[from, to)`, as for local files.
        public static let cursor = WindowField(base: .cursor)
    }

    public struct Configuration: Sendable {
        public var format: Format
        /// Only keys starting with this. Default: all.
        public var prefix: String = ""
        /// Only keys matching this glob (`*` and `?` do not cross `/`); its literal start is
        /// the listing prefix.
        public var glob: String?
        /// What `--from/--to` apply to. Default `.cursor` when the format has a cursor, else `.key`.
        public var window: WindowField?
        /// Bytes per ranged GET. Default 8 MiB; two are held at a time.
        public var chunkSize: Int = 8 << 20

        public init(format: Format) { self.format = format }
    }

    public let configuration: Configuration
    public let client: S3Client

    public init(_ configuration: Configuration, client: S3Client) {
        self.configuration = configuration
        self.client = client
    }

    private var cursor: String? {
        switch configuration.format {
        case .csv(let c): c.cursor
        case .jsonl(let c): c.cursor
        case .decoded(_, _, let cursor): cursor
        }
    }

    private var windowField: WindowField { configuration.window ?? (cursor != nil ? .cursor : .key) }

    public var windowBounds: WindowBoundKind {
        switch windowField.base {
        case .key: .text
        case .lastModified: .time
        case .cursor: .timeOrNumber
        }
    }

    public func open(_ request: ExtractRequest) async throws -> any BatchReader {
        var startAfter: String?
        if let checkpoint = request.checkpoint {
            let position = try FilePosition(checkpoint)
            let base = client.url("")
            if let done = position.doneThrough {
                guard done.hasPrefix(base) else {
                    throw RunnelError.config(
                        "the checkpoint is in '\(done)', not in bucket '\(client.configuration.bucket)'; run `checkpoint reset` to start over")
                }
                startAfter = String(done.dropFirst(base.count))
            }
        }
        let listPrefix = configuration.glob.map(Self.literalPrefix) ?? configuration.prefix
        var objects = try await client.list(prefix: listPrefix, startAfter: startAfter)
        if let glob = configuration.glob {
            objects = objects.filter { fnmatch(glob, $0.key, FNM_PATHNAME) == 0 }
        }
        if let window = request.window, windowField != .cursor {
            objects = try objects.filter { object throws(RunnelError) in try includes(object, window) }
        }
        let catalog = S3ObjectCatalog(client: client, objects: objects, chunkSize: configuration.chunkSize)
        let recordWindow = windowField == .cursor
        switch configuration.format {
        case .csv(let c): return try CSVExtractor(c).open(request, from: catalog, recordWindow: recordWindow)
        case .jsonl(let c): return try JSONLinesExtractor(c).open(request, from: catalog, recordWindow: recordWindow)
        case .decoded(_, let decoder, let cursor):
            let objects = objects.map { S3RangedObject(client: client, key: $0.key, objectSize: $0.size, etag: $0.etag) }
            var request = request
            if windowField != .cursor { request.window = nil }  // the window chose the objects
            return try decoder.open(request, objects: objects, inOrder: true, cursor: cursor)
        }
    }

    public func reparse(raw: String, origin: Origin) throws(RecordError) -> (Schema, [Value])? {
        switch configuration.format {
        case .csv(let c): try CSVExtractor(c).reparse(raw: raw, origin: origin)
        case .jsonl(let c): try JSONLinesExtractor(c).reparse(raw: raw, origin: origin)
        case .decoded: nil
        }
    }

    private func includes(_ object: S3Client.Object, _ window: Window) throws(RunnelError) -> Bool {
        if windowField == .key {
            if let from = window.from, object.key < from { return false }
            if let to = window.to, object.key >= to { return false }
            return true
        }
        func bound(_ text: String) throws(RunnelError) -> Timestamp {
            guard let t = TimestampFormat.iso8601.parse(text) else {
                throw RunnelError.config("--from/--to '\(text)' is not an ISO 8601 time (extract.window is last_modified)")
            }
            return t
        }
        guard let modified = object.lastModified else { return false }
        if let from = window.from, modified < (try bound(from)) { return false }
        if let to = window.to, !(modified < (try bound(to))) { return false }
        return true
    }

    /// The part of a glob before its first wildcard: `logs/2024-*/*.gz` lists `logs/2024-`.
    static func literalPrefix(_ glob: String) -> String {
        String(glob.prefix { !"*?[".contains($0) })
    }
}

/// An object read by range (for `PartDecoder`s): each read is one ranged GET checked against the
/// ETag the listing gave, so an object replaced mid-read is an error, never a mix of two versions.
struct S3RangedObject: RandomAccessObject {
    let client: S3Client
    let key: String
    let objectSize: Int64
    let etag: String?

    var name: String { client.url(key) }
    func size() async throws -> Int64 { objectSize }

    func read(offset: Int64, count: Int) async throws -> [UInt8] {
        let count = Int64(count) > objectSize - offset ? Int(max(0, objectSize - offset)) : count
        guard count > 0 else { return [] }
        return try await client.getRange(key, from: offset, count: Int64(count), etag: etag).body
    }
}
