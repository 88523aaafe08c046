public import RunnelCore

/// A CEL timestamp (`google.protobuf.Timestamp`): nanoseconds since the Unix epoch, limited to
/// 0001-01-01T00:00:00Z ... 9999-12-31T23:59:59.999999999Z. Runnel's timestamps (microseconds)
/// convert exactly into it; the other way truncates to microseconds.
public struct CELTimestamp: Sendable, Hashable, Comparable {
    public let nanoseconds: Int128

    static let minSeconds: Int128 = -62_135_596_800  // 0001-01-01T00:00:00Z
    static let maxSeconds: Int128 = 253_402_300_799  // 9999-12-31T23:59:59Z

    /// Nil when out of CEL's range.
    public init?(nanoseconds: Int128) {
        guard nanoseconds >= Self.minSeconds * 1_000_000_000, nanoseconds < (Self.maxSeconds + 1) * 1_000_000_000 else {
            return nil
        }
        self.nanoseconds = nanoseconds
    }

    public init(_ t: Timestamp) { nanoseconds = Int128(t.microseconds) * 1000 }

    public static func < (a: Self, b: Self) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Whole seconds since the epoch (floored) and the nanoseconds within the second.
    var split: (seconds: Int64, nanos: Int64) {
        var (s, n) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        if n < 0 {
            n += 1_000_000_000
            s -= 1
        }
        return (Int64(s), Int64(n))
    }

    /// Runnel's timestamp: truncated (floored) to microseconds.
    public var runnel: Timestamp {
        var (us, r) = nanoseconds.quotientAndRemainder(dividingBy: 1000)
        if r < 0 { us -= 1 }
        return Timestamp(microseconds: Int64(us))
    }

    /// RFC 3339 in UTC, with 0, 3, 6 or 9 fraction digits as needed (as CEL implementations print it).
    var text: String {
        let (secs, nanos) = split
        var (days, secOfDay) = secs.quotientAndRemainder(dividingBy: 86_400)
        if secOfDay < 0 {
            secOfDay += 86_400
            days -= 1
        }
        let (y, m, d) = CivilDate.fromDays(days)
        var out = pad(y, 4) + "-" + pad(Int64(m), 2) + "-" + pad(Int64(d), 2) + "T"
        out += pad(secOfDay / 3600, 2) + ":" + pad(secOfDay / 60 % 60, 2) + ":" + pad(secOfDay % 60, 2)
        out += fraction(nanos) + "Z"
        return out
    }

    /// Parses RFC 3339: `2009-02-13T23:31:30Z`, `...30.123456789Z`, `...30+05:30`. Lower-case `t`/`z`
    /// are accepted as RFC 3339 allows.
    static func parse(_ s: String) -> CELTimestamp? {
        let b = Array(s.utf8)
        var i = 0
        func digits(_ n: Int) -> Int64? {
            guard i + n <= b.count else { return nil }
            var v: Int64 = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 0x30, c <= 0x39 else { return nil }
                v = v * 10 + Int64(c - 0x30)
            }
            i += n
            return v
        }
        func lit(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let y = digits(4), lit(0x2D), let mo = digits(2), lit(0x2D), let d = digits(2) else { return nil }
        guard i < b.count, b[i] | 0x20 == UInt8(ascii: "t") else { return nil }
        i += 1
        guard let h = digits(2), lit(0x3A), let mi = digits(2), lit(0x3A), let se = digits(2) else { return nil }
        var nanos: Int64 = 0
        if lit(0x2E) {
            var n = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                if n < 9 { nanos = nanos * 10 + Int64(b[i] - 0x30) }
                n += 1
                i += 1
            }
            guard n > 0 else { return nil }
            for _ in n..<max(n, 9) { nanos *= 10 }
        }
        var offset: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] | 0x20 == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == 0x2B || b[i] == 0x2D {
            let sign: Int64 = b[i] == 0x2B ? 1 : -1
            i += 1
            guard let oh = digits(2), lit(0x3A), let om = digits(2), oh < 24, om < 60 else { return nil }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard i == b.count, (1...12).contains(mo), d >= 1, d <= Int64(CivilDate.daysIn(month: Int(mo), year: y)),
            h < 24, mi < 60, se < 60
        else { return nil }
        let days = CivilDate.days(year: y, month: Int(mo), day: Int(d))
        let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset
        return CELTimestamp(nanoseconds: Int128(secs) * 1_000_000_000 + Int128(nanos))
    }
}

/// A CEL duration (`google.protobuf.Duration`): signed nanoseconds in one int64, as the language
/// definition limits it (about ±292 years).
public struct CELDuration: Sendable, Hashable, Comparable {
    public let nanoseconds: Int128

    public init?(nanoseconds: Int128) {
        guard nanoseconds >= Int128(Int64.min), nanoseconds <= Int128(Int64.max) else { return nil }
        self.nanoseconds = nanoseconds
    }

    public static func < (a: Self, b: Self) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Seconds with a fraction and an `s`: `90s`, `1.5s`, `-0.000001s`.
    var text: String {
        let neg = nanoseconds < 0
        let (s, n) = nanoseconds.magnitude.quotientAndRemainder(dividingBy: 1_000_000_000)
        return (neg ? "-" : "") + String(s) + fraction(Int64(n)) + "s"
    }

    /// Parses Go-style durations as CEL specifies them: `1h30m`, `-1.5h`, `250ms`, `1h34us`, `0`.
    static func parse(_ s: String) -> CELDuration? {
        var b = Substring(s)
        var neg = false
        if b.first == "-" || b.first == "+" {
            neg = b.first == "-"
            b = b.dropFirst()
        }
        if b == "0" { return CELDuration(nanoseconds: 0) }
        guard !b.isEmpty else { return nil }
        var total: Int128 = 0
        let units: [(String, Int128)] = [
            ("h", 3_600_000_000_000), ("ms", 1_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000),
            ("us", 1000), ("µs", 1000), ("μs", 1000), ("ns", 1),
        ]
        while !b.isEmpty {
            let number = b.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != "." else { return nil }
            b = b.dropFirst(number.count)
            guard let (unitName, scale) = units.first(where: { b.hasPrefix($0.0) }) else { return nil }
            b = b.dropFirst(unitName.count)
            let parts = number.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count <= 2, let whole = parts[0].isEmpty ? 0 : Int128(parts[0]) else { return nil }
            guard whole <= 1_000_000_000_000_000 else { return nil }
            var amount = whole * scale
            if parts.count == 2 {
                // The fraction scaled to the unit, digit by digit, exactly to the nanosecond.
                var unit = scale
                for c in parts[1] {
                    guard let d = c.wholeNumberValue else { return nil }
                    unit /= 10
                    amount += Int128(d) * unit
                }
            }
            total += amount
            guard total <= Int128(Int64.max) + 1 else { return nil }
        }
        return CELDuration(nanoseconds: neg ? -total : total)
    }
}

private func pad(_ v: Int64, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

/// `.123`, `.123456`, `.123456789` or nothing, as protobuf's JSON form prints fractions.
private func fraction(_ nanos: Int64) -> String {
    if nanos == 0 { return "" }
    if nanos % 1_000_000 == 0 { return "." + pad(nanos / 1_000_000, 3) }
    if nanos % 1000 == 0 { return "." + pad(nanos / 1000, 6) }
    return "." + pad(nanos, 9)
}
