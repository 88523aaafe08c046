/// Just enough XML for S3's and STS's responses: flat elements whose text is wanted
/// (`<Key>…</Key>`), found by name inside a parent's text.
///
/// Their schemas are fixed and shallow, so a scanner reads them without an XML library (Foundation's
/// XML parser would bring in libxml2 for a handful of tags). Entities are decoded; CDATA and
/// attributes are not used by these responses.
enum S3XML {
    /// The text of every `<name>…</name>` in `xml`, in order (nested same-named elements are not
    /// expected in these schemas).
    static func elements(_ name: String, in xml: Substring) -> [Substring] {
        var found: [Substring] = []
        let open = "<\(name)>"
        let close = "</\(name)>"
        var rest = xml[...]
        while let o = rest.firstRange(of: open) {
            guard let c = rest[o.upperBound...].firstRange(of: close) else { break }
            found.append(rest[o.upperBound..<c.lowerBound])
            rest = rest[c.upperBound...]
        }
        return found
    }

    /// The decoded text of the first `<name>` in `xml`, or nil.
    static func text(_ name: String, in xml: Substring) -> String? {
        let open = "<\(name)>"
        guard let o = xml.firstRange(of: open), let c = xml[o.upperBound...].firstRange(of: "</\(name)>") else { return nil }
        return decodeEntities(xml[o.upperBound..<c.lowerBound])
    }

    static func decodeEntities(_ s: Substring) -> String {
        guard s.contains("&") else { return String(s) }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "&", let semi = s[i...].firstIndex(of: ";") {
                let entity = s[s.index(after: i)..<semi]
                var decoded: String?
                switch entity {
                case "amp": decoded = "&"
                case "lt": decoded = "<"
                case "gt": decoded = ">"
                case "quot": decoded = "\""
                case "apos": decoded = "'"
                default:
                    if entity.hasPrefix("#x"), let n = UInt32(entity.dropFirst(2), radix: 16), let u = Unicode.Scalar(n) {
                        decoded = String(Character(u))
                    } else if entity.hasPrefix("#"), let n = UInt32(entity.dropFirst()), let u = Unicode.Scalar(n) {
                        decoded = String(Character(u))
                    }
                }
                if let decoded {
                    out += decoded
                    i = s.index(after: semi)
                    continue
                }
            }
            out.append(s[i])
            i = s.index(after: i)
        }
        return out
    }

    /// Escapes text for an element body.
    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// Decodes a key listed with `encoding-type=url` (`+` is a space, `%XX` a byte).
    static func urlDecode(_ s: String) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == 0x2B {
                bytes.append(0x20)
            } else if b == 0x25, it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
