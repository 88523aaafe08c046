/// Ordering of values for filters, validators and version guards.
public enum Comparison {
    public enum Order: Sendable { case orderedAscending, orderedSame, orderedDescending }

    /// Compares two values of comparable kinds: numbers with numbers (int and double mixed),
    /// strings with strings, timestamps with timestamps, bools with bools. Nil otherwise.
    public static func compare(_ a: Value, _ b: Value) -> Order? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return order(x, y)
        case (.timestamp(let x), .timestamp(let y)): return order(x, y)
        case (.string(let x), .string(let y)): return order(x, y)
        case (.bool(let x), .bool(let y)): return order(x ? 1 : 0, y ? 1 : 0)
        default:
            if let x = a.numeric, let y = b.numeric { return order(x, y) }
            return nil
        }
    }

    private static func order<T: Comparable>(_ x: T, _ y: T) -> Order {
        x < y ? .orderedAscending : (x == y ? .orderedSame : .orderedDescending)
    }
}
