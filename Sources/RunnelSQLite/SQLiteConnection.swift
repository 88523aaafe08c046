import CSQLite
public import RunnelCore

#if canImport(Glibc)
    import Glibc
#endif

/// A raw SQLite connection with a prepared-statement cache.
///
/// `@unchecked Sendable`: it is reachable only through `SQLiteDatabase.withConnection`, which
/// holds the database's mutex for the whole call, so it is never used by two threads at once
/// (and it is opened with SQLITE_OPEN_NOMUTEX because that mutex is the serialization).
public final class SQLiteConnection: @unchecked Sendable {
    let db: OpaquePointer
    let path: String
    private var statements: [String: SQLiteStatement] = [:]

    /// Process-wide SQLite settings, applied once before the first connection opens.
    private static let configured: Void = {
        // Memory statistics take a global mutex on every allocation; nothing here reads them.
        _ = sqlite3_config_memstatus(0)
    }()

    init(configuration: SQLiteDatabase.Configuration) throws(RunnelError) {
        _ = Self.configured
        path = configuration.path
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !dir.isEmpty { Self.makeDirectory(dir) }
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "error \(rc)"
            if let handle { sqlite3_close_v2(handle) }
            throw Self.classify(rc, "cannot open SQLite database '\(configuration.path)': \(message)")
        }
        db = handle
        sqlite3_busy_timeout(db, Int32(configuration.busyTimeoutMilliseconds))
        sqlite3_extended_result_codes(db, 1)
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=\(configuration.synchronous)")
        // A negative cache_size is in KiB.
        try execute("PRAGMA cache_size=-\(max(1024, configuration.cacheBytes >> 10))")
    }

    deinit {
        for s in statements.values { s.finalize() }
        sqlite3_close_v2(db)
    }

    /// Runs SQL that returns no rows.
    public func execute(_ sql: String) throws(RunnelError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(message)
            throw error(rc, text, sql: sql)
        }
    }

    /// How many parameters a statement may have (SQLITE_MAX_VARIABLE_NUMBER as built: 999 before
    /// SQLite 3.32, 32,766 since).
    public var variableLimit: Int { Int(sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, -1)) }

    /// A cached prepared statement for `sql`, reset and unbound.
    public func statement(_ sql: String) throws(RunnelError) -> SQLiteStatement {
        if let s = statements[sql] {
            s.reset()
            return s
        }
        var handle: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard rc == SQLITE_OK, let handle else {
            throw error(rc, String(cString: sqlite3_errmsg(db)), sql: sql)
        }
        let s = SQLiteStatement(handle: handle, connection: self)
        statements[sql] = s
        return s
    }

    /// Rows of a query as values, for small reads (checkpoints, table info, dead letters).
    public func query(_ sql: String, _ parameters: [Value] = []) throws(RunnelError) -> [[Value]] {
        let s = try statement(sql)
        for (i, p) in parameters.enumerated() { s.bind(p, at: Int32(i + 1)) }
        var rows: [[Value]] = []
        while try s.step() {
            rows.append((0..<s.columnCount).map { s.column($0) })
        }
        s.reset()
        return rows
    }

    func error(_ rc: Int32, _ message: String, sql: String? = nil) -> RunnelError {
        Self.classify(rc, "SQLite '\(path)': \(message)")
    }

    /// Classifies an SQLite result code by whether a retry can succeed: a lock held too long is
    /// transient (retried); an I/O error or a full disk may pass (exit 1); a path that cannot be
    /// opened or written is the spec's or the volume's (exit 2); a damaged file, a constraint or
    /// type violation, or SQL the table cannot take fails the same way every time (exit 3).
    static func classify(_ rc: Int32, _ text: String) -> RunnelError {
        switch rc & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: RunnelError.transient(text)
        case SQLITE_NOTADB, SQLITE_CORRUPT: RunnelError.dataContract("\(text) (the file is not a readable SQLite database)")
        case SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH: RunnelError.config(text)
        case SQLITE_CONSTRAINT, SQLITE_MISMATCH, SQLITE_TOOBIG, SQLITE_RANGE, SQLITE_ERROR, SQLITE_SCHEMA:
            RunnelError.dataContract(text)
        default: RunnelError.failure(text)
        }
    }

    private static func makeDirectory(_ dir: String) {
        var current = dir.hasPrefix("/") ? "" : "."
        for part in dir.split(separator: "/") {
            current += "/" + part
            mkdir(current, 0o755)
        }
    }
}

/// A prepared statement. Binding and reading map `Value` to SQLite's types.
public final class SQLiteStatement {
    let handle: OpaquePointer
    unowned let connection: SQLiteConnection
    /// SQLite must copy text we bind from Swift strings, whose storage it does not own.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    func finalize() { sqlite3_finalize(handle) }

    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    public func bind(_ value: Value, at index: Int32) {
        switch value {
        case .null: sqlite3_bind_null(handle, index)
        case .bool(let b): sqlite3_bind_int64(handle, index, b ? 1 : 0)
        case .int(let i): sqlite3_bind_int64(handle, index, i)
        // ±infinity is a REAL in SQLite (a derived value can overflow: readers reject it in the
        // input); only NaN, which SQLite itself stores as NULL, has no value to keep.
        case .double(let d): sqlite3_bind_double(handle, index, d)
        case .string(let s): bindText(s, at: index)
        case .timestamp(let t): bindText(SQLiteText.timestamp(t), at: index)
        case .array, .object: bindText(JSONText.encode(value), at: index)
        }
    }

