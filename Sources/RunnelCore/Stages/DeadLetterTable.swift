/// The dead letter table of the SQL stores: one column list and one row codec, so SQLite and
/// PostgreSQL keep only their SQL. One row per (pipeline, key): a replay updates its row.
public enum DeadLetterTable {
    /// What a column holds; each dialect names the type.
    public enum Kind: Sendable {
        case text, integer, json, timestamp
    }

    public struct Column: Sendable {
        public let name: String
        public let kind: Kind
        public let nullable: Bool
    }

    /// Every column, in the order of `DeadLetter.row`.
    public static let columns: [Column] = [
        .init(name: "pipeline", kind: .text, nullable: false), .init(name: "key", kind: .text, nullable: false),
        .init(name: "run_id", kind: .text, nullable: false), .init(name: "stage", kind: .text, nullable: false),
        .init(name: "error_code", kind: .text, nullable: false), .init(name: "error", kind: .text, nullable: false),
        .init(name: "field", kind: .text, nullable: true), .init(name: "attempts", kind: .integer, nullable: false),
        .init(name: "source", kind: .text, nullable: false), .init(name: "line", kind: .integer, nullable: true),
        .init(name: "offset", kind: .integer, nullable: true), .init(name: "source_id", kind: .text, nullable: true),
        .init(name: "record", kind: .json, nullable: true), .init(name: "raw", kind: .text, nullable: true),
        .init(name: "first_seen", kind: .timestamp, nullable: false), .init(name: "last_seen", kind: .timestamp, nullable: false),
    ]

    /// The columns `DeadLetter(pipeline:row:)` reads, in order (a list query selects these).
    public static let readColumns = [
        "run_id", "stage", "error_code", "error", "field", "attempts", "source", "line", "offset", "source_id", "record", "raw",
        "last_seen",
    ]

    /// `CREATE TABLE IF NOT EXISTS` for `table` (already quoted) with the dialect's type names.
    public static func createSQL(table: String, quote: (String) -> String, type: (Kind) -> String) -> String {
        let defs = columns.map { c in "\(quote(c.name)) \(type(c.kind))" + (c.nullable ? "" : " NOT NULL") }
        return "CREATE TABLE IF NOT EXISTS \(table) (\(defs.joined(separator: ", ")), PRIMARY KEY (pipeline, key))"
    }

    /// The column list, quoted, for INSERT and SELECT.
    public static func names(_ list: [String], quote: (String) -> String) -> String { list.map(quote).joined(separator: ", ") }
}

extension DeadLetter {
    /// The letter as a row of `DeadLetterTable.columns`: the record as JSON text, both times
    /// the letter's time (an update keeps `first_seen`).
    public var row: [Value] {
        [
            .string(pipeline), .string(key), .string(runID), .string(stage), .string(errorCode), .string(message),
            field.map(Value.string) ?? .null, .int(Int64(attempts)), .string(origin.source),
            origin.line.map { .int(Int64($0)) } ?? .null, origin.offset.map(Value.int) ?? .null,
            origin.id.map(Value.string) ?? .null, record.map { .string(JSONText.encode(.object($0))) } ?? .null,
            raw.map(Value.string) ?? .null, .timestamp(time), .timestamp(time),
        ]
    }

    /// Reads a row of `DeadLetterTable.readColumns`. Times may come as timestamps or ISO 8601 text.
    public init(pipeline: String, row r: [Value]) {
        func s(_ i: Int) -> String? { if i < r.count, case .string(let v) = r[i] { v } else { nil } }
        func n(_ i: Int) -> Int64? { if i < r.count, case .int(let v) = r[i] { v } else { nil } }
        var record: Object?
        if let text = s(10), case .object(let o)? = try? JSONText.parse(text) { record = o }
        var time = Timestamp.now
        if r.count > 12, case .timestamp(let t) = r[12] { time = t } else if let t = s(12).flatMap(TimestampFormat.iso8601.parse) { time = t }
        self.init(
            pipeline: pipeline, runID: s(0) ?? "", stage: s(1) ?? "", errorCode: s(2) ?? "", message: s(3) ?? "",
            field: s(4), attempts: Int(n(5) ?? 1),
            origin: Origin(source: s(6) ?? "", line: n(7).map(Int.init), offset: n(8), id: s(9)),
            record: record, raw: s(11), time: time)
    }
}

extension DeadLetter {
    /// `existing` with `letters` written over it by key (a replayed letter replaces its row and
    /// keeps the higher attempt count), in first-seen order: the merge of stores that rewrite a
    /// whole file or object of envelopes.
    public static func merging(_ letters: [DeadLetter], into existing: [DeadLetter]) -> [DeadLetter] {
        var all = existing
        var index: [String: Int] = [:]
        for (i, l) in all.enumerated() { index[l.key] = i }
        for l in letters {
            if let i = index[l.key] {
                var merged = l
                merged.attempts = max(all[i].attempts, l.attempts)
                all[i] = merged
            } else {
                index[l.key] = all.count
                all.append(l)
            }
        }
        return all
    }
}

extension DeadLetter {
    /// Letters as JSON Lines of envelopes: the form of the file and object stores.
    public static func envelopeLines(_ letters: [DeadLetter]) -> [UInt8] {
        var bytes: [UInt8] = []
        for l in letters {
            JSONText.write(l.envelope, into: &bytes)
            bytes.append(0x0A)
        }
        return bytes
    }

    /// Reads JSON Lines of envelopes written by `envelopeLines`. A line that is not an envelope
    /// is a data-contract error naming `source` and the line: a retry cannot mend it.
    public static func envelopes(in bytes: [UInt8], source: String, limit: Int?) throws(RunnelError) -> [DeadLetter] {
        var letters: [DeadLetter] = []
        for (n, line) in bytes.split(separator: 0x0A).enumerated() {
            guard let v = try? JSONText.parse(Array(line)), let l = DeadLetter(envelope: v) else {
                throw RunnelError.dataContract("\(source):\(n + 1): not a dead letter envelope")
            }
            letters.append(l)
            if let limit, letters.count >= limit { break }
        }
        return letters
    }
}
