/// Applies a per-value function to the named fields (all fields when none are named).
/// Null values are left alone.
public struct MapTransformer: Transformer {
    public enum Operation: String, Sendable, CaseIterable {
        case trim, lowercase, uppercase
        /// SHA-256 hex of the value's text, for masking PII.
        case hash
    }

    public let operation: Operation
    public let fields: [String]?
    /// Prepended to the text before hashing, so masked values cannot be looked up in a table of
    /// hashes of common values.
    public let salt: String
    public var name: String { operation.rawValue }
    public var readsColumns: Bool { true }

    public init(_ operation: Operation, fields: [String]?, salt: String = "") {
        self.operation = operation
        self.fields = fields
        self.salt = salt
    }

    public func apply(to batch: inout Batch) throws {
        let positions = try fields.map { try batch.positions(of: $0, stage: name) } ?? Array(batch.schema.fields.indices)
        if batch.columnar != nil { return applyToColumns(&batch, positions: positions) }
        let op = operation
        let salt = salt
        for i in batch.records.indices {
            for p in positions {
                let v = batch.records[i].values[p]
                switch (op, v) {
                case (_, .null): continue
                case (.trim, .string(let s)): batch.records[i].values[p] = .string(s.trimmingWhitespace())
                case (.lowercase, .string(let s)): batch.records[i].values[p] = .string(s.lowercased())
                case (.uppercase, .string(let s)): batch.records[i].values[p] = .string(s.uppercased())
                case (.hash, _): batch.records[i].values[p] = .string(SHA256.hex(Array((salt + v.text).utf8)))
                default: continue
                }
            }
        }
    }
}

/// Turns sentinel values (`NA`, `n/a`, empty) into null.
public struct NullIfTransformer: Transformer {
    public let fields: [String]?
    public let values: Set<String>
    public var name: String { "null_if" }
    public var readsColumns: Bool { true }

    public init(fields: [String]?, values: [String]) {
        self.fields = fields
        self.values = Set(values)
    }

    public func apply(to batch: inout Batch) throws {
        let positions = try fields.map { try batch.positions(of: $0, stage: name) } ?? Array(batch.schema.fields.indices)
        if batch.columnar != nil { return applyToColumns(&batch, positions: positions) }
        for i in batch.records.indices {
            for p in positions {
                if case .string(let s) = batch.records[i].values[p], values.contains(s) {
                    batch.records[i].values[p] = .null
                }
            }
        }
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        if first == startIndex && last == index(before: endIndex) { return self }
        return String(self[first...last])
    }
}
