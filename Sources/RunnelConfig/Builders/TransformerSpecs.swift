import RunnelCore
import Yams

extension ComponentRegistry {
    /// The declarative transformers: rename, select, drop, cast, set, default, null_if, trim,
    /// lowercase, uppercase, hash, filter.
    mutating func registerStandardTransformers() {
        registerTransformer("rename", keys: TransformerKeys.rename) { ctx in
            guard let entries = ctx.section.node("fields", required: true)?.entries else { return nil }
            return RenameTransformer(entries.compactMap { k, v in v.string.map { (k, $0) } })
        }
        registerTransformer("select", keys: TransformerKeys.select) { ctx in
            ctx.section.strings("fields", required: true).map { SelectTransformer(fields: $0) }
        }
        registerTransformer("drop", keys: TransformerKeys.drop) { ctx in
            ctx.section.strings("fields", required: true).map { DropTransformer(fields: $0) }
        }
        for onlyIfNull in [false, true] {
            registerTransformer(onlyIfNull ? "default" : "set", keys: onlyIfNull ? TransformerKeys.default : TransformerKeys.set) { ctx in
                guard let entries = ctx.section.node("fields", required: true)?.entries else { return nil }
                return SetTransformer(entries.compactMap { k, v in v.value.map { (k, $0) } }, onlyIfNull: onlyIfNull)
            }
        }
        registerTransformer("null_if", keys: TransformerKeys.nullIf) { ctx in
            let fields = ctx.section.strings("fields")
            let values = ctx.section.strings("values") ?? ["NA", "N/A", "null", "NULL", ""]
            return NullIfTransformer(fields: fields, values: values)
        }
        for op in MapTransformer.Operation.allCases {
            registerTransformer(op == .hash ? "hash" : op.rawValue, keys: TransformerKeys.map(op)) { ctx in
                let fields = ctx.section.strings("fields", required: op == .hash)
                var salt = ""
                if op == .hash {
                    if let algorithm = ctx.section.choice("algorithm", ["sha256"]) { _ = algorithm }
                    salt = ctx.section.string("salt") ?? ""
                }
                return MapTransformer(op, fields: fields, salt: salt)
            }
        }
        registerTransformer("cast", keys: TransformerKeys.cast) { ctx in
            guard let entries = ctx.section.node("fields", required: true)?.entries else { return nil }
            var casts: [(String, CastTransformer.Target)] = []
            for (field, node) in entries {
                if let target = castTarget(node) { casts.append((field, target)) }
            }
            return CastTransformer(casts)
        }
        registerTransformer("filter", keys: TransformerKeys.filter) { ctx in
            let s = ctx.section
            var parts: [Condition] = []
            if let all = s.node("all") { parts.append(contentsOf: conditionList(all).map { [Condition.all($0)] } ?? []) }
            if let any = s.node("any") { parts.append(contentsOf: conditionList(any).map { [Condition.any($0)] } ?? []) }
            if s.has("field") { if let c = comparison(s) { parts.append(c) } }
            guard !parts.isEmpty else {
                s.node.problem("filter needs 'all', 'any', or 'field' with 'op' and 'value'")
                return nil
            }
            return FilterTransformer(parts.count == 1 ? parts[0] : .all(parts))
        }
    }
}

/// `int`, or `{type: timestamp, format: "%Y-%m-%d"}`.
private func castTarget(_ node: SpecNode) -> CastTransformer.Target? {
    var typeName: String?
    var format: String?
    if node.node.mapping != nil {
        guard let s = SpecSection(node) else { return nil }
        typeName = s.string("type", required: true)
        format = s.string("format")
        s.finish("cast field")
    } else {
        typeName = node.string
    }
    guard let typeName else { return nil }
    switch typeName {
    case "int", "integer": return .int
    case "double", "float", "number": return .double
    case "bool", "boolean": return .bool
    case "string", "text": return .string
    case "timestamp", "datetime", "date":
        do { return .timestamp(try TimestampFormat(spec: format ?? "iso8601")) } catch {
            node.problem(error.message)
            return nil
        }
    default:
        node.problem("'\(typeName)' is not a cast type; valid types: \(CastTransformer.Target.names.joined(separator: ", "))")
        return nil
    }
}

private func conditionList(_ node: SpecNode) -> [Condition]? {
    guard let elements = node.elements else { return nil }
    return elements.compactMap { e in
        guard let s = SpecSection(e) else { return nil }
        defer { s.finish("filter condition") }
        if s.has("all") { return s.node("all").flatMap(conditionList).map(Condition.all) }
        if s.has("any") { return s.node("any").flatMap(conditionList).map(Condition.any) }
        return comparison(s)
    }
}

/// `{field: amount, op: gt, value: 0}`.
private func comparison(_ s: SpecSection) -> Condition? {
    let field = s.string("field", required: true)
    let op = s.choice("op", Condition.Operator.allCases.map(\.rawValue), required: true).flatMap(Condition.Operator.init)
    let needsValue = op != .isNull && op != .notNull
    let value = s.node("value", required: needsValue)?.value ?? .null
    guard let field, let op else { return nil }
    return .compare(field: field, op: op, value: value)
}
