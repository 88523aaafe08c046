public import RunnelCore

/// Keeps the records whose cursor field lies in a backfill window `[from, to)`.
///
/// Files carry their cursor as text, so bounds and values are compared as what they look like:
/// timestamps when both parse as ISO 8601, numbers when both are numeric, text otherwise.
public struct WindowFilter: Sendable {
    public let field: String
    public let window: Window

    public init(field: String, window: Window) {
        self.field = field
        self.window = window
    }

    func includes(values: [Value], fields: [String]?) -> Bool {
        guard let i = fields?.firstIndex(of: field), i < values.count else { return false }
        return contains(values[i])
    }

    func includes(object: Object) -> Bool {
        guard let v = object[field] else { return false }
        return contains(v)
    }

    public func contains(_ value: Value) -> Bool {
        if value.isNull { return false }
        if let from = window.from, let o = WindowFilter.compare(value, from), o == .orderedAscending { return false }
        if let to = window.to, let o = WindowFilter.compare(value, to), o != .orderedAscending { return false }
        return true
    }

    /// Compares a value with a bound given as text.
    public static func compare(_ value: Value, _ bound: String) -> Comparison.Order? {
        let b = interpret(bound)
        var v = value
        if case .string(let s) = value { v = interpret(s) }
        if case .timestamp = b, case .string = v { return Comparison.compare(.string(value.text), .string(bound)) }
        return Comparison.compare(v, b) ?? Comparison.compare(.string(value.text), .string(bound))
    }

    /// Reads a bound or cursor text as an int, a double, a timestamp or leaves it as text.
    public static func interpret(_ text: String) -> Value {
        if let i = Int64(text) { return .int(i) }
        if let d = Double(text), d.isFinite { return .double(d) }
        if let t = TimestampFormat.iso8601.parse(text) { return .timestamp(t) }
        return .string(text)
    }
}

/// The window filter for a file extractor, or a config error when a window is asked of an
/// extractor without a cursor field.
func windowFilter(_ window: Window?, cursor: String?, source: String) throws(RunnelError) -> WindowFilter? {
    guard let window else { return nil }
    guard let cursor else {
        throw RunnelError.config("--from/--to need a cursor: set 'extract.cursor' to the field the window applies to (\(source) extractor)")
    }
    return WindowFilter(field: cursor, window: window)
}
