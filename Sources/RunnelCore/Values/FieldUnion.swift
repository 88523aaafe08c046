/// Lays self-describing records (JSON objects) out as rows of one schema: the union of their
/// keys in order of first appearance, a key a record lacks reading as null.
///
/// Records with the same fields usually share one key array (`JSONText.Stream`, and sources
/// that build objects alike): names are then looked up once per run of equal arrays rather
/// than once per field of every record, and a record whose keys are the schema's is used as is.
public struct FieldUnion: Sendable {
    public private(set) var names: [String] = []
    private var slots: [String: Int] = [:]
    private var lastAdded: [String] = []
    private var lastKeys: [String] = []
    private var lastSlots: [Int?] = []
    /// The most fields kept; keys past it are left out of every row (a producer sending ever
    /// new keys must not grow every record without bound).
    public let maximumFields: Int

    public init(maximumFields: Int = .max) { self.maximumFields = maximumFields }

    /// Adds the keys the union lacks; true when it grew.
    @discardableResult
    public mutating func add(_ keys: [String]) -> Bool {
        if keys == lastAdded { return false }
        lastAdded = keys
        var grown = false
        for k in keys where slots[k] == nil && names.count < maximumFields {
            slots[k] = names.count
            names.append(k)
            grown = true
        }
        return grown
    }

    /// The record's values in the union's order (the union must hold its keys: `add` first).
    public mutating func row(_ o: Object) -> [Value] {
        if o.keys == names { return o.values }
        if !(o.keys == lastKeys) {
            lastKeys = o.keys
            lastSlots = o.keys.map { slots[$0] }
        }
        var values = [Value](repeating: .null, count: names.count)
        for (slot, v) in zip(lastSlots, o.values) {
            if let slot { values[slot] = v }
        }
        return values
    }
}
