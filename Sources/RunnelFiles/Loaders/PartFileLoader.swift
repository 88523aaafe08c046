public import RunnelCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes each batch to its own part file in a directory, atomically (temporary file, fsync,
/// rename, fsync of the directory) and idempotently: the part's name comes from the batch's first
/// source position, so a batch replayed after a crash rewrites the same file with the same bytes.
public struct PartFileLoader: Loader {
    public enum Format: String, Sendable, CaseIterable {
        case jsonl, csv, parquet
    }

    public struct Configuration: Sendable {
        /// The output directory; created if missing.
        public var directory: String
        public var format: Format
        /// Part file names start with this. Default `part`.
        public var prefix: String = "part"
        public var dialect: CSVDialect = CSVDialect()
        /// Writes the parts of a format this module does not encode itself (`parquet`, from
        /// RunnelParquet); nil for `jsonl` and `csv`.
        public var encoder: (any PartEncoder)?

        public init(directory: String, format: Format) {
            self.directory = directory
            self.format = format
        }
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration) { self.configuration = configuration }

    public var target: String { "\(configuration.format.rawValue) files in \(configuration.directory)" }

    public func prepare(schema: Schema?) async throws {
        try makeDirectories(configuration.directory)
        AtomicFile.removeAbandoned(in: configuration.directory)
        if let encoder = configuration.encoder, encoder.resumesFromNewestPart, let newest = newestPart() {
            try await encoder.resume(from: LocalFileObject(path: configuration.directory + "/" + newest))
        }
    }

    /// The name of the part written last (by modification time, then name) among this loader's
    /// parts in the directory, or nil when there is none.
    func newestPart() -> String? {
        let head = configuration.prefix + "-"
        let tail = "." + configuration.format.rawValue
        var newest: (name: String, time: timespec)?
        for name in AtomicFile.names(in: configuration.directory) {
            guard name.hasPrefix(head), name.hasSuffix(tail) else { continue }
            var st = stat()
            guard stat(configuration.directory + "/" + name, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            let t = st.st_mtim
            if let n = newest, (n.time.tv_sec, n.time.tv_nsec, n.name) >= (t.tv_sec, t.tv_nsec, name) { continue }
            newest = (name, t)
        }
        return newest?.name
    }

    public var readsColumns: Bool { true }

    public func load(_ batch: Batch, commit: CheckpointCommit?) async throws -> LoadOutcome {
        guard let part = try encode(batch) else { return .stored }
        try AtomicFile.write(part.bytes, to: configuration.directory + "/" + part.name)
        return LoadOutcome(refused: part.refused)
    }

    /// The part of `batch`: its name (from the batch's first source position, so a replay gets
    /// the same one), its bytes, and the records the encoder refused (not in the bytes; the name
    /// is the batch's as read either way); nil for a batch without records. Used by object-store
    /// loaders too.
    public func encode(_ batch: Batch) throws -> (name: String, bytes: [UInt8], refused: [(ordinal: Int, error: RecordError)])? {
        guard let first = batch.firstOrdinal else { return nil }
        let name = partName(for: batch.origin(at: first))
        var batch = batch
        let refused = try configuration.encoder?.refuse(&batch) ?? []
        var bytes: [UInt8] = []
        bytes.reserveCapacity(batch.byteCount + 1024)
        switch configuration.format {
        case .jsonl:
            if let data = batch.columnar {
                JSONColumnsWriter.writeLines(batch.schema, data, into: &bytes)
                break
            }
            let keys = batch.schema.fields
            for r in batch.records {
                JSONText.write(.object(Object(keys: keys, values: r.values)), into: &bytes)
                bytes.append(0x0A)
            }
        case .csv:
            var batch = batch
            batch.makeRows()
            CSVWriter.appendRow(batch.schema.fields, dialect: configuration.dialect, into: &bytes)
            for r in batch.records {
                CSVWriter.appendRow(r.values.map(\.text), dialect: configuration.dialect, into: &bytes)
            }
        case .parquet:
            guard let encoder = configuration.encoder else {
                throw RunnelError.config("format: parquet needs RunnelParquet's encoder (the Parquet trait)")
            }
            bytes = try encoder.encode(batch)
        }
        return (name, bytes, refused)
    }

    /// `part-orders.csv-000000000042.jsonl`: sortable, stable for the same batch.
    public func partName(for origin: Origin) -> String {
        let base = origin.source.split(separator: "/").last.map(String.init) ?? "input"
        var locator: String
        if let line = origin.line {
            let digits = String(line)
            locator = String(repeating: "0", count: max(0, 12 - digits.count)) + digits
        } else {
            locator = origin.id ?? "0"
        }
        let safe = { (s: String) in String(s.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" }) }
        locator = safe(locator)
        return "\(configuration.prefix)-\(safe(base))-\(locator).\(configuration.format.rawValue)"
    }
}

extension PartFileLoader: InfersColumnTypes {
    /// Parquet parts type their columns from what the stages declare (casts) before any batch
    /// is seen, so a first batch where a field is null throughout still gets its type.
    public func inferringColumnTypes(_ types: [String: PortableType]) -> (loader: any Loader, description: String)? {
        guard !types.isEmpty, let (encoder, description) = configuration.encoder?.declaring(types) else { return nil }
        var c = configuration
        c.encoder = encoder
        return (PartFileLoader(c), description)
    }
}

/// Whole-file writes that a crash can never leave half done.
public enum AtomicFile {
    /// Removes the temporary files of writers that are gone (`.tmp-<pid>-…` whose process does
    /// not exist: a run killed between creating its temporary file and renaming it), so that a
    /// restarted run leaves only whole parts. A live writer's file is left alone.
    public static func removeAbandoned(in directory: String) {
        for name in names(in: directory) {
            guard name.hasPrefix(".tmp-"), let pid = Int32(name.dropFirst(5).prefix { $0.isNumber }) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(directory + "/" + name) }
        }
    }

    /// The names of a directory's entries (none when it cannot be read).
    static func names(in directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            names.append(withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) })
        }
        return names
    }

    public static func write(_ bytes: [UInt8], to path: String) throws(RunnelError) {
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let tmp = (dir.isEmpty ? "." : dir) + "/.tmp-\(getpid())-" + (path.split(separator: "/").last.map(String.init) ?? "out")
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw RunnelError.io("cannot create '\(tmp)'", errno: errno) }
        var written = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += n
            }
            return fsync(fd) == 0
        }
        let writeError = errno
        close(fd)
        guard ok else {
            unlink(tmp)
            throw RunnelError.io("cannot write '\(path)'", errno: writeError)
        }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw RunnelError.io("cannot rename into '\(path)'", errno: e)
        }
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }
}

/// `mkdir -p`.
public func makeDirectories(_ path: String) throws(RunnelError) {
    var current = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
        current += "/" + part
        if mkdir(current, 0o755) != 0 && errno != EEXIST {
            throw RunnelError.io("cannot create directory '\(current)'", errno: errno)
        }
    }
}
