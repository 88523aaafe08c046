/// A problem found while reading or checking an expression, at a position inside it.
///
/// `offset` counts UTF-8 bytes from the start of the expression text; `column` counts characters
/// (1-based), which is what a YAML position adds to. `caretLine` renders the expression with a `^`
/// under the problem, for messages like
///
///     pipeline.yaml:12:17: transform[1].expr: unknown function 'sise'
///       size(items) > 0 && sise(tags) > 1
///                          ^
public struct CompileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// Byte offset in the expression text.
    public var offset: Int
    /// The expression text the offset refers to.
    public var source: String

    public init(_ message: String, offset: Int, source: String) {
        self.message = message
        self.offset = offset
        self.source = source
    }

    /// Line of the problem inside the expression (1-based; expressions may span lines).
    public var line: Int { 1 + prefix.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) } }

    /// Column of the problem on its line, in characters (1-based).
    public var column: Int {
        let bytes = prefix
        let lineStart = (bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
        return 1 + String(decoding: bytes[lineStart...], as: UTF8.self).unicodeScalars.count
    }

    /// The line of the expression holding the problem and a caret under it.
    public var caretLine: String {
        let utf8 = Array(source.utf8)
        let at = min(max(offset, 0), utf8.count)
        let start = (utf8[..<at].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
        let end = utf8[at...].firstIndex(of: UInt8(ascii: "\n")) ?? utf8.count
        let text = String(decoding: utf8[start..<end], as: UTF8.self)
        // Tabs stay tabs so that the caret lines up in a terminal.
        let pad = String(decoding: utf8[start..<at], as: UTF8.self).unicodeScalars.map { $0 == "\t" ? "\t" : " " }
        return text + "\n" + pad.joined() + "^"
    }

    public var description: String { "\(line):\(column): \(message)\n\(caretLine)" }

    private var prefix: ArraySlice<UInt8> {
        let utf8 = Array(source.utf8)
        return utf8[..<min(max(offset, 0), utf8.count)]
    }
}
