/// Gives fields their types. A value that cannot be cast rejects its record (`cast_failed`,
/// naming the field and the value); null stays null.
public struct CastTransformer: Transformer {
    public enum Target: Sendable, Hashable {
        case int, double, bool, string
        case timestamp(TimestampFormat)

        public var name: String {
            switch self {
            case .int: "int"
            case .double: "double"
            case .bool: "bool"
            case .string: "string"
            case .timestamp: "timestamp"
            }
        }

        public static let names = ["int", "double", "bool", "string", "timestamp"]
    }

    public let casts: [(field: String, target: Target)]
    public var name: String { "cast" }

    public init(_ casts: [(field: String, target: Target)]) { self.casts = casts }

    public var readsColumns: Bool { true }

    public func apply(to batch: inout Batch) throws {
        let positions = try batch.positions(of: casts.map(\.field), stage: name)
        let targets = casts.map(\.target)
        if batch.columnar != nil { return applyToColumns(&batch, positions: positions, targets: targets) }
        batch.updateRecords(stage: "transform:cast") { (record: inout Record) throws(RecordError) in
            for i in positions.indices {
                let p = positions[i]
                let v = record.values[p]
                // A value of the type already is left alone: writing it back would copy the
                // record's values, which it shares with the batch's records as read.
                if v.isNull || Self.already(v, targets[i]) { continue }
                guard let converted = Self.convert(v, to: targets[i]) else {
                    let shown = v.text.count > 60 ? String(v.text.prefix(60)) + "…" : v.text
                    throw RecordError(
                        code: "cast_failed", message: "cannot cast '\(shown)' to \(Self.describe(targets[i]))",
                        field: casts[i].field)
                }
                record.values[p] = converted
            }
        }
    }

    /// One loop per field over the selection, into a new column; the column as read stays in the
    /// batch's input for dead letters. A record fails at its first failing field, in spec order,
    /// as in the row path.
    ///
    /// Fields are cast independently (a row that fails one field is still cast in the others;
    /// it leaves the selection, so those values are never read) and the failures are merged in
    /// field order afterwards: no per-row lookup of the rows failed so far.
    private func applyToColumns(_ batch: inout Batch, positions: [Int], targets: [Target]) {
        var failures: [(row: Int, error: RecordError)] = []
        batch.withColumns { c in
            let work = positions.indices.filter { k in
                let kind = c.columns[positions[k]].kind
                return !Self.alreadyColumn(kind, targets[k]) && kind != .null
            }
            var failed = Set<Int>()
            for k in work {
                let (column, fieldFailures) = Self.castColumn(
                    c.columns[positions[k]], to: targets[k], field: casts[k].field, selection: c.selection,
                    physicalCount: c.physicalCount)
                c.columns[positions[k]] = column
                for f in fieldFailures where failed.insert(f.row).inserted { failures.append(f) }
            }
        }
        // In row order, so that the dead letters come out in the order the records were read.
        failures.sort { $0.row < $1.row }
        batch.reject(rows: failures, stage: "transform:cast")
    }

    /// `column` cast to `target` over `selection` (null elsewhere), and the rows that failed.
    private static func castColumn(
        _ column: Column, to target: Target, field: String, selection: [Int], physicalCount: Int
    ) -> (column: Column, failures: [(row: Int, error: RecordError)]) {
        var failures: [(row: Int, error: RecordError)] = []
        let cast = ColumnBuilder.derive(kind(of: target), from: column, selection: selection, physicalCount: physicalCount) { row, out in
            if ColumnCast.append(column, row, as: target, to: &out) { return }
            let v = column.value(row)
            if let converted = convert(v, to: target) {
                out.append(converted)
            } else {
                let shown = v.text.count > 60 ? String(v.text.prefix(60)) + "…" : v.text
                failures.append((row, RecordError(code: "cast_failed", message: "cannot cast '\(shown)' to \(describe(target))", field: field)))
                out.appendNull()
            }
        }
        return (cast, failures)
    }

    static func alreadyColumn(_ kind: Column.Kind, _ target: Target) -> Bool {
        switch (target, kind) {
        case (.int, .int), (.double, .double), (.bool, .bool), (.string, .string), (.timestamp, .timestamp): true
        default: false
        }
    }

    static func kind(of target: Target) -> Column.Kind {
        switch target {
        case .int: .int
        case .double: .double
        case .bool: .bool
        case .string: .string
        case .timestamp: .timestamp
        }
    }

    @inline(__always)
    static func already(_ v: Value, _ target: Target) -> Bool {
        switch (target, v) {
        case (.int, .int), (.double, .double), (.bool, .bool), (.string, .string), (.timestamp, .timestamp): true
        default: false
        }
    }

    static func describe(_ t: Target) -> String {
        if case .timestamp(let f) = t { return "timestamp (\(f))" }
        return t.name
    }

    /// The value converted, or nil when it cannot be.
    public static func convert(_ v: Value, to target: Target) -> Value? {
        switch (target, v) {
        case (.string, _): return .string(v.text)
        case (.int, .int): return v
        case (.int, .string(let s)):
            if let i = Int64(s) { return .int(i) }
            let t = s.trimmingWhitespace()
            if let i = Int64(t) { return .int(i) }
            if let d = Double(t), d.isFinite, d == d.rounded(), abs(d) < 9.2e18 { return .int(Int64(d)) }
            return nil
        case (.int, .double(let d)): return d.isFinite && d == d.rounded() && abs(d) < 9.2e18 ? .int(Int64(d)) : nil
        case (.int, .bool(let b)): return .int(b ? 1 : 0)
        case (.double, .double): return v
        case (.double, .int(let i)): return .double(Double(i))
        case (.double, .string(let s)):
            guard let d = Double(s) ?? Double(s.trimmingWhitespace()), d.isFinite else { return nil }
            return .double(d)
        case (.bool, .bool): return v
        case (.bool, .int(let i)): return i == 0 || i == 1 ? .bool(i == 1) : nil
        case (.bool, .string(let s)):
            switch s.trimmingWhitespace().lowercased() {
            case "true", "t", "yes", "y", "1": return .bool(true)
            case "false", "f", "no", "n", "0": return .bool(false)
            default: return nil
            }
        case (.timestamp, .timestamp): return v
        case (.timestamp(let f), .string(let s)): return f.parse(s).map(Value.timestamp)
        case (.timestamp(let f), .int), (.timestamp(let f), .double):
            guard f == .epochSeconds || f == .epochMillis else { return nil }
            return f.parse(v.text).map(Value.timestamp)
        default: return nil
        }
    }
}
