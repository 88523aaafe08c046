/// One key of a component's section, declared once beside its factory: the unknown-key check,
/// the JSON Schema for editors (`runnel-batch schema`) and the key tables of docs/components.md
/// all come from it, so they cannot disagree with each other.
///
///     registerExtractor("jsonl", keys: [
///         .string("path", required: true, "File, folder or glob of JSON Lines files (gzip too)."),
///         .string("cursor", "Field whose highest value is the checkpoint."),
///     ]) { ctx in … }
public struct ConfigKey: Sendable {
    /// What a key's value may be.
    public indirect enum Kind: Sendable {
        case string
        case int
        case number
        case bool
        /// `250ms`, `10s`, `5m`, `1h`, or a number of seconds.
        case duration
        /// `8MiB`, `512KiB`, `1000000`.
        case bytes
        /// A list of strings; one string is taken as a list of one.
        case strings
        /// One of these words.
        case choice([String])
        /// A mapping with free keys (headers, column types), whose values are `value`.
        case map(value: Kind?)
        /// A nested section with its own declared keys.
        case object([ConfigKey])
        /// A list of nested sections with declared keys.
        case objects([ConfigKey])
        /// Anything: a value checked by the component itself (a condition tree, a JSON body).
        case anyValue

        /// The kind as the key tables name it.
        public var label: String {
            switch self {
            case .string: "string"
            case .int: "int"
            case .number: "number"
            case .bool: "bool"
            case .duration: "duration"
            case .bytes: "bytes"
            case .strings: "list of strings"
            case .choice(let words): "one of " + words.joined(separator: ", ")
            case .map(let value): value.map { "map of \($0.label)" } ?? "map"
            case .object: "object"
            case .objects: "list of objects"
            case .anyValue: "any"
            }
        }
    }

    public var name: String
    public var kind: Kind
    /// Always required. Keys required only in some settings (one of two, or unless another
    /// section provides it) are not, and say so in `doc`.
    public var required: Bool
    /// The default as a user would write it, or what happens when the key is left out.
    public var defaultText: String?
    /// One line: what the key does.
    public var doc: String

    public init(_ name: String, _ kind: Kind, required: Bool = false, default defaultText: String? = nil, _ doc: String)
    {
        self.name = name
        self.kind = kind
        self.required = required
        self.defaultText = defaultText
        self.doc = doc
    }

    public static func string(_ name: String, required: Bool = false, default d: String? = nil, _ doc: String)
        -> ConfigKey
    {
        ConfigKey(name, .string, required: required, default: d, doc)
    }
    public static func int(_ name: String, required: Bool = false, default d: String? = nil, _ doc: String) -> ConfigKey
    {
        ConfigKey(name, .int, required: required, default: d, doc)
    }
    public static func number(_ name: String, required: Bool = false, default d: String? = nil, _ doc: String)
        -> ConfigKey
    {
        ConfigKey(name, .number, required: required, default: d, doc)
    }
    public static func bool(_ name: String, default d: String? = nil, _ doc: String) -> ConfigKey {
        ConfigKey(name, .bool, default: d, doc)
    }
    public static func duration(_ name: String, default d: String? = nil, _ doc: String) -> ConfigKey {
        ConfigKey(name, .duration, default: d, doc)
    }
    public static func bytes(_ name: String, default d: String? = nil, _ doc: String) -> ConfigKey {
        ConfigKey(name, .bytes, default: d, doc)
    }
    public static func strings(_ name: String, required: Bool = false, default d: String? = nil, _ doc: String)
        -> ConfigKey
    {
        ConfigKey(name, .strings, required: required, default: d, doc)
    }
    public static func choice(
        _ name: String, _ words: [String], required: Bool = false, default d: String? = nil, _ doc: String
    ) -> ConfigKey {
        ConfigKey(name, .choice(words), required: required, default: d, doc)
    }
    public static func map(_ name: String, of value: Kind? = nil, required: Bool = false, _ doc: String) -> ConfigKey {
        ConfigKey(name, .map(value: value), required: required, doc)
    }
    public static func object(_ name: String, required: Bool = false, _ keys: [ConfigKey], _ doc: String) -> ConfigKey {
        ConfigKey(name, .object(keys), required: required, doc)
    }
    public static func objects(_ name: String, required: Bool = false, _ keys: [ConfigKey], _ doc: String) -> ConfigKey
    {
        ConfigKey(name, .objects(keys), required: required, doc)
    }
    public static func anyValue(_ name: String, required: Bool = false, _ doc: String) -> ConfigKey {
        ConfigKey(name, .anyValue, required: required, doc)
    }
}

/// The declared keys of one component type, with a line saying what the component is.
/// `undeclared` (no keys) keeps the older check for third-party registrations: the keys the
/// factory read are the valid ones.
public struct ComponentKeys: Sendable {
    public var summary: String
    public var keys: [ConfigKey]

    public init(_ summary: String, _ keys: [ConfigKey]) {
        self.summary = summary
        self.keys = keys
    }

    public static let undeclared = ComponentKeys("", [])
    public var isDeclared: Bool { !keys.isEmpty || !summary.isEmpty }
    public var names: [String] { keys.map(\.name) }

    /// These keys followed by `more` (keys several components share: connection settings).
    public func adding(_ more: [ConfigKey]) -> ComponentKeys { ComponentKeys(summary, keys + more) }
}
