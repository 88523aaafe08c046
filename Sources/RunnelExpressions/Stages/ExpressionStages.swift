public import RunnelCore

/// The code of a record rejected because an expression failed on it (division by zero, a
/// missing field without `has()`, a type mismatch in the data).
public let expressionErrorCode = "expression_error"

extension CELExpression {
    /// The rejection for a record on which this expression failed: the expression and what failed.
    func recordError(_ e: EvalError, field: String? = nil) -> RecordError {
        RecordError(code: expressionErrorCode, message: "expr `\(source)`: \(e.message)", field: field)
    }
}

/// `{type: filter, expr: "..."}`: keeps the records for which the expression is true; the
/// others are filtered (counted, not rejected). A record on which it fails is rejected with
/// `expression_error`.
public struct ExpressionFilter: Transformer {
    public let expression: CELExpression
    public let name: String

    public init(_ expression: CELExpression, name: String = "filter") {
        self.expression = expression
        self.name = name
    }

    public var readsColumns: Bool { true }

    public func apply(to batch: inout Batch) throws {
        if batch.columnar != nil { return applyToColumns(&batch) }
        let bound = expression.bind(batch.schema)
        var kept: [Record] = []
        kept.reserveCapacity(batch.records.count)
        for record in batch.records {
            switch bound.test(record.values) {
            case .success(true): kept.append(record)
            case .success(false): break
            case .failure(let e): batch.reject(ordinal: record.ordinal, stage: name, error: expression.recordError(e))
            }
        }
        batch.records = kept
    }
}

/// `{type: reject_if, expr: "...", code: ...}`: rejects (to the dead letter queue) the records for
/// which the expression is true, with `code`.
public struct RejectIf: Transformer {
    public let expression: CELExpression
    public let code: String
    public let message: String?
    public let name: String

    public init(_ expression: CELExpression, code: String, message: String? = nil, name: String = "reject_if") {
        self.expression = expression
        self.code = code
        self.message = message
        self.name = name
    }

    public func apply(to batch: inout Batch) throws {
        let bound = expression.bind(batch.schema)
        batch.checkRecords(stage: name) { record throws(RecordError) in
            switch bound.test(record.values) {
            case .success(false): return
            case .success(true): throw RecordError(code: code, message: message ?? "rejected by `\(expression.source)`")
            case .failure(let e): throw expression.recordError(e)
            }
        }
    }
}

/// A validation rule `{expr: "...", code: ..., message: "..."}`: a record passes when the
/// expression is true; false rejects it with `code`, a failure with `expression_error`.
public struct ExpressionRule: Validator {
    public let expression: CELExpression
    public let code: String
    public let message: String?
    public var name: String { "validate" }

    public init(_ expression: CELExpression, code: String, message: String? = nil) {
        self.expression = expression
        self.code = code
        self.message = message
    }

    public func apply(to batch: inout Batch) throws {
        let bound = expression.bind(batch.schema)
        batch.checkRecords(stage: name) { record throws(RecordError) in
            switch bound.test(record.values) {
            case .success(true): return
            case .success(false): throw RecordError(code: code, message: message ?? "rule `\(expression.source)` is false")
            case .failure(let e): throw expression.recordError(e)
            }
        }
    }
}

/// `{type: map, fields: {name: "expr", ...}, drop: [...]}`: sets derived fields in order, each
/// expression seeing the fields set before it; then removes `drop`. A record on which an
/// expression fails is rejected with `expression_error`, naming the field.
public struct ExpressionMap: Transformer {
    public let fields: [(name: String, expression: CELExpression)]
    public let drop: [String]
    public let name: String

    public init(fields: [(name: String, expression: CELExpression)], drop: [String] = [], name: String = "map") {
        self.fields = fields
        self.drop = drop
        self.name = name
    }

    public var readsColumns: Bool { true }

    public func apply(to batch: inout Batch) throws {
        if batch.columnar != nil { return try applyToColumns(&batch) }
        // New names are appended in order, so the schema an expression sees (the fields before
        // it) is a prefix of the full one and positions agree.
        var names = batch.schema.fields
        var targets: [Int] = []
        var bound: [BoundExpression] = []
        for (field, expression) in fields {
            bound.append(expression.bind(Schema(names)))
            if let i = names.firstIndex(of: field) {
                targets.append(i)
            } else {
                targets.append(names.count)
                names.append(field)
            }
        }
        let width = names.count
        let extended = Schema(names)
        batch.updateRecords(stage: name) { record throws(RecordError) in
            if record.values.count < width {
                record.values.append(contentsOf: repeatElement(.null, count: width - record.values.count))
            }
            for k in bound.indices {
                let v = bound[k].evaluate(record.values)
                do throws(EvalError) {
                    record.values[targets[k]] = try v.recordValue()
                } catch {
                    throw fields[k].expression.recordError(error, field: fields[k].name)
                }
            }
        }
        batch.schema = extended
        if !drop.isEmpty {
            let removed = Set(drop)
            let keep = names.indices.filter { !removed.contains(names[$0]) }
            batch.remap(to: Schema(keep.map { names[$0] }), mapping: keep.map { $0 })
        }
    }
}

extension ExpressionMap: DeclaresFieldTypes {
    /// The derived fields' types are the expressions' own and not declared: those columns stay untyped.
    public func fieldTypes(after input: [String: PortableType]) -> [String: PortableType] {
        var out = input
        for (field, _) in fields { out[field] = nil }
        for field in drop { out[field] = nil }
        return out
    }
}
