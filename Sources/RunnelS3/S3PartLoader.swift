public import RunnelCore
public import RunnelFiles

/// Writes each batch as one object (a JSON Lines or CSV part, gzip optional), named from the
/// batch's first source position exactly as the local part-file loader names its files, so a
/// batch replayed after a crash overwrites the same object with the same bytes.
///
/// A part larger than `partSize` goes up as a multipart upload; an upload that fails is aborted
/// at once, and uploads a killed run left open under the prefix are aborted at the next start,
/// so no invisible, billed parts pile up.
public struct S3PartLoader: Loader {
    public struct Configuration: Sendable {
        /// Key prefix of the parts (`out/orders/`); a `/` is added when missing.
        public var prefix: String
        public var format: PartFileLoader.Format
        /// gzip the parts (`.gz` is appended to their names). Default false.
        public var gzip: Bool = false
        /// Part names start with this. Default `part`.
        public var namePrefix: String = "part"
        /// Bodies above this go up in parts of this size (S3's minimum is 5 MiB). Default 8 MiB.
        public var partSize: Int = 8 << 20
        /// Open uploads under the prefix older than this are aborted when a run starts
        /// (a killed run's). Default 15 minutes, well past any one part's upload.
        public var abandonedUploadAge: Duration = .seconds(900)
        /// The encoder of `parquet` parts (RunnelParquet's, through the registry); nil for jsonl and csv.
        public var encoder: (any PartEncoder)?

        public init(prefix: String, format: PartFileLoader.Format) {
            self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
            self.format = format
        }
    }

    public let configuration: Configuration
    public let client: S3Client
    private let encoder: PartFileLoader

    public init(_ configuration: Configuration, client: S3Client) {
        self.configuration = configuration
        self.client = client
        var c = PartFileLoader.Configuration(directory: "", format: configuration.format)
        c.prefix = configuration.namePrefix
        c.encoder = configuration.encoder
        encoder = PartFileLoader(c)
    }

    public var target: String {
        "\(configuration.format.rawValue)\(configuration.gzip ? ".gz" : "") parts in \(client.url(configuration.prefix))"
            + (client.configuration.endpoint.map { " at \($0)" } ?? "")
    }

    public func prepare(schema: Schema?) async throws {
        let cutoff = Timestamp.now.microseconds - Int64(configuration.abandonedUploadAge.nanoseconds / 1000)
        for upload in try await client.listMultipartUploads(prefix: configuration.prefix)
        where (upload.initiated?.microseconds ?? 0) <= cutoff {
            try await client.abortMultipartUpload(upload.key, uploadID: upload.uploadID)
        }
        if let encoder = configuration.encoder, encoder.resumesFromNewestPart, !configuration.gzip {
            // The part written last: by the time the store gives (whole seconds in many stores),
            // then by name. One listing of the prefix per start.
            let head = configuration.prefix + configuration.namePrefix + "-"
            let tail = "." + configuration.format.rawValue
            let newest = try await client.list(prefix: head)
                .filter { $0.key.hasSuffix(tail) }
                .max { ($0.lastModified?.microseconds ?? 0, $0.key) < ($1.lastModified?.microseconds ?? 0, $1.key) }
            if let newest {
                try await encoder.resume(from: S3RangedObject(client: client, key: newest.key, objectSize: newest.size, etag: newest.etag))
            }
        }
    }

    public func load(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome {
        guard let (name, bytes, refused) = try encoder.encode(batch) else { return .stored }
        let key = configuration.prefix + name + (configuration.gzip ? ".gz" : "")
        let body = configuration.gzip ? try Gzip.compress(bytes) : bytes
        let contentType =
            switch configuration.format {
            case .csv: "text/csv"
            case .jsonl: "application/x-ndjson"
            case .parquet: "application/vnd.apache.parquet"
            }
        guard body.count > configuration.partSize else {
            try await client.put(key, body: body, contentType: contentType)
            return LoadOutcome(refused: refused)
        }
        try await uploadInParts(key, body: body, contentType: contentType)
        return LoadOutcome(refused: refused)
    }

    private func uploadInParts(_ key: String, body: [UInt8], contentType: String) async throws {
        let id = try await client.createMultipartUpload(key, contentType: contentType)
        do {
            var etags: [String] = []
            var start = 0
            while start < body.count {
                let end = min(start + configuration.partSize, body.count)
                etags.append(try await client.uploadPart(key, uploadID: id, number: etags.count + 1, body: Array(body[start..<end])))
                start = end
            }
            try await client.completeMultipartUpload(key, uploadID: id, parts: etags)
        } catch {
            // Best effort: if even the abort fails, the next run's `prepare` aborts it.
            try? await client.abortMultipartUpload(key, uploadID: id)
            throw error
        }
    }
}

/// Dead letters as one JSON Lines object per pipeline (`PREFIX/PIPELINE.dead-letters.jsonl`).
/// Writes merge by key and replace the object whole, so a replayed batch parks nothing twice.
public struct S3DeadLetterQueue: DeadLetterQueue {
    public let client: S3Client
    public let prefix: String

    public init(client: S3Client, prefix: String) {
        self.client = client
        self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
    }

    public var target: String { "jsonl dead letters in \(client.url(prefix))" }

    private func key(_ pipeline: String) -> String { "\(prefix)\(pipeline).dead-letters.jsonl" }

    public func write(_ letters: [DeadLetter]) async throws {
        guard let pipeline = letters.first?.pipeline else { return }
        let all = DeadLetter.merging(letters, into: try await list(pipeline: pipeline, limit: nil))
        try await save(all, pipeline: pipeline)
    }

    public func list(pipeline: String, limit: Int?) async throws -> [DeadLetter] {
        guard let bytes = try await client.getSmall(key(pipeline)) else { return [] }
        return try DeadLetter.envelopes(in: bytes, source: client.url(key(pipeline)), limit: limit)
    }

    public func remove(pipeline: String, keys: [String]) async throws {
        let drop = Set(keys)
        let kept = try await list(pipeline: pipeline, limit: nil).filter { !drop.contains($0.key) }
        try await save(kept, pipeline: pipeline)
    }

    private func save(_ letters: [DeadLetter], pipeline: String) async throws {
        try await client.put(key(pipeline), body: DeadLetter.envelopeLines(letters), contentType: "application/x-ndjson")
    }
}

extension S3PartLoader: InfersColumnTypes {
    /// As the local part-file loader: Parquet parts type their columns from the stages' casts.
    public func inferringColumnTypes(_ types: [String: PortableType]) -> (loader: any Loader, description: String)? {
        guard !types.isEmpty, let (encoder, description) = configuration.encoder?.declaring(types) else { return nil }
        var c = configuration
        c.encoder = encoder
        return (S3PartLoader(c, client: client), description)
    }
}
