import RunnelCore

/// `validate: {on_invalid, max_invalid_ratio, rules: [{field, required, type, min, max, pattern, one_of, max_length}]}`
func buildValidation(
    _ node: SpecNode?, registry: ComponentRegistry, resources: SharedResources, pipeline: String, root: SpecSection
) -> (validators: [any Validator], policy: InvalidRecordPolicy) {
    var policy = InvalidRecordPolicy()
    guard let node, let s = SpecSection(node) else { return ([], policy) }
    s.declare(PipelineKeys.validate)
    if let action = s.choice("on_invalid", InvalidRecordPolicy.Action.allCases.map(\.rawValue)) {
        policy.action = InvalidRecordPolicy.Action(rawValue: action)!
    }
    if let ratioNode = s.node("max_invalid_ratio"), let ratio = ratioNode.double {
        if (0...1).contains(ratio) { policy.maxInvalidRatio = ratio } else { ratioNode.problem("must be between 0 and 1, found \(ratio)") }
    }
    var validators: [any Validator] = []
    if let rules = s.node("rules")?.elements {
        for (i, rule) in rules.enumerated() {
            guard let r = SpecSection(rule) else { continue }
            if let key = registry.validationRules.keys.sorted().first(where: { r.has($0) }) {
                r.declare(registry.keys(.validationRule, key))
                let context = ComponentContext(
                    role: "validate.rules[\(i)]", type: key, section: r, resources: resources, pipeline: pipeline, root: root)
                do {
                    if let v = try registry.validationRules[key]!(context) { validators.append(v) }
                } catch {
                    rule.problem("\(error)")
                }
                r.finish("validation rule")
                continue
            }
            r.declare(PipelineKeys.fieldRule)
            let field = r.string("field", required: true)
            let required = r.bool("required") ?? false
            let type = r.choice("type", FieldRules.types)
            let min = r.node("min")?.value
            let max = r.node("max")?.value
            let pattern = r.string("pattern")
            let oneOf: [Value]? = r.node("one_of").flatMap { n in
                guard case .array(let a)? = n.value else {
                    n.problem("expected a list of allowed values")
                    return nil
                }
                return a
            }
            let maxLength = r.int("max_length")
            r.finish("validation rule")
            guard let field else { continue }
            do {
                validators.append(
                    try FieldRules(
                        field: field, required: required, type: type, min: min, max: max, pattern: pattern, oneOf: oneOf,
                        maxLength: maxLength))
            } catch {
                rule.problem(error.message)
            }
        }
    }
    s.finish("validate")
    return (validators, policy)
}
