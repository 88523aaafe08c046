/// A JSON document that does not follow RFC 8259, with the place where parsing stopped.
///
/// `offset` is a 0-based byte offset into the parsed bytes; `line` and `column` are 1-based and
/// count bytes (not characters), so for one JSON Lines record `column == offset + 1`.
///
/// `Code` is a struct over a private enum so that new codes do not break callers' `switch`es;
/// `code.description` is a short, label-safe name for metrics and dead letter reasons.
public struct JSONError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unexpectedEnd = "unexpected_end"
            case unexpectedCharacter = "unexpected_character"
            case invalidNumber = "invalid_number"
            case numberOutOfRange = "number_out_of_range"
            case invalidString = "invalid_string"
            case tooDeep = "too_deep"
            case trailingCharacters = "trailing_characters"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The input ended inside a value (or was empty).
        public static let unexpectedEnd = Code(.unexpectedEnd)
        /// A byte that cannot start or continue the value being parsed (a missing `,` or `:`,
        /// a trailing comma, a bad literal).
        public static let unexpectedCharacter = Code(.unexpectedCharacter)
        /// A number that breaks the grammar (leading zeros, a bare `-`, `1.`, `1e`).
        public static let invalidNumber = Code(.invalidNumber)
        /// A number beyond the range of a double (`1e400`): rejected rather than read as an
        /// infinity that a store would keep as NULL or refuse.
        public static let numberOutOfRange = Code(.numberOutOfRange)
        /// A string with invalid UTF-8, an unescaped control character, a bad escape or no end.
        public static let invalidString = Code(.invalidString)
        /// Arrays and objects nested deeper than `JSONText.maximumDepth`.
        public static let tooDeep = Code(.tooDeep)
        /// Something other than whitespace after the one top-level value.
        public static let trailingCharacters = Code(.trailingCharacters)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// What was wrong, e.g. "expected ',' or '}' after object member".
    public var message: String
    /// 0-based byte offset of the offending byte (or of the end of input).
    public var offset: Int
    /// 1-based line (lines end at LF).
    public var line: Int
    /// 1-based byte column within `line`.
    public var column: Int

    public init(code: Code, message: String, offset: Int, line: Int = 1, column: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column ?? offset + 1
    }

    /// `invalid JSON at line 1, column 14 (byte 13): expected ',' or '}' after object member`
    public var description: String {
        "invalid JSON at line \(line), column \(column) (byte \(offset)): \(message)"
    }
}
