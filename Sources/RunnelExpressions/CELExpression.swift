public import RunnelCore

/// A compiled expression of Runnel's CEL subset: parsed and checked once, bound to each batch's
/// schema (`bind`), evaluated per record without looking names up.
///
///     let e = try CELExpression("amount * (1.0 - discount)")
///     let bound = e.bind(batch.schema)
///     for r in batch.records { let total = bound.evaluate(r.values) }
///
/// Top-level fields are bare names (`amount`) or `record.amount`; `` record.`unit-price` `` reaches
/// names that are not identifiers; `record` alone is the whole record as a map.
public struct CELExpression: Sendable {
    public struct Configuration: Sendable {
        /// Evaluation steps one evaluation may take (every node, every macro iteration, and long
        /// strings and lists by their size). Exceeding it is an error naming the limit.
        /// Default 100,000: far above any per-record expression, far below a hang.
        public var costLimit: Int = 100_000
        /// Run the checker at compile time (on by default). Off only to test run-time behaviour of
        /// expressions the checker would refuse, as CEL's conformance cases with `disable_check` do.
        public var typeCheck: Bool = true
        public init(costLimit: Int = 100_000, typeCheck: Bool = true) {
            self.costLimit = costLimit
            self.typeCheck = typeCheck
        }
    }

    public let source: String
    public let configuration: Configuration
    let root: Expr

    /// Parses and checks `source`.
    /// - Parameter declarations: what is known of the variables; unknown names are errors only
    ///   when `declarations.isComplete`.
    public init(
        _ source: String, declarations: Declarations = Declarations(), configuration: Configuration = .init()
    ) throws(CompileError) {
        self.source = source
        self.configuration = configuration
        root = try Parser.parse(source)
        if configuration.typeCheck {
            var checker = Checker(source: source, declarations: declarations)
            try checker.check(root)
        }
    }

    /// Resolves the names against a batch's fields.
    public func bind(_ schema: Schema) -> BoundExpression {
        var binder = Binder { name in schema.index(of: name).map { .field($0) } }
        let node = binder.bind(root)
        return BoundExpression(node: node, fields: schema.fields, locals: binder.maxLocals, limit: configuration.costLimit)
    }

    /// Resolves the names against variables given as CEL values (`evaluate(variables:)`), in order.
    public func bind(variables names: [String]) -> BoundExpression {
        var positions: [String: Int] = [:]
        for (i, n) in names.enumerated() where positions[n] == nil { positions[n] = i }
        var binder = Binder { name in positions[name].map { .variable($0) } }
        let node = binder.bind(root)
        return BoundExpression(node: node, fields: [], locals: binder.maxLocals, limit: configuration.costLimit)
    }
}

/// An expression bound to one schema. Cheap to copy; safe to share between tasks.
public struct BoundExpression: Sendable {
    let node: Node
    let fields: [String]
    let locals: Int
    let limit: Int

    /// Evaluates over one record's values (aligned to the schema it was bound to).
    public func evaluate(_ record: [Value]) -> CELValue {
        var ctx = Evaluation(record: record, fields: fields, variables: [], locals: [], limit: limit)
        if locals > 0 { ctx.locals = [CELValue](repeating: .null, count: locals) }
        let v = node.evaluate(&ctx)
        return ctx.exceeded ? ctx.costError : v
    }

    /// Evaluates with variables given as CEL values (bound with `bind(variables:)`).
    public func evaluate(variables: [CELValue]) -> CELValue {
        var ctx = Evaluation(record: [], fields: [], variables: variables, locals: [], limit: limit)
        if locals > 0 { ctx.locals = [CELValue](repeating: .null, count: locals) }
        let v = node.evaluate(&ctx)
        return ctx.exceeded ? ctx.costError : v
    }

    /// Evaluates a condition: true or false, or the error (a non-bool result is an error too).
    public func test(_ record: [Value]) -> Result<Bool, EvalError> {
        switch evaluate(record) {
        case .bool(let b): return .success(b)
        case .error(let e): return .failure(e)
        case let v: return .failure(EvalError("the expression gave \(v.type), not a bool"))
        }
    }
}
