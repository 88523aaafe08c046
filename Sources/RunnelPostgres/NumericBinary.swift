/// PostgreSQL's binary `numeric` from decimal text: the value the server's `numeric_in` reads from
/// the same text, so a double or an integer COPied in binary stores what its COPY text stores
/// (the text is the one the text format writes: the double's shortest decimal, `description`).
///
/// The wire form is `ndigits`, `weight`, `sign`, `dscale` (16 bits each) and `ndigits` base-10000
/// digit groups, the first group's place being 10000^weight. `dscale` is the number of decimal
/// digits after the point, which `numeric_in` takes from the text: the mantissa's fraction digits
/// less the exponent, at least 0 (`2.5e-07`: 8; `1e+16`: 0). The server then rounds to the
/// column's scale and checks its precision (`apply_typmod`), as it does for text.
enum NumericBinary {
    static let positive: UInt16 = 0x0000, negative: UInt16 = 0x4000, nan: UInt16 = 0xC000
    static let plusInfinity: UInt16 = 0xD000, minusInfinity: UInt16 = 0xF000

    /// The field's bytes (without the length) for `text`: `[-]digits[.digits][e[+-]digits]`; nil
    /// for anything else.
    static func encode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var negative = false
        var digits: [UInt8] = []  // every mantissa digit, as values 0...9
        var fractionDigits = 0
        var exponent = 0
        var i = text.startIndex
        if i != text.endIndex, text[i] == UInt8(ascii: "-") {
            negative = true
            text.formIndex(after: &i)
        }
        var seenPoint = false
        var mantissaDigits = 0
        while i != text.endIndex {
            let c = text[i]
            if c >= 0x30, c <= 0x39 {
                digits.append(c - 0x30)
                mantissaDigits += 1
                if seenPoint { fractionDigits += 1 }
            } else if c == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else {
                break
            }
            text.formIndex(after: &i)
        }
        guard mantissaDigits > 0 else { return nil }
        if i != text.endIndex {
            guard text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E") else { return nil }
            text.formIndex(after: &i)
            var exponentNegative = false
            if i != text.endIndex, text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-") {
                exponentNegative = text[i] == UInt8(ascii: "-")
                text.formIndex(after: &i)
            }
            var seen = false
            while i != text.endIndex {
                let c = text[i]
                guard c >= 0x30, c <= 0x39, exponent < 100_000 else { return nil }
                exponent = exponent * 10 + Int(c - 0x30)
                seen = true
                text.formIndex(after: &i)
            }
            guard seen else { return nil }
            if exponentNegative { exponent = -exponent }
        }
        // value = digits × 10^(exponent - fractionDigits)
        let dscale = max(0, fractionDigits - exponent)
        let shift = exponent - fractionDigits
        var integer: ArraySlice<UInt8>
        var fraction: [UInt8]
        if shift >= 0 {
            integer = ArraySlice(digits + Array(repeating: 0, count: shift))
            fraction = []
        } else if digits.count > -shift {
            integer = digits[..<(digits.count + shift)]
            fraction = Array(digits[(digits.count + shift)...])
        } else {
            integer = []
            fraction = Array(repeating: 0, count: -shift - digits.count) + digits
        }
        while let first = integer.first, first == 0 { integer = integer.dropFirst() }
        // Groups of four decimal digits, aligned on the point.
        var groups: [Int16] = []
        let lead = (4 - integer.count % 4) % 4
        let padded = Array(repeating: UInt8(0), count: lead) + integer
        for g in stride(from: 0, to: padded.count, by: 4) {
            groups.append(Int16(padded[g]) * 1000 + Int16(padded[g + 1]) * 100 + Int16(padded[g + 2]) * 10 + Int16(padded[g + 3]))
        }
        var weight = groups.count - 1
        fraction += Array(repeating: 0, count: (4 - fraction.count % 4) % 4)
        for g in stride(from: 0, to: fraction.count, by: 4) {
            groups.append(Int16(fraction[g]) * 1000 + Int16(fraction[g + 1]) * 100 + Int16(fraction[g + 2]) * 10 + Int16(fraction[g + 3]))
        }
        // No leading or trailing zero groups (the server's own form; zero has no groups).
        var start = 0
        while start < groups.count, groups[start] == 0 {
            start += 1
            weight -= 1
        }
        var end = groups.count
        while end > start, groups[end - 1] == 0 { end -= 1 }
        if start == end { weight = 0 }
        guard weight >= Int(Int16.min), weight <= Int(Int16.max), dscale <= 0x3FFF else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(8 + 2 * (end - start))
        func int16(_ v: Int16) { withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) } }
        int16(Int16(end - start))
        int16(Int16(weight))
        int16(Int16(bitPattern: start == end ? positive : negative ? Self.negative : positive))
        int16(Int16(dscale))
        for g in groups[start..<end] { int16(g) }
        return out
    }

    /// NaN and the infinities (PostgreSQL 14 and later), which have no digits.
    static func special(_ d: Double) -> [UInt8]? {
        let sign: UInt16
        if d.isNaN { sign = nan } else if d == .infinity { sign = plusInfinity } else if d == -.infinity { sign = minusInfinity } else { return nil }
        var out: [UInt8] = []
        for v in [Int16(0), 0, Int16(bitPattern: sign), 0] { withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) } }
        return out
    }
}
