/// Finds the records of a page without building the page's values: the byte ranges of the
/// elements of the array at the records path, and the page with that array emptied (`[]`), which
/// is small and is parsed as before for the pagination (links, totals, cursors).
///
/// Each element then goes straight into the batch's columns by the JSON Lines fast path
/// (`ColumnsBuilder.append(flatJSON:)`), which takes a flat object of scalars and validates it as
/// the parser does. Anything this scan does not recognize simply (a key written with escapes,
/// a path through an array, an element that is not an object, bytes after the document) returns
/// nil, and the page is parsed whole as before: the scan decides only where values are, never
/// whether the page is valid JSON. The rest of the page is parsed by `JSONText`, so a duplicate
/// key or a malformed value outside the records is refused there, and the caller falls back.
enum PageRecords {
    struct Split {
        /// Where each record is, in order.
        var elements: [Range<Int>]
        /// The page with the records array replaced by `[]`.
        var rest: [UInt8]
    }

    static func split(_ b: UnsafeRawBufferPointer, path: [String]) -> Split? {
        var i = 0
        skipSpace(b, &i)
        for key in path {
            guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
            i += 1
            while true {
                guard let name = memberName(b, &i) else { return nil }
                if name.elementsEqual(key.utf8) { break }
                guard skipValue(b, &i) else { return nil }
                skipSpace(b, &i)
                // The key is not in this object (`}`), or the bytes are not an object's: the
                // parser says which.
                guard i < b.count, b[i] == UInt8(ascii: ",") else { return nil }
                i += 1
            }
        }
        guard i < b.count, b[i] == UInt8(ascii: "[") else { return nil }
        let arrayStart = i
        i += 1
        var elements: [Range<Int>] = []
        skipSpace(b, &i)
        if i < b.count, b[i] == UInt8(ascii: "]") {
            i += 1
        } else {
            while true {
                guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
                let start = i
                guard skipValue(b, &i) else { return nil }
                elements.append(start..<i)
                skipSpace(b, &i)
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: "]") {
                    i += 1
                    break
                }
                guard b[i] == UInt8(ascii: ",") else { return nil }
                i += 1
                skipSpace(b, &i)
            }
        }
        var rest: [UInt8] = []
        rest.reserveCapacity(b.count - (i - arrayStart) + 2)
        rest.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[0..<arrayStart]))
        rest.append(UInt8(ascii: "["))
        rest.append(UInt8(ascii: "]"))
        rest.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[i...]))
        // The parser keeps the last of a repeated key: the records are the ones found only when
        // each key of the path appears once in its object.
        guard rest.withUnsafeBytes({ namesOnce(path, in: $0) }) else { return nil }
        return Split(elements: elements, rest: rest)
    }

    /// True when every key of `path` appears exactly once in the object that holds it.
    private static func namesOnce(_ path: [String], in b: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        skipSpace(b, &i)
        for key in path {
            guard i < b.count, b[i] == UInt8(ascii: "{") else { return false }
            i += 1
            var found: Int?
            skipSpace(b, &i)
            if i < b.count, b[i] == UInt8(ascii: "}") { return false }
            while true {
                guard let name = memberName(b, &i) else { return false }
                if name.elementsEqual(key.utf8) {
                    guard found == nil else { return false }
                    found = i
                }
                guard skipValue(b, &i) else { return false }
                skipSpace(b, &i)
                guard i < b.count else { return false }
                if b[i] == UInt8(ascii: "}") { break }
                guard b[i] == UInt8(ascii: ",") else { return false }
                i += 1
            }
            guard let value = found else { return false }
            i = value
        }
        return true
    }

    private static func skipSpace(_ b: UnsafeRawBufferPointer, _ i: inout Int) {
        while i < b.count {
            switch b[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    /// The name of the object member at `i` (spaces before it allowed), with `i` moved to its
    /// value; nil when it is not a plain string followed by `:`.
    private static func memberName(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> UnsafeRawBufferPointer? {
        skipSpace(b, &i)
        guard let name = plainString(b, &i) else { return nil }
        skipSpace(b, &i)
        guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        skipSpace(b, &i)
        return name
    }

    /// A string without escapes at `i` (its quotes excluded); nil for anything else.
    private static func plainString(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> UnsafeRawBufferPointer? {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
        let start = i + 1
        var j = start
        while j < b.count {
            let c = b[j]
            if c == UInt8(ascii: "\"") {
                i = j + 1
                return UnsafeRawBufferPointer(rebasing: b[start..<j])
            }
            if c == UInt8(ascii: "\\") { return nil }
            j += 1
        }
        return nil
    }

    /// Moves `i` past the value that starts there (a string, an object or array with everything
    /// in it, or a scalar's bytes up to the next delimiter); false when the bytes end first.
    /// Brackets are only counted: whether they match is for the parser to say.
    private static func skipValue(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> Bool {
        guard i < b.count else { return false }
        switch b[i] {
        case UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "["): break
        default:
            while i < b.count {
                switch b[i] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D: return true
                default: i += 1
                }
            }
            return true
        }
        var depth = 0
        repeat {
            switch b[i] {
            case UInt8(ascii: "\""):
                i += 1
                while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
                guard i < b.count else { return false }
                i += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                i += 1
            default:
                i += 1
            }
        } while depth > 0 && i < b.count
        return depth == 0
    }
}
