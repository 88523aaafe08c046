/// A dynamically typed field value, the currency of every stage.
///
/// Records coming from CSV start as `.string`; `cast` turns them into typed values. JSON Lines
/// records arrive typed. Loaders map each case to their store's types.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case timestamp(Timestamp)
    case array([Value])
    case object(Object)

    /// The type name used in specs and error messages (`int`, `string`, ...).
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .double: "double"
        case .string: "string"
        case .timestamp: "timestamp"
        case .array: "array"
        case .object: "object"
        }
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The numeric value as a Double, for comparisons across int and double.
    public var numeric: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let v): v
        default: nil
        }
    }

    /// A plain-text rendering: strings unquoted, timestamps as ISO 8601, containers as JSON.
    public var text: String {
        switch self {
        case .null: ""
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): Value.format(d)
        case .string(let s): s
        case .timestamp(let t): t.iso8601
        case .array, .object: JSONText.encode(self)
        }
    }

    /// Shortest round-tripping text for a double; integral values keep a `.0` so they read back as doubles.
    static func format(_ d: Double) -> String {
        if d.isNaN || d.isInfinite { return d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity") }
        return d.description
    }
}

/// An ordered map of field names to values (a JSON object). Keys keep their input order.
public struct Object: Sendable, Hashable {
    public var keys: [String]
    public var values: [Value]

    public init() {
        keys = []
        values = []
    }

    public init(keys: [String], values: [Value]) {
        precondition(keys.count == values.count, "keys and values differ in length")
        self.keys = keys
        self.values = values
    }

    public subscript(key: String) -> Value? {
        guard let i = keys.firstIndex(of: key) else { return nil }
        return values[i]
    }

    /// Sets a key, replacing its value if present and appending it otherwise.
    public mutating func set(_ key: String, _ value: Value) {
        if let i = keys.firstIndex(of: key) {
            values[i] = value
        } else {
            keys.append(key)
            values.append(value)
        }
    }

    public var count: Int { keys.count }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}
