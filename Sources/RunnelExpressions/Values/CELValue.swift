public import RunnelCore

/// A value during evaluation, with CEL's types. Errors are values too: they propagate through
/// functions and are absorbed by `&&`, `||` and the `all`/`exists` macros as the spec says.
///
/// Record fields come in as `RunnelCore.Value` and are converted when read; arrays and objects
/// are wrapped, not copied (`CELList`, `CELMap`), so reading one element of a large array does
/// not convert the rest.
public enum CELValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case list(CELList)
    case map(CELMap)
    case timestamp(CELTimestamp)
    case duration(CELDuration)
    case type(CELType)
    /// `optional.of(x)` (`.some`) or `optional.none()` (nil), from CEL's optional library.
    indirect case optional(CELValue?)
    /// The Kubernetes library values: `url()`, `ip()`, `cidr()`, `quantity()`, `semver()`.
    case kube(KubeValue)
    case error(EvalError)

    public var type: CELType {
        switch self {
        case .null: .null
        case .bool: .bool
        case .int: .int
        case .uint: .uint
        case .double: .double
        case .string: .string
        case .bytes: .bytes
        case .list: .list
        case .map: .map
        case .timestamp: .timestamp
        case .duration: .duration
        case .type: .type
        case .optional: .optional
        case .kube(let k): k.type
        case .error: .error
        }
    }

    var isError: Bool {
        if case .error = self { return true }
        return false
    }
}

/// Why an evaluation failed: `divide by zero`, `no such key: 'x'`, `no matching overload for '+' (string, int)`.
public struct EvalError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A CEL type as a runtime value (`type(1) == int`).
public struct CELType: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { name }

    public static let null = CELType("null_type"), bool = CELType("bool"), int = CELType("int")
    public static let uint = CELType("uint"), double = CELType("double"), string = CELType("string")
    public static let bytes = CELType("bytes"), list = CELType("list"), map = CELType("map")
    public static let timestamp = CELType("google.protobuf.Timestamp")
    public static let duration = CELType("google.protobuf.Duration")
    public static let type = CELType("type")
    public static let optional = CELType("optional_type")
    public static let url = CELType("kubernetes.URL"), ip = CELType("net.IP"), cidr = CELType("net.CIDR")
    public static let quantity = CELType("kubernetes.Quantity"), semver = CELType("kubernetes.Semver")
    static let error = CELType("error")

    /// The names an expression can use for the types, as identifiers (`int`, `google.protobuf.Timestamp`).
    static let named: [String: CELType] = [
        "null_type": .null, "bool": .bool, "int": .int, "uint": .uint, "double": .double, "string": .string,
        "bytes": .bytes, "list": .list, "map": .map, "type": .type,
        "google.protobuf.Timestamp": .timestamp, "google.protobuf.Duration": .duration, "optional_type": .optional,
    ]
}

/// A list: either values made by the expression or a record's array, converted per element when read.
public struct CELList: Sendable {
    enum Storage: Sendable {
        case values([CELValue])
        case record([Value])
    }
    let storage: Storage

    public init(_ values: [CELValue]) { storage = .values(values) }
    init(record: [Value]) { storage = .record(record) }

    public var count: Int {
        switch storage {
        case .values(let v): v.count
        case .record(let v): v.count
        }
    }

    public subscript(i: Int) -> CELValue {
        switch storage {
        case .values(let v): v[i]
        case .record(let v): CELValue(v[i])
        }
    }

    var elements: [CELValue] {
        switch storage {
        case .values(let v): v
        case .record(let v): v.map(CELValue.init)
        }
    }
}

/// A map key: CEL allows bool, int, uint and string keys, and int and uint keys of the same
/// number are the same key (`{1u: 'a'}[1]` finds it).
enum MapKey: Hashable, Sendable {
    case bool(Bool)
    case signed(Int64)
    /// Only for values above `Int64.max`; smaller unsigned keys are stored as `.signed`.
    case unsigned(UInt64)
    case string(String)

    /// The key for a value, or nil when the value cannot be a key (doubles that are not whole
    /// numbers are looked up with `lookupKey`).
    init?(_ v: CELValue) {
        switch v {
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .signed(i)
        case .uint(let u): self = u <= UInt64(Int64.max) ? .signed(Int64(u)) : .unsigned(u)
        case .string(let s): self = .string(s)
        default: return nil
        }
    }

    /// The key a lookup with `v` means: doubles find the int or uint key of the same number.
    static func lookup(_ v: CELValue) -> MapKey? {
        if case .double(let d) = v {
            guard d.rounded(.towardZero) == d else { return nil }
            if d >= -9.223372036854775808e18, d < 9.223372036854775808e18 { return .signed(Int64(d)) }
            if d >= 0, d < 1.8446744073709551616e19 { return .unsigned(UInt64(d)) }
            return nil
        }
        return MapKey(v)
    }
}

/// A map: either built by the expression (any key type) or a record's object (string keys),
/// converted per value when read.
public struct CELMap: Sendable {
    enum Storage: Sendable {
        case entries(keys: [CELValue], values: [CELValue], index: [MapKey: Int])
        case record(Object)
    }
    let storage: Storage

    init(keys: [CELValue], values: [CELValue], index: [MapKey: Int]) {
        storage = .entries(keys: keys, values: values, index: index)
    }
    init(record: Object) { storage = .record(record) }

    /// A map from string keys, as a record's fields.
    init(record keys: [String], values: [Value]) { storage = .record(Object(keys: keys, values: values)) }

    public var count: Int {
        switch storage {
        case .entries(let keys, _, _): keys.count
        case .record(let o): o.count
        }
    }

    /// The keys in insertion order (CEL leaves map order unspecified; keeping input order makes
    /// `map`/`filter` results stable).
    var keys: [CELValue] {
        switch storage {
        case .entries(let keys, _, _): keys
        case .record(let o): o.keys.map { .string($0) }
        }
    }

    func value(at i: Int) -> CELValue {
        switch storage {
        case .entries(_, let values, _): values[i]
        case .record(let o): CELValue(o.values[i])
        }
    }

    func key(at i: Int) -> CELValue {
        switch storage {
        case .entries(let keys, _, _): keys[i]
        case .record(let o): .string(o.keys[i])
        }
    }

    /// The value under `key`, nil when absent.
    func lookup(_ key: CELValue) -> CELValue? {
        switch storage {
        case .entries(_, let values, let index):
            guard let k = MapKey.lookup(key), let i = index[k] else { return nil }
            return values[i]
        case .record(let o):
            guard case .string(let s) = key, let i = o.keys.firstIndex(of: s) else { return nil }
            return CELValue(o.values[i])
        }
    }

    func lookup(field: String) -> CELValue? {
        switch storage {
        case .entries: return lookup(.string(field))
        case .record(let o):
            guard let i = o.keys.firstIndex(of: field) else { return nil }
            return CELValue(o.values[i])
        }
    }
}

extension CELValue {
    /// A record value as a CEL value. Arrays and objects are wrapped, not converted.
    @inline(__always)
    public init(_ v: Value) {
        switch v {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .timestamp(let t): self = .timestamp(CELTimestamp(t))
        case .array(let a): self = .list(CELList(record: a))
        case .object(let o): self = .map(CELMap(record: o))
        }
    }
}
