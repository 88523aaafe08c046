/// The checks on one field. Each failing check rejects the record with the check's name as its
/// code (`required`, `type`, `min`, `max`, `pattern`, `one_of`, `max_length`).
/// A null value passes every check but `required`.
public struct FieldRules: Validator {
    public var field: String
    public var required = false
    /// One of `Value.typeName`s: int, double, number (int or double), bool, string, timestamp, array, object.
    public var type: String?
    public var min: Value?
    public var max: Value?
    public var pattern: String?
    public var oneOf: [Value]?
    public var maxLength: Int?
    public var name: String { "validate" }
    public var readsColumns: Bool { true }

    private let regex: RegexBox?

    public static let types = ["int", "double", "number", "bool", "string", "timestamp", "array", "object"]

    public init(
        field: String, required: Bool = false, type: String? = nil, min: Value? = nil, max: Value? = nil,
        pattern: String? = nil, oneOf: [Value]? = nil, maxLength: Int? = nil
    ) throws(RunnelError) {
        self.field = field
        self.required = required
        self.type = type
        self.min = min
        self.max = max
        self.pattern = pattern
        self.oneOf = oneOf
        self.maxLength = maxLength
        if let pattern {
            do { regex = RegexBox(try Regex(pattern)) } catch {
                throw RunnelError.config("validate: field '\(field)': invalid pattern '\(pattern)': \(error)")
            }
        } else {
            regex = nil
        }
    }

    public func apply(to batch: inout Batch) throws {
        guard let p = batch.schema.index(of: field) else {
            if batch.recordCount == 0 { return }
            if required {
                batch.updateRecords(stage: "validate") { (_: inout Record) throws(RecordError) in
                    throw RecordError(code: "required", message: "is required but missing", field: field)
                }
                return
            }
            // A field no record of the batch has: null, which passes every check but
            // `required` (a declared header without it is a contract error).
            _ = try batch.positions(of: [field], stage: "validate")
            return
        }
        if let data = batch.columnar {
            // One value per row from the column (no record); strings short enough to be inline
            // cost no allocation.
            let column = data.columns[p]
            var failures: [(row: Int, error: RecordError)] = []
            for row in data.selection {
                do { try check(column.value(row)) } catch { failures.append((row, error)) }
            }
            batch.reject(rows: failures, stage: "validate")
            return
        }
        batch.checkRecords(stage: "validate") { (record: Record) throws(RecordError) in
            try check(record.values[p])
        }
    }

    func check(_ v: Value) throws(RecordError) {
        if v.isNull {
            if required { throw RecordError(code: "required", message: "is required but null", field: field) }
            return
        }
        if let type, !Self.matches(v, type: type) {
            throw RecordError(code: "type", message: "expected \(type), found \(v.typeName) '\(v.text)'", field: field)
        }
        if let min, let o = Comparison.compare(v, min), o == .orderedAscending {
            throw RecordError(code: "min", message: "\(v.text) is below min \(min.text)", field: field)
        }
        if let max, let o = Comparison.compare(v, max), o == .orderedDescending {
            throw RecordError(code: "max", message: "\(v.text) is above max \(max.text)", field: field)
        }
        if let maxLength, case .string(let s) = v, s.count > maxLength {
            throw RecordError(code: "max_length", message: "length \(s.count) exceeds max_length \(maxLength)", field: field)
        }
        if let oneOf, !oneOf.contains(where: { Comparison.compare(v, $0) == .orderedSame }) {
            throw RecordError(
                code: "one_of", message: "'\(v.text)' is not one of \(oneOf.map(\.text).joined(separator: ", "))", field: field)
        }
        if let regex, let pattern {
            let text = v.text
            if (try? regex.regex.firstMatch(in: text)) == nil {
                throw RecordError(code: "pattern", message: "'\(text)' does not match \(pattern)", field: field)
            }
        }
    }

    static func matches(_ v: Value, type: String) -> Bool {
        switch (type, v) {
        case ("number", .int), ("number", .double): true
        default: v.typeName == type
        }
    }
}

/// Holds a compiled regex. `Regex<AnyRegexOutput>` is not `Sendable`; it is immutable once
/// compiled and only read (matched) afterwards, which is safe from any thread.
final class RegexBox: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>
    init(_ regex: Regex<AnyRegexOutput>) { self.regex = regex }
}
