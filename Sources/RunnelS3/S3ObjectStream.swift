import RunnelCore
import NIOHTTP1
import RunnelFiles

/// The objects an S3 extractor reads, listed once at open, as a catalog for the same
/// `FileBatchReader` that reads local files.
struct S3ObjectCatalog: InputCatalog {
    let client: S3Client
    let objects: [S3Client.Object]
    let chunkSize: Int
    /// Input names are `s3://bucket/key`, so dead letters and checkpoints name the object fully.
    var names: [String] { objects.map { client.url($0.key) } }
    private let byName: [String: S3Client.Object]

    init(client: S3Client, objects: [S3Client.Object], chunkSize: Int) {
        self.client = client
        self.objects = objects
        self.chunkSize = chunkSize
        var byName: [String: S3Client.Object] = [:]
        for o in objects { byName[client.url(o.key)] = o }
        self.byName = byName
    }

    func storedSize(of name: String) -> Int64? { byName[name]?.size }

    func open(_ name: String) async throws(RunnelError) -> any ByteStream {
        guard let object = byName[name] else { throw RunnelError.failure("'\(name)' is not in the listing") }
        return try await S3ObjectStream.open(client: client, object: object, chunkSize: chunkSize)
    }

    /// Keys are listed in order and the listing starts after the last finished key.
    var completesInOrder: Bool { true }
}

/// One object read as a stream of ranged GETs, one chunk ahead: memory is two chunks (and
/// zlib's window for gzip) whatever the object's size, and a request that fails mid-object is
/// retried from its own range, never from the start.
final class S3ObjectStream: ByteStream {
    private let client: S3Client
    private let object: S3Client.Object
    private let chunkSize: Int64
    /// The next stored byte not yet requested.
    private var nextFetch: Int64 = 0
    private var pending: Task<[UInt8], any Error>?
    /// Stored bytes received and not yet used.
    private var chunk: [UInt8] = []
    private var chunkStart = 0
    /// Stored bytes used so far.
    private var storedRead: Int64 = 0
    private var inflater: GzipInflater?
    /// Decompressed offset of the next byte `read` returns.
    private var offset: Int64 = 0

    private init(client: S3Client, object: S3Client.Object, chunkSize: Int) {
        self.client = client
        self.object = object
        self.chunkSize = Int64(max(chunkSize, 64 << 10))
    }

    deinit { pending?.cancel() }

    /// Opens an object: the first chunk is fetched now, and its `Content-Encoding` (or a `.gz`
    /// name) decides whether the bytes are gunzipped.
    static func open(client: S3Client, object: S3Client.Object, chunkSize: Int) async throws(RunnelError) -> S3ObjectStream {
        let s = S3ObjectStream(client: client, object: object, chunkSize: chunkSize)
        var gzip = object.key.hasSuffix(".gz") || object.key.hasSuffix(".gzip")
        if object.size > 0 {
            let count = min(s.chunkSize, object.size)
            let first = try await client.getRange(object.key, from: 0, count: count, etag: object.etag)
            if first.headers.first(name: "content-encoding")?.lowercased().contains("gzip") == true { gzip = true }
            s.chunk = first.body
            s.nextFetch = Int64(first.body.count)
            s.prefetch()
        }
        if gzip { s.inflater = try GzipInflater(name: client.url(object.key)) }
        return s
    }

    var storedOffset: Int64? { inflater == nil ? nil : storedRead }

    func read(into buffer: inout [UInt8], count: Int) async throws(RunnelError) -> Int {
        while true {
            if chunkStart >= chunk.count {
                guard try await nextChunk() else {
                    if let inflater, !inflater.atMemberEnd {
                        throw RunnelError.failure("cannot decompress '\(client.url(object.key))': the gzip stream ends early (is the object truncated?)")
                    }
                    return 0
                }
            }
            if let inflater {
                let before = buffer.count
                let used = try inflater.inflate(chunk, from: chunkStart, into: &buffer, capacity: count)
                chunkStart += used
                storedRead += Int64(used)
                let produced = buffer.count - before
                offset += Int64(produced)
                if produced > 0 { return produced }
                if used == 0 && chunkStart < chunk.count {
                    throw RunnelError.failure("cannot decompress '\(client.url(object.key))': zlib made no progress")
                }
            } else {
                let n = min(count, chunk.count - chunkStart)
                buffer.append(contentsOf: chunk[chunkStart..<(chunkStart + n)])
                chunkStart += n
                storedRead += Int64(n)
                offset += Int64(n)
                return n
            }
        }
    }

    func seek(to target: Int64) async throws(RunnelError) {
        guard target != offset else { return }
        if inflater == nil {
            // Plain objects: skip inside the chunk at hand, or start a new range at the target.
            if target > offset, target - offset <= Int64(chunk.count - chunkStart) {
                chunkStart += Int(target - offset)
            } else {
                restart(at: min(target, object.size))
            }
            storedRead = target
            offset = target
            return
        }
        // gzip cannot start mid-stream: decompress from the start up to the target, dropping the bytes.
        if target < offset {
            restart(at: 0)
            inflater = try GzipInflater(name: client.url(object.key))
            storedRead = 0
            offset = 0
        }
        var scratch: [UInt8] = []
        while offset < target {
            scratch.removeAll(keepingCapacity: true)
            if try await read(into: &scratch, count: Int(min(target - offset, 1 << 20))) == 0 {
                throw RunnelError.failure("'\(client.url(object.key))' is shorter than the checkpoint's offset \(target); run `checkpoint reset` if it was replaced")
            }
        }
    }

    /// Drops what was fetched and starts fetching at stored byte `from`.
    private func restart(at from: Int64) {
        pending?.cancel()
        pending = nil
        chunk = []
        chunkStart = 0
        nextFetch = from
        prefetch()
    }

    /// Moves the prefetched chunk in and asks for the one after it; false at the end.
    private func nextChunk() async throws(RunnelError) -> Bool {
        guard let task = pending else { return false }
        pending = nil
        do {
            chunk = try await task.value
        } catch {
            throw RunnelError.classify(error)
        }
        chunkStart = 0
        prefetch()
        return true
    }

    private func prefetch() {
        guard nextFetch < object.size else { return }
        let from = nextFetch
        let count = min(chunkSize, object.size - from)
        nextFetch += count
        let client = client
        let key = object.key
        let etag = object.etag
        // One request in flight while the reader parses the chunk before it; the task is
        // awaited (or cancelled) by this stream, never left running on its own.
        pending = Task { try await client.getRange(key, from: from, count: count, etag: etag).body }
    }
}
