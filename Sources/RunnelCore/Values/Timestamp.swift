/// An instant in UTC with microsecond precision, counted from the Unix epoch.
///
/// Kept as a plain integer so that comparisons (version guards, windows) are exact and cheap.
public struct Timestamp: Sendable, Hashable, Comparable {
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }
    public init(seconds: Int64) { self.microseconds = seconds * 1_000_000 }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    public var secondsSinceEpoch: Double { Double(microseconds) / 1_000_000 }

    /// `YYYY-MM-DDTHH:MM:SS[.f…]Z` in its shortest exact form: no fraction for a whole second,
    /// otherwise only the digits needed (`.5`, `.25`, `.000001`), so that a value read as
    /// `10:00:00` is written back as `10:00:00Z`.
    public var iso8601: String { format(alwaysFraction: false) }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, fixed width, so that text order is time order (for stores
    /// that keep timestamps as text and compare them in version guards).
    public var iso8601FixedWidth: String { format(alwaysFraction: true) }

    /// The UTC civil date, second of the day and microsecond, for formatters (flooring negatives).
    public var components: (year: Int64, month: Int, day: Int, secondOfDay: Int64, microsecond: Int64) {
        if microseconds >= 0 {
            // Since 1970 (most data): unsigned division by constants, without the sign fix-ups.
            let us = UInt64(bitPattern: microseconds)
            let secs = us / 1_000_000
            let days = secs / 86_400
            let (y, m, d) = CivilDate.fromDays(Int64(bitPattern: days))
            return (y, m, d, Int64(bitPattern: secs % 86_400), Int64(bitPattern: us % 1_000_000))
        }
        var (secs, micros) = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        if micros < 0 {
            micros += 1_000_000
            secs -= 1
        }
        var (days, secOfDay) = secs.quotientAndRemainder(dividingBy: 86_400)
        if secOfDay < 0 {
            secOfDay += 86_400
            days -= 1
        }
        let (y, m, d) = CivilDate.fromDays(days)
        return (y, m, d, secOfDay, micros)
    }

    /// Formats into a stack buffer: this runs once per timestamp per record on the load path.
    private func format(alwaysFraction: Bool) -> String {
        let (y, m, d, secOfDay, micros) = components
        return format4(y: y, m: m, d: d, secOfDay: secOfDay, micros: micros, alwaysFraction: alwaysFraction)
    }

    /// Years outside 0...9999 get a sign or more digits; they are rare and take the same path.
    private func format4(y: Int64, m: Int, d: Int, secOfDay: Int64, micros: Int64, alwaysFraction: Bool) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { buf in
            let n = Self.write(y: y, m: m, d: d, secOfDay: secOfDay, micros: micros, alwaysFraction: alwaysFraction, into: buf)
            return String(decoding: UnsafeBufferPointer(rebasing: buf[0..<n]), as: UTF8.self)
        }
    }

    /// Writes `iso8601` (or `iso8601FixedWidth`) into `buf` (at least 40 bytes) and returns its
    /// length: for loaders that format into scratch memory instead of making a String per value.
    public func writeISO8601(into buf: UnsafeMutableBufferPointer<UInt8>, alwaysFraction: Bool = false) -> Int {
        let (y, m, d, secOfDay, micros) = components
        return Self.write(y: y, m: m, d: d, secOfDay: secOfDay, micros: micros, alwaysFraction: alwaysFraction, into: buf)
    }

    /// "00" to "99", two bytes per number.
    private static let pairs: StaticString = """
        0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
        5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899
        """

    private static func write(
        y: Int64, m: Int, d: Int, secOfDay: Int64, micros: Int64, alwaysFraction: Bool, into buf: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
        // Years 0 to 9999 (all but rare data): two digits at a time from a table.
        if y >= 0, y <= 9999 {
            let p = pairs.utf8Start
            let out = buf.baseAddress.unsafelyUnwrapped
            @inline(__always) func two(_ v: UInt, at i: Int) {
                out[i] = p[Int(bitPattern: v &* 2)]
                out[i &+ 1] = p[Int(bitPattern: v &* 2 &+ 1)]
            }
            let year = UInt(truncatingIfNeeded: y)
            let second = UInt(truncatingIfNeeded: secOfDay)
            two(year / 100, at: 0); two(year % 100, at: 2); out[4] = UInt8(ascii: "-")
            two(UInt(truncatingIfNeeded: m), at: 5); out[7] = UInt8(ascii: "-"); two(UInt(truncatingIfNeeded: d), at: 8); out[10] = UInt8(ascii: "T")
            two(second / 3600, at: 11); out[13] = UInt8(ascii: ":"); two(second / 60 % 60, at: 14); out[16] = UInt8(ascii: ":")
            two(second % 60, at: 17)
            var i = 19
            if micros != 0 || alwaysFraction {
                out[19] = UInt8(ascii: ".")
                let v = UInt(truncatingIfNeeded: micros)
                two(v / 10_000, at: 20); two(v / 100 % 100, at: 22); two(v % 100, at: 24)
                i = 26
                if !alwaysFraction { while out[i &- 1] == UInt8(ascii: "0") { i &-= 1 } }
            }
            out[i] = UInt8(ascii: "Z")
            return i &+ 1
        }
        var i = 0
        func put(_ v: Int64, _ width: Int) {
            var v = v
            for k in stride(from: width - 1, through: 0, by: -1) {
                buf[i + k] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
            i += width
        }
        func char(_ c: Unicode.Scalar) {
            buf[i] = UInt8(ascii: c)
            i += 1
        }
        if y < 0 {
            char("-")
            put(-y, max(4, String(-y).count))
        } else if y > 9999 {
            put(y, String(y).count)
        } else {
            put(y, 4)
        }
        char("-"); put(Int64(m), 2); char("-"); put(Int64(d), 2)
        char("T"); put(secOfDay / 3600, 2); char(":"); put(secOfDay / 60 % 60, 2); char(":"); put(secOfDay % 60, 2)
        if micros != 0 || alwaysFraction {
            char(".")
            var digits = micros
            var width = 6
            while !alwaysFraction, digits % 10 == 0 {
                digits /= 10
                width -= 1
            }
            put(digits, width)
        }
        char("Z")
        return i
    }
}

