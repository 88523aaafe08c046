/// The ordered field names shared by the records of a batch.
///
/// Stages resolve a field name to its position once per batch (`index(of:)`), then work on
/// positions: the per-record hot path never hashes a field name.
public final class Schema: Sendable, Hashable, CustomStringConvertible {
    public let fields: [String]
    private let positions: [String: Int]

    public init(_ fields: [String]) {
        self.fields = fields
        var positions: [String: Int] = [:]
        positions.reserveCapacity(fields.count)
        for (i, f) in fields.enumerated() where positions[f] == nil { positions[f] = i }
        self.positions = positions
    }

    public var count: Int { fields.count }
    public func index(of field: String) -> Int? { positions[field] }
    public func contains(_ field: String) -> Bool { positions[field] != nil }

    public static func == (a: Schema, b: Schema) -> Bool { a === b || a.fields == b.fields }
    public func hash(into h: inout Hasher) { h.combine(fields) }
    public var description: String { fields.joined(separator: ", ") }
}

/// One record: values aligned to its batch's `Schema`.
public struct Record: Sendable, Hashable {
    public var values: [Value]
    /// Index of this record in its batch's `sources`, kept through filters and rejects so a
    /// dead letter can carry the record as it was read.
    public var ordinal: Int

    public init(values: [Value], ordinal: Int) {
        self.values = values
        self.ordinal = ordinal
    }

    /// The record as an object, for envelopes and JSON output.
    public func object(_ schema: Schema) -> Object {
        Object(keys: Array(schema.fields.prefix(values.count)), values: Array(values.prefix(schema.count)))
    }
}

/// Where a record came from: a file line, a stream entry id, a table key.
public struct Origin: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file path, stream key or table the record was read from.
    public var source: String
    /// 1-based line number in a file.
    public var line: Int?
    /// Byte offset of the record in its file.
    public var offset: Int64?
    /// An identifier from the source: a stream entry id, a primary key.
    public var id: String?

    public init(source: String, line: Int? = nil, offset: Int64? = nil, id: String? = nil) {
        self.source = source
        self.line = line
        self.offset = offset
        self.id = id
    }

    /// A stable text naming this position (`orders.csv:41`, `orders#1700000000000-0`), used as the
    /// dead letter's idempotency key.
    public var description: String {
        var s = source
        if let line { s += ":\(line)" }
        if let id { s += "#\(id)" }
        return s
    }
}
