/// Keeps the records that match a condition; the others are left out (counted as filtered, not
/// rejected).
public struct FilterTransformer: Transformer {
    public let condition: Condition
    public var name: String { "filter" }
    public init(_ condition: Condition) { self.condition = condition }

    public func apply(to batch: inout Batch) throws {
        _ = try batch.positions(of: condition.fields, stage: name)
        let bound = try condition.bind(batch.schema)
        batch.filterRecords { bound.matches($0.values) }
    }
}

/// A field comparison, or several combined with `all` / `any`.
public indirect enum Condition: Sendable {
    case compare(field: String, op: Operator, value: Value)
    case all([Condition])
    case any([Condition])
    case not(Condition)

    public enum Operator: String, Sendable, CaseIterable {
        case eq, ne, gt, gte, lt, lte
        case `in`, notIn = "not_in"
        case isNull = "is_null", notNull = "not_null"
        case contains
    }

    /// The fields the condition names.
    public var fields: [String] {
        switch self {
        case .compare(let field, _, _): [field]
        case .all(let cs), .any(let cs): cs.flatMap(\.fields)
        case .not(let c): c.fields
        }
    }

    /// The condition with its field names resolved to positions.
    func bind(_ schema: Schema) throws(RunnelError) -> BoundCondition {
        switch self {
        case .compare(let field, let op, let value):
            guard let i = schema.index(of: field) else {
                throw RunnelError.config("filter: no field '\(field)' in the records (fields: \(schema))")
            }
            return .compare(i, op, value)
        case .all(let cs): return .all(try cs.map { c throws(RunnelError) in try c.bind(schema) })
        case .any(let cs): return .any(try cs.map { c throws(RunnelError) in try c.bind(schema) })
        case .not(let c): return .not(try c.bind(schema))
        }
    }
}

indirect enum BoundCondition {
    case compare(Int, Condition.Operator, Value)
    case all([BoundCondition])
    case any([BoundCondition])
    case not(BoundCondition)

    func matches(_ values: [Value]) -> Bool {
        switch self {
        case .all(let cs): return cs.allSatisfy { $0.matches(values) }
        case .any(let cs): return cs.contains { $0.matches(values) }
        case .not(let c): return !c.matches(values)
        case .compare(let i, let op, let expected):
            let v = values[i]
            switch op {
            case .isNull: return v.isNull
            case .notNull: return !v.isNull
            case .in, .notIn:
                guard case .array(let options) = expected else { return false }
                let found = options.contains { Comparison.compare(v, $0) == .orderedSame }
                return op == .in ? found : !found
            case .contains:
                guard case .string(let s) = v else { return false }
                return s.contains(expected.text)
            default:
                guard let order = Comparison.compare(v, expected) else { return op == .ne }
                switch op {
                case .eq: return order == .orderedSame
                case .ne: return order != .orderedSame
                case .gt: return order == .orderedDescending
                case .gte: return order != .orderedAscending
                case .lt: return order == .orderedAscending
                case .lte: return order != .orderedDescending
                default: return false
                }
            }
        }
    }
}
