/// Expands `${VAR}` and `${VAR:-default}` in a spec value from the environment, the way
/// Kubernetes passes secrets. `$$` is a literal `$`.
public struct Environment: Sendable {
    public var variables: [String: String]

    public init(_ variables: [String: String]) { self.variables = variables }

    /// The process environment.
    public static var process: Environment {
        var vars: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { vars[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return Environment(vars)
    }

    public subscript(name: String) -> String? { variables[name] }

    /// The text with every reference expanded; throws the message for an unset variable
    /// without a default, or an unterminated reference.
    public func expand(_ text: String) throws(EnvironmentError) -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            let next = text.index(after: i)
            if c == "$", next < text.endIndex, text[next] == "$" {
                out.append("$")
                i = text.index(after: next)
                continue
            }
            guard c == "$", next < text.endIndex, text[next] == "{" else {
                out.append(c)
                i = next
                continue
            }
            guard let close = text[next...].firstIndex(of: "}") else {
                throw EnvironmentError(message: "unterminated '${' in '\(text)'")
            }
            let body = String(text[text.index(after: next)..<close])
            let name: String
            var fallback: String?
            let chars = Array(body)
            if let k = chars.indices.first(where: { $0 + 1 < chars.count && chars[$0] == ":" && chars[$0 + 1] == "-" }) {
                name = String(chars[..<k])
                fallback = String(chars[(k + 2)...])
            } else {
                name = body
            }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw EnvironmentError(message: "'${\(body)}' is not a valid variable reference")
            }
            if let v = variables[name], !(v.isEmpty && fallback != nil) {
                out += v
            } else if let fallback {
                out += fallback
            } else {
                throw EnvironmentError(message: "environment variable \(name) is not set (use ${\(name):-default} for a default)")
            }
            i = text.index(after: close)
        }
        return out
    }
}

public struct EnvironmentError: Error, Sendable {
    public var message: String
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
