/// A rejected record, kept as data: what it was, where it came from, and why it was rejected.
public struct DeadLetter: Sendable, Hashable {
    public var pipeline: String
    public var runID: String
    /// The stage that rejected it: `extract`, `transform:cast`, `validate:amount`, ...
    public var stage: String
    public var errorCode: String
    public var message: String
    public var field: String?
    /// How many times this record has been rejected (a redrive that fails again adds one).
    public var attempts: Int
    public var origin: Origin
    /// The record as it was read; nil when the input could not be parsed.
    public var record: Object?
    /// The raw input where there is one.
    public var raw: String?
    public var time: Timestamp

    public init(
        pipeline: String, runID: String, stage: String, errorCode: String, message: String,
        field: String? = nil, attempts: Int = 1, origin: Origin, record: Object?, raw: String?, time: Timestamp
    ) {
        self.pipeline = pipeline
        self.runID = runID
        self.stage = stage
        self.errorCode = errorCode
        self.message = message
        self.field = field
        self.attempts = attempts
        self.origin = origin
        self.record = record
        self.raw = raw
        self.time = time
    }

    /// The idempotency key: one dead letter per source position and pipeline.
    public var key: String { origin.description }

    /// The envelope as a JSON object, the form used by file and stream dead letter queues.
    public var envelope: Value {
        var o = Object()
        o.set("pipeline", .string(pipeline))
        o.set("run_id", .string(runID))
        o.set("stage", .string(stage))
        o.set("error_code", .string(errorCode))
        o.set("error", .string(message))
        o.set("field", field.map(Value.string) ?? .null)
        o.set("attempts", .int(Int64(attempts)))
        o.set("source", .string(origin.source))
        o.set("line", origin.line.map { .int(Int64($0)) } ?? .null)
        o.set("offset", origin.offset.map { .int($0) } ?? .null)
        o.set("id", origin.id.map(Value.string) ?? .null)
        o.set("record", record.map(Value.object) ?? .null)
        o.set("raw", raw.map(Value.string) ?? .null)
        o.set("time", .timestamp(time))
        return .object(o)
    }

    /// Reads an envelope written by `envelope`.
    public init?(envelope value: Value) {
        guard case .object(let o) = value,
            case .string(let pipeline)? = o["pipeline"],
            case .string(let stage)? = o["stage"],
            case .string(let source)? = o["source"]
        else { return nil }
        func string(_ k: String) -> String? {
            if case .string(let s)? = o[k] { return s }
            return nil
        }
        func int(_ k: String) -> Int64? {
            if case .int(let i)? = o[k] { return i }
            return nil
        }
        var record: Object?
        if case .object(let r)? = o["record"] { record = r }
        var time = Timestamp(microseconds: 0)
        if case .timestamp(let t)? = o["time"] { time = t }
        if let text = string("time"), let t = TimestampFormat.iso8601.parse(text) { time = t }
        self.init(
            pipeline: pipeline, runID: string("run_id") ?? "", stage: stage,
            errorCode: string("error_code") ?? "", message: string("error") ?? "", field: string("field"),
            attempts: Int(int("attempts") ?? 1),
            origin: Origin(source: source, line: int("line").map(Int.init), offset: int("offset"), id: string("id")),
            record: record, raw: string("raw"), time: time)
    }
}

/// Parks rejected records. Writes are idempotent by (pipeline, `DeadLetter.key`), so a batch
/// replayed after a crash does not park its rejects twice.
public protocol DeadLetterQueue: Sendable {
    /// Creates the queue's storage (a table) before the first batch, with the loader's target, so
    /// that a clean load leaves an empty queue to query rather than none.
    func prepare() async throws
    func write(_ letters: [DeadLetter]) async throws
    /// The parked records of a pipeline, oldest first.
    func list(pipeline: String, limit: Int?) async throws -> [DeadLetter]
    /// Removes the letters with these keys (after a successful redrive).
    func remove(pipeline: String, keys: [String]) async throws
    /// Where letters go, for logs and `--dry-run`. Never contains a secret.
    var target: String { get }
}

extension DeadLetterQueue {
    public func prepare() async throws {}

    /// How many letters the pipeline has parked, by error code, most frequent first. This
    /// default reads every letter; a queue that can count in place should.
    public func counts(pipeline: String) async throws -> [(code: String, count: Int)] {
        var byCode: [String: Int] = [:]
        for l in try await list(pipeline: pipeline, limit: nil) { byCode[l.errorCode, default: 0] += 1 }
        return byCode.map { (code: $0.key, count: $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.code < $1.code }
    }
}
