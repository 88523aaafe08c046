public import RunnelCore

/// The state of one evaluation: where variables come from, comprehension variables, and the
/// cost spent so far.
struct Evaluation {
    let record: [Value]
    let fields: [String]
    let variables: [CELValue]
    var locals: [CELValue]
    var cost = 0
    let limit: Int
    var exceeded = false

    /// Charges `n` steps; false (and the evaluation is over) once the limit is passed.
    @inline(__always)
    mutating func charge(_ n: Int = 1) -> Bool {
        cost &+= n
        if cost > limit {
            exceeded = true
            return false
        }
        return true
    }

    var costError: CELValue { .error(EvalError("cost limit of \(limit) exceeded (evaluation.cost_limit)")) }
}

extension Node {
    func evaluate(_ ctx: inout Evaluation) -> CELValue {
        guard ctx.charge() else { return ctx.costError }
        switch self {
        case .literal(let v): return v
        case .field(let i):
            return i < ctx.record.count ? CELValue(ctx.record[i]) : .null
        case .variable(let i): return ctx.variables[i]
        case .local(let i): return ctx.locals[i]
        case .record:
            return .map(CELMap(record: Array(ctx.fields.prefix(ctx.record.count)), values: Array(ctx.record.prefix(ctx.fields.count))))
        case .missing(let name):
            return .error(EvalError("no such field '\(name)'"))
        case .select(let operand, let field):
            return Functions.select(operand.evaluate(&ctx), field)
        case .presence(let operand, let field):
            return Functions.presence(operand.evaluate(&ctx), field)
        case .fieldPresence(let i):
            guard let i, i < ctx.record.count else { return .bool(false) }
            return .bool(!ctx.record[i].isNull)
        case .and(let a, let b):
            let x = a.evaluate(&ctx)
            if case .bool(false) = x { return x }
            let y = b.evaluate(&ctx)
            if case .bool(false) = y { return y }
            return Functions.combineLogical(x, y, "&&", &ctx)
        case .or(let a, let b):
            let x = a.evaluate(&ctx)
            if case .bool(true) = x { return x }
            let y = b.evaluate(&ctx)
            if case .bool(true) = y { return y }
            return Functions.combineLogical(x, y, "||", &ctx)
        case .not(let a):
            switch a.evaluate(&ctx) {
            case .bool(let b): return .bool(!b)
            case .error(let e): return .error(e)
            case let v: return Functions.noOverload("!", v)
            }
        case .negate(let a):
            switch a.evaluate(&ctx) {
            case .int(let i):
                let (r, o) = Int64(0).subtractingReportingOverflow(i)
                return o ? .error(EvalError("integer overflow in -\(i)")) : .int(r)
            case .double(let d): return .double(-d)
            case .duration(let d): return CELDuration(nanoseconds: -d.nanoseconds).map { .duration($0) } ?? Functions.rangeError("duration")
            case .error(let e): return .error(e)
            case let v: return Functions.noOverload("-", v)
            }
        case .conditional(let c, let yes, let no):
            switch c.evaluate(&ctx) {
            case .bool(true): return yes.evaluate(&ctx)
            case .bool(false): return no.evaluate(&ctx)
            case .error(let e): return .error(e)
            case let v: return .error(EvalError("the condition of ?: must be a bool, not \(v.type)"))
            }
        case .arithmetic(let op, let a, let b):
            let x = a.evaluate(&ctx)
            let y = b.evaluate(&ctx)
            return Functions.arithmetic(op, x, y, &ctx)
        case .comparison(let op, let a, let b):
            let x = a.evaluate(&ctx)
            let y = b.evaluate(&ctx)
            return Functions.compare(op, x, y, &ctx)
        case .index(let a, let b):
            return Functions.index(a.evaluate(&ctx), b.evaluate(&ctx))
        case .contains(let element, let collection):
            return Functions.membership(element.evaluate(&ctx), collection.evaluate(&ctx), &ctx)
        case .list(let items):
            var out: [CELValue] = []
            out.reserveCapacity(items.count)
            for item in items {
                if case .optionalElement(let inner) = item {
                    switch inner.evaluate(&ctx) {
                    case .optional(let o): if let o { out.append(o) }
                    case .error(let e): return .error(e)
                    case let v: return .error(EvalError("an optional list element (?x) needs an optional, not \(v.type)"))
                    }
                    continue
                }
                let v = item.evaluate(&ctx)
                if case .error = v { return v }
                out.append(v)
            }
            return .list(CELList(out))
        case .map(let entries):
            return Functions.makeMap(entries, &ctx)
        case .call(let f, let args):
            var values: [CELValue] = []
            values.reserveCapacity(args.count)
            for a in args {
                let v = a.evaluate(&ctx)
                if case .error = v { return v }
                values.append(v)
            }
            return Functions.call(f, values, &ctx)
        case .matchesConstant(let text, let regex):
            switch text.evaluate(&ctx) {
            case .string(let s):
                guard ctx.charge(1 + s.utf8.count / 8) else { return ctx.costError }
                return .bool(regex.matches(s))
            case .error(let e): return .error(e)
            case let v: return Functions.noOverload("matches", v)
            }
        case .macro(let kind, let range, let slot, let body, let transform):
            return Functions.comprehension(kind, range.evaluate(&ctx), slot, body, transform, &ctx)
        case .invalidCall(let message):
            return .error(EvalError(message))
        case .ext(let f, let args):
            var values: [CELValue] = []
            values.reserveCapacity(args.count)
            for a in args {
                let v = a.evaluate(&ctx)
                if case .error = v { return v }
                values.append(v)
            }
            let r = Extensions.call(f, values, &ctx)
            return ctx.exceeded ? ctx.costError : r
        case .findConstant(let f, let args, let regex):
            var values: [CELValue] = []
            for a in args {
                let v = a.evaluate(&ctx)
                if case .error = v { return v }
                values.append(v)
            }
            let r = Extensions.find(f, values, regex, &ctx)
            return ctx.exceeded ? ctx.costError : r
        case .fold(let fold, let range, let slot, let args):
            return Extensions.fold(fold, range.evaluate(&ctx), slot, args, &ctx)
        case .optionalSelect(let operand, let field):
            return Optionals.select(operand.evaluate(&ctx), field)
        case .optionalIndex(let a, let b):
            return Optionals.index(a.evaluate(&ctx), b.evaluate(&ctx))
        case .optionalElement(let inner):
            // Only meaningful inside a list or map literal, which handle it; elsewhere the value itself.
            return inner.evaluate(&ctx)
        case .optionalOr(let a, let b, let orValue):
            switch a.evaluate(&ctx) {
            case .optional(let o?): return orValue ? o : .optional(o)
            case .optional(nil):
                let alternative = b.evaluate(&ctx)
                if !orValue, case .error = alternative { return alternative }
                if !orValue, case .optional = alternative {} else if !orValue {
                    return Functions.noOverload("or", .optional(nil), alternative)
                }
                return alternative
            case .error(let e): return .error(e)
            case let v: return Functions.noOverload(orValue ? "orValue" : "or", v)
            }
        }
    }
}