    private func bindText(_ s: String, at index: Int32) {
        var s = s
        s.withUTF8 { buf in
            if let base = buf.baseAddress {
                let text = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
                sqlite3_bind_text(handle, index, text, Int32(buf.count), Self.transient)
            } else {
                sqlite3_bind_text(handle, index, "", 0, Self.transient)
            }
        }
    }

    /// Binds `values[positions[i]]` to parameter `i + 1` (null where the position is nil) and
    /// steps once. Text is bound without copying (SQLITE_STATIC): each string's bytes stay valid
    /// because the step runs inside the closures that lend them.
    public func bindAndStep(_ values: [Value], positions: [Int?]) throws {
        try bindAndStep(values, positions, 0)
    }

    private func bindAndStep(_ values: [Value], _ positions: [Int?], _ i: Int) throws {
        guard i < positions.count else {
            try step()
            return
        }
        let value = positions[i].map { values[$0] } ?? .null
        let index = Int32(i + 1)
        switch value {
        case .string(var text):
            try text.withUTF8 { buf in
                if let base = buf.baseAddress {
                    sqlite3_bind_text(handle, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(buf.count), nil)
                } else {
                    sqlite3_bind_text(handle, index, "", 0, Self.transient)
                }
                try bindAndStep(values, positions, i + 1)
            }
        case .timestamp(let t):
            var text = SQLiteText.timestamp(t)
            try text.withUTF8 { buf in
                sqlite3_bind_text(handle, index, UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(buf.count), nil)
                try bindAndStep(values, positions, i + 1)
            }
        default:
            bind(value, at: index)
            try bindAndStep(values, positions, i + 1)
        }
    }

    /// Steps once; true when a row is available.
    @discardableResult
    public func step() throws(RunnelError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            throw connection.error(rc, String(cString: sqlite3_errmsg(connection.db)))
        }
    }

    public var columnCount: Int32 { sqlite3_column_count(handle) }

    public func column(_ i: Int32) -> Value {
        switch sqlite3_column_type(handle, i) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .int(sqlite3_column_int64(handle, i))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(handle, i))
        default:
            guard let p = sqlite3_column_text(handle, i) else { return .null }
            let n = Int(sqlite3_column_bytes(handle, i))
            return .string(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self))
        }
    }
}

/// How values are written as SQLite text.
enum SQLiteText {
    /// ISO 8601 in its shortest exact form (`2013-01-01T10:00:00Z`, `…:00.25Z`), as the input
    /// usually had it; SQLite's date functions read it. Such text does not sort as time (`…:00Z`
    /// sorts after `…:00.5Z`), so comparisons go through `sortable(_:)`.
    static func timestamp(_ t: Timestamp) -> String { t.iso8601 }

    /// An SQL expression that turns `expression` into text that sorts as time when it holds a
    /// timestamp this loader wrote (in any fraction width, including the fixed six digits older
    /// versions wrote), and leaves every other value as it is: `…:00Z` and `…:00.5Z` become
    /// `…:00.000000Z` and `…:00.500000Z`. Used by version guards, on conflicting rows only.
    static func sortable(_ expression: String) -> String {
        let x = expression
        let civil = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
        return "(CASE WHEN typeof(\(x)) = 'text' AND substr(\(x), 1, 19) GLOB '\(civil)' AND \(x) GLOB '*Z' THEN "
            + "(CASE WHEN length(\(x)) = 20 THEN substr(\(x), 1, 19) || '.000000Z' "
            + "WHEN substr(\(x), 20, 1) = '.' AND length(\(x)) <= 27 THEN substr(substr(\(x), 1, length(\(x)) - 1) || '000000', 1, 26) || 'Z' "
            + "ELSE \(x) END) ELSE \(x) END)"
    }

    /// Checks that `identifier` can be an SQLite name: anything but NUL, which ends SQL text for
    /// SQLite's tokenizer (a name holding one would cut the statement short). `role` says what it
    /// names, for the error.
    static func checkIdentifier(_ identifier: String, role: String) throws(RunnelError) {
        if identifier.utf8.contains(0) {
            throw RunnelError.dataContract("\(role) \(identifier.debugDescription) holds a NUL character, which SQLite names cannot hold")
        }
    }

    /// A double-quoted identifier; any character but NUL (see `checkIdentifier`) is kept as it is.
    static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences("\"", with: "\"\"") + "\""
    }

    /// A single-quoted string literal.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences("'", with: "''") + "'"
    }
}

extension String {
    func replacingOccurrences(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