/// Proleptic Gregorian calendar arithmetic (Howard Hinnant's days-from-civil algorithms),
/// used instead of Foundation's Calendar: exact, allocation-free and independent of the locale.
public enum CivilDate {
    /// Days since 1970-01-01 for a valid civil date.
    // Wrapping arithmetic, and unsigned division where the operand cannot be negative (the day
    // and year of the era): this runs per timestamp per record, and checked signed division
    // by a constant costs several times the unsigned one. Years are those a `Timestamp` of
    // microseconds can hold (about ±292,000), far from any overflow.
    public static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year &- 1 : year
        let era = (y >= 0 ? y : y &- 399) / 400
        let yoe = UInt64(bitPattern: y &- era &* 400)
        let m = UInt64(truncatingIfNeeded: month)
        let doy = (153 &* (m > 2 ? m &- 3 : m &+ 9) &+ 2) / 5 &+ UInt64(truncatingIfNeeded: day) &- 1
        let doe = yoe &* 365 &+ yoe / 4 &- yoe / 100 &+ doy
        return era &* 146_097 &+ Int64(bitPattern: doe) &- 719_468
    }

    public static func fromDays(_ z0: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = z0 &+ 719_468
        let era = (z >= 0 ? z : z &- 146_096) / 146_097
        let doe = UInt64(bitPattern: z &- era &* 146_097)
        let yoe = (doe &- doe / 1460 &+ doe / 36524 &- doe / 146_096) / 365
        let doy = doe &- (365 &* yoe &+ yoe / 4 &- yoe / 100)
        let mp = (5 &* doy &+ 2) / 153
        let d = Int(truncatingIfNeeded: doy &- (153 &* mp &+ 2) / 5 &+ 1)
        let m = Int(truncatingIfNeeded: mp < 10 ? mp &+ 3 : mp &- 9)
        return (Int64(bitPattern: yoe) &+ era &* 400 &+ (m <= 2 ? 1 : 0), m, d)
    }

    public static func isLeap(_ y: Int64) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysIn(month: Int, year: Int64) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
