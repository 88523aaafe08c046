/// A JSON document whose objects keep their keys in the order written, so the schema prints
/// the same every time (a committed copy, a diff in review) and reads in declaration order.
public indirect enum JSONTree: Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([JSONTree])
    case object([(String, JSONTree)])

    public static func == (a: JSONTree, b: JSONTree) -> Bool { a.rendered() == b.rendered() }

    /// Two-space indented JSON with a newline at the end.
    public func rendered() -> String {
        var out = ""
        write(into: &out, indent: "")
        return out + "\n"
    }

    private func write(into out: inout String, indent: String) {
        switch self {
        case .string(let s): out += Self.quoted(s)
        case .number(let d): out += d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b): out += b ? "true" : "false"
        case .array(let items):
            if items.isEmpty {
                out += "[]"
                return
            }
            // Short lists of scalars (enums, type lists) stay on one line.
            if items.count <= 8,
                items.allSatisfy({ if case .object = $0 { false } else if case .array = $0 { false } else { true } })
            {
                out += "[" + items.map { $0.rendered().dropLast() }.joined(separator: ", ") + "]"
                return
            }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += indent + "  "
                item.write(into: &out, indent: indent + "  ")
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        case .object(let entries):
            if entries.isEmpty {
                out += "{}"
                return
            }
            out += "{\n"
            for (i, (key, value)) in entries.enumerated() {
                out += indent + "  " + Self.quoted(key) + ": "
                value.write(into: &out, indent: indent + "  ")
                out += i == entries.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
