import RunnelCore

/// The declared keys of the declarative transformers (see `registerStandardTransformers`).
enum TransformerKeys {
    static let rename = ComponentKeys(
        "Renames fields.", [.map("fields", of: .string, required: true, "Old name: new name.")])
    static let select = ComponentKeys(
        "Keeps only these fields.", [.strings("fields", required: true, "The fields kept, in this order.")])
    static let drop = ComponentKeys("Removes fields.", [.strings("fields", required: true, "The fields removed.")])
    static let set = ComponentKeys(
        "Sets fields to fixed values.",
        [.map("fields", required: true, "Field: value (YAML types kept: 12 is an int).")])
    static let `default` = ComponentKeys(
        "Sets fields that are missing or null.",
        [.map("fields", required: true, "Field: value used when it is missing or null.")])
    static let nullIf = ComponentKeys(
        "Turns placeholder strings into null.",
        [
            .strings("fields", default: "every field", "The fields checked."),
            .strings("values", default: "NA, N/A, null, NULL, empty", "Strings taken as null."),
        ])

    static func map(_ op: MapTransformer.Operation) -> ComponentKeys {
        switch op {
        case .hash:
            ComponentKeys(
                "Replaces values by the SHA-256 hex of their text (masking PII).",
                [
                    .strings("fields", required: true, "The fields hashed."),
                    .choice("algorithm", ["sha256"], default: "sha256", "The hash."),
                    .string(
                        "salt", default: "empty",
                        "Prepended to the text, so values cannot be looked up in a table of hashes."),
                ])
        case .trim, .lowercase, .uppercase:
            ComponentKeys(
                op == .trim
                    ? "Trims white space around strings."
                    : op == .lowercase ? "Lower-cases strings." : "Upper-cases strings.",
                [.strings("fields", default: "every string field", "The fields changed.")])
        }
    }

    static let cast = ComponentKeys(
        "Converts fields to a type.",
        [
            .map(
                "fields", required: true,
                "Field: \(CastTransformer.Target.names.joined(separator: ", ")), or {type: timestamp, format: \"%Y-%m-%d\"}."
            )
        ])

    /// The field-condition form; the expressions module adds `expr`.
    static let filterConditions: [ConfigKey] = [
        .anyValue("all", "Conditions that must all hold: a list of {field, op, value}, {all}, {any}."),
        .anyValue("any", "Conditions of which one must hold."),
        .string("field", "The field compared (with op and value)."),
        .choice("op", Condition.Operator.allCases.map(\.rawValue), "The comparison."),
        .anyValue("value", "The value compared with; not for is_null and not_null."),
    ]
    static let filter = ComponentKeys("Keeps the records that meet a condition.", filterConditions)
}

extension ComponentRegistry {
    /// The field-condition keys of `type: filter`, for a module that extends the filter.
    public static var filterConditionKeys: [ConfigKey] { TransformerKeys.filterConditions }
}
