/// What a transformer does to the types of the fields it passes on, for loaders that create a
/// table without `columns:` (SQLite then gives the columns the affinities the casts imply).
/// A transformer that does not conform keeps every field's type.
public protocol DeclaresFieldTypes {
    /// The field types after this stage, given those before it; a field whose type this stage
    /// changes to one it cannot name is left out.
    func fieldTypes(after input: [String: PortableType]) -> [String: PortableType]
}

/// A loader that can type the columns of a table it creates from what the stages declare.
public protocol InfersColumnTypes: Loader {
    /// The loader typing the columns it creates from `types`, with the words `validate` prints
    /// (`order_id INTEGER, amount REAL`); nil when the spec names the columns itself or nothing
    /// can be inferred.
    func inferringColumnTypes(_ types: [String: PortableType]) -> (loader: any Loader, description: String)?
}

extension Array where Element == any Transformer {
    /// The field types these transformers declare, applied in order.
    public var declaredFieldTypes: [String: PortableType] {
        var types: [String: PortableType] = [:]
        for t in self {
            if let d = t as? any DeclaresFieldTypes { types = d.fieldTypes(after: types) }
        }
        return types
    }
}

extension CastTransformer: DeclaresFieldTypes {
    public func fieldTypes(after input: [String: PortableType]) -> [String: PortableType] {
        var out = input
        for (field, target) in casts {
            switch target {
            case .int: out[field] = .int
            case .double: out[field] = .double
            case .bool: out[field] = .bool
            case .string: out[field] = .string
            case .timestamp: out[field] = .timestamp
            }
        }
        return out
    }
}

extension RenameTransformer: DeclaresFieldTypes {
    public func fieldTypes(after input: [String: PortableType]) -> [String: PortableType] {
        var out = input
        for (from, _) in renames { out[from] = nil }
        for (from, to) in renames { out[to] = input[from] }
        return out
    }
}

extension SetTransformer: DeclaresFieldTypes {
    public func fieldTypes(after input: [String: PortableType]) -> [String: PortableType] {
        var out = input
        // A constant of another type makes the field's type unknown.
        for (field, _) in values { out[field] = nil }
        return out
    }
}

extension MapTransformer: DeclaresFieldTypes {
    public func fieldTypes(after input: [String: PortableType]) -> [String: PortableType] {
        // Only hashing changes a type: whatever the value was, its digest is text.
        guard operation == .hash else { return input }
        var out = input
        for field in fields ?? Array(input.keys) { out[field] = .string }
        return out
    }
}
