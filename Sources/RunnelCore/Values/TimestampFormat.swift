/// Parses text into a `Timestamp`: ISO 8601 (flexible), Unix epoch numbers, or a strftime-style
/// pattern (`%Y-%m-%d %H:%M:%S`).
///
/// Written by hand rather than with Foundation's DateFormatter: it is exact about impossible
/// dates (`2024-02-30` is an error, not March 1st), locale-free, and fast enough for a data path.
public struct TimestampFormat: Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case iso8601
        case epochSeconds
        case epochMillis
        case pattern([Token])
    }

    private enum Token: Hashable, Sendable {
        case literal(UInt8)
        case year, month, day, hour, minute, second, fraction, zone
    }

    private let kind: Kind
    public let description: String

    /// `2024-03-01`, `2024-03-01T12:30:00`, `2024-03-01 12:30:00.25+02:00`, `...Z`.
    public static let iso8601 = TimestampFormat(kind: .iso8601, description: "iso8601")
    public static let epochSeconds = TimestampFormat(kind: .epochSeconds, description: "epoch_seconds")
    public static let epochMillis = TimestampFormat(kind: .epochMillis, description: "epoch_millis")

    private init(kind: Kind, description: String) {
        self.kind = kind
        self.description = description
    }

    /// The pattern directives: `%Y %m %d %H %M %S %f %z %%`; anything else is literal.
    public static let directives = ["%Y", "%m", "%d", "%H", "%M", "%S", "%f", "%z", "%%"]

    /// A named format (`iso8601`, `epoch_seconds`, `epoch_millis`) or a strftime-style pattern.
    /// Returns nil, with the reason, for a pattern with an unknown directive.
    public init(spec: String) throws(RecordError) {
        switch spec {
        case "iso8601", "iso_8601", "rfc3339": self = .iso8601
        case "epoch_seconds", "epoch", "unix": self = .epochSeconds
        case "epoch_millis", "unix_millis": self = .epochMillis
        default:
            var tokens: [Token] = []
            var bytes = Array(spec.utf8)[...]
            while let b = bytes.popFirst() {
                guard b == UInt8(ascii: "%") else {
                    tokens.append(.literal(b))
                    continue
                }
                guard let d = bytes.popFirst() else {
                    throw RecordError(code: "bad_format", message: "timestamp format ends with a lone '%'")
                }
                switch d {
                case UInt8(ascii: "Y"): tokens.append(.year)
                case UInt8(ascii: "m"): tokens.append(.month)
                case UInt8(ascii: "d"): tokens.append(.day)
                case UInt8(ascii: "H"): tokens.append(.hour)
                case UInt8(ascii: "M"): tokens.append(.minute)
                case UInt8(ascii: "S"): tokens.append(.second)
                case UInt8(ascii: "f"): tokens.append(.fraction)
                case UInt8(ascii: "z"): tokens.append(.zone)
                case UInt8(ascii: "%"): tokens.append(.literal(d))
                default:
                    throw RecordError(
                        code: "bad_format",
                        message: "unknown directive '%\(Character(Unicode.Scalar(d)))' in timestamp format '\(spec)'; "
                            + "known: \(Self.directives.joined(separator: " "))")
                }
            }
            self.init(kind: .pattern(tokens), description: spec)
        }
    }

    /// The timestamp, or nil when `text` does not match or names an impossible date or time.
    public func parse(_ text: String) -> Timestamp? {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }

    /// As `parse(_:)`, from UTF-8 bytes (a string column's row, without making a String).
    public func parse(utf8 buf: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        var s = Scanner(bytes: buf)
        switch kind {
        case .iso8601:
            if let t = Self.canonicalISO8601(buf) { return t }
            return s.iso8601()
        case .epochSeconds: return s.epoch(scale: 1_000_000)
        case .epochMillis: return s.epoch(scale: 1_000)
        case .pattern(let tokens): return s.pattern(tokens)
        }
    }

    /// ISO 8601 by the general scanner alone (the tests compare the fast path with it).
    static func scanISO8601(_ buf: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        var s = Scanner(bytes: buf)
        return s.iso8601()
    }

    /// The form most data holds, `YYYY-MM-DDTHH:MM:SS[.f…]Z`, read at fixed positions: the same
    /// value the scanner reads (and the same checks of the date and time), at a fraction of its
    /// cost. Nil for anything else, which the scanner then reads (or rejects).
    @inline(__always)
    static func canonicalISO8601(_ b: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        let n = b.count
        guard n >= 20, n <= 30, let p = b.baseAddress, b[n - 1] == UInt8(ascii: "Z") else { return nil }
        // `YYYY-MM-DDTHH:MM:SS` as three words (bytes 0–7, 8–15, 12–19; little-endian, byte k in
        // bits 8k…8k+7): separators by one masked compare per word, digits checked all at once.
        let raw = UnsafeRawPointer(p)
        let w0 = raw.loadUnaligned(as: UInt64.self)
        let w1 = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let w2 = raw.loadUnaligned(fromByteOffset: 12, as: UInt64.self)
        // The separators: `-` at 4 and 7; `T` at 10, `:` at 13; `:` at 13 and 16 again in the
        // third word, whose last byte (19, `Z` or `.`) is not a digit either (checked below).
        let separators0: UInt64 = 0xFF00_00FF_0000_0000, separators1: UInt64 = 0x0000_FF00_00FF_0000
        let separators2: UInt64 = 0x0000_00FF_0000_FF00, notDigits2: UInt64 = 0xFF00_00FF_0000_FF00
        guard w0 & separators0 == 0x2D00_002D_0000_0000, w1 & separators1 == 0x0000_3A00_0054_0000, w2 & separators2 == 0x0000_003A_0000_3A00
        else { return nil }
        // The digits less "0": a separator is first made a "0", so that no borrow leaves it. A
        // byte that is not a digit sets its high bit here, below "0" by the subtraction, above
        // "9" by the addition (a borrow or carry it starts only reaches higher bytes).
        @inline(__always) func digits(_ w: UInt64, _ separators: UInt64) -> UInt64 {
            (w & ~separators | 0x3030_3030_3030_3030 & separators) &- 0x3030_3030_3030_3030
        }
        let d0 = digits(w0, separators0), d1 = digits(w1, separators1), d2 = digits(w2, notDigits2)
        @inline(__always) func bad(_ d: UInt64) -> UInt64 { (d | (d &+ 0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080 }
        guard bad(d0) | bad(d1) | bad(d2) == 0 else { return nil }
        @inline(__always) func digit(_ d: UInt64, _ k: UInt64) -> Int { Int(truncatingIfNeeded: (d >> (k &* 8)) & 0xFF) }
        var f = Fields()
        f.year = Int64(digit(d0, 0) &* 1000 &+ digit(d0, 1) &* 100 &+ digit(d0, 2) &* 10 &+ digit(d0, 3))
        f.month = digit(d0, 5) &* 10 &+ digit(d0, 6)
        f.day = digit(d1, 0) &* 10 &+ digit(d1, 1)
        f.hour = digit(d1, 3) &* 10 &+ digit(d1, 4)
        f.minute = digit(d1, 6) &* 10 &+ digit(d1, 7)
        f.second = digit(d2, 5) &* 10 &+ digit(d2, 6)
        if n > 20 {
            // `.` then 1 to 9 digits: the first six are the microseconds, as `fraction()` keeps them.
            guard b[19] == UInt8(ascii: "."), n >= 22 else { return nil }
            var bad: UInt8 = 0
            @inline(__always) func digit(_ i: Int) -> Int64 {
                let d = b[i] &- UInt8(ascii: "0")
                bad |= d > 9 ? 1 : 0
                return Int64(d)
            }
            var micros: Int64 = 0
            for i in 20..<(n - 1) where i < 26 { micros = micros * 10 + digit(i) }
            for i in 26..<max(26, n - 1) { _ = digit(i) }
            for _ in (n - 21)..<max(n - 21, 6) { micros *= 10 }
            guard bad == 0 else { return nil }
            f.micros = micros
        } else if b[19] != UInt8(ascii: "Z") {
            return nil
        }
        return f.timestamp()
    }

    private struct Fields {
        var year: Int64 = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0
        var micros: Int64 = 0
        var offsetSeconds: Int64 = 0

        func timestamp() -> Timestamp? {
            guard (1...12).contains(month), day >= 1, day <= 28 || day <= CivilDate.daysIn(month: month, year: year),
                (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
            else { return nil }
            let days = CivilDate.days(year: year, month: month, day: day)
            let secs = days * 86_400 + Int64(hour &* 3600 &+ minute &* 60 &+ second) - offsetSeconds
            return Timestamp(microseconds: secs * 1_000_000 + micros)
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var atEnd: Bool { i >= bytes.count }
        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func digits(_ count: Int) -> Int? {
            guard i + count <= bytes.count else { return nil }
            var v = 0
            for k in 0..<count {
                let d = bytes[i + k] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                v = v * 10 + Int(d)
            }
            i += count
            return v
        }

        mutating func expect(_ b: UInt8) -> Bool {
            guard peek == b else { return false }
            i += 1
            return true
        }

        /// `.ddd…` after the seconds: up to 6 digits kept, more digits ignored.
        mutating func fraction() -> Int64? {
            var micros: Int64 = 0
            var n = 0
            while let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                if n < 6 { micros = micros * 10 + Int64(b - UInt8(ascii: "0")) }
                n += 1
                i += 1
            }
            guard n > 0 else { return nil }
            for _ in n..<max(n, 6) { micros *= 10 }
            return micros
        }

        /// `Z`, `+hh:mm`, `+hhmm`, `+hh`.
        mutating func zone() -> Int64? {
            if expect(UInt8(ascii: "Z")) || expect(UInt8(ascii: "z")) { return 0 }
            let sign: Int64
            if expect(UInt8(ascii: "+")) { sign = 1 } else if expect(UInt8(ascii: "-")) { sign = -1 } else { return nil }
            guard let h = digits(2), h <= 23 else { return nil }
            _ = expect(UInt8(ascii: ":"))
            let m = atEnd ? 0 : (digits(2) ?? -1)
            guard (0...59).contains(m) else { return nil }
            return sign * Int64(h * 3600 + m * 60)
        }

        mutating func iso8601() -> Timestamp? {
            var f = Fields()
            guard let y = digits(4), expect(UInt8(ascii: "-")), let m = digits(2), expect(UInt8(ascii: "-")),
                let d = digits(2)
            else { return nil }
            f.year = Int64(y)
            f.month = m
            f.day = d
            if !atEnd {
                guard expect(UInt8(ascii: "T")) || expect(UInt8(ascii: " ")) || expect(UInt8(ascii: "t")) else { return nil }
                guard let h = digits(2), expect(UInt8(ascii: ":")), let mi = digits(2) else { return nil }
                f.hour = h
                f.minute = mi
                if expect(UInt8(ascii: ":")) {
                    guard let s = digits(2) else { return nil }
                    f.second = s
                    if expect(UInt8(ascii: ".")) || expect(UInt8(ascii: ",")) {
                        guard let micros = fraction() else { return nil }
                        f.micros = micros
                    }
                }
                if !atEnd {
                    guard let off = zone() else { return nil }
                    f.offsetSeconds = off
                }
            }
            guard atEnd else { return nil }
            return f.timestamp()
        }

        mutating func epoch(scale: Int64) -> Timestamp? {
            let negative = expect(UInt8(ascii: "-"))
            var whole: Int64 = 0
            var n = 0
            while let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                let (m, o1) = whole.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(b - UInt8(ascii: "0")))
                guard !o1, !o2 else { return nil }
                whole = a
                n += 1
                i += 1
            }
            guard n > 0 else { return nil }
            var frac: Int64 = 0
            if expect(UInt8(ascii: ".")) {
                guard let micros = fraction() else { return nil }
                frac = micros * scale / 1_000_000
            }
            guard atEnd else { return nil }
            let (v, o) = whole.multipliedReportingOverflow(by: scale)
            guard !o else { return nil }
            let total = v + frac
            return Timestamp(microseconds: negative ? -total : total)
        }

        mutating func pattern(_ tokens: [Token]) -> Timestamp? {
            var f = Fields()
            for t in tokens {
                switch t {
                case .literal(let b): guard expect(b) else { return nil }
                case .year: guard let v = digits(4) else { return nil }; f.year = Int64(v)
                case .month: guard let v = digits(2) else { return nil }; f.month = v
                case .day: guard let v = digits(2) else { return nil }; f.day = v
                case .hour: guard let v = digits(2) else { return nil }; f.hour = v
                case .minute: guard let v = digits(2) else { return nil }; f.minute = v
                case .second: guard let v = digits(2) else { return nil }; f.second = v
                case .fraction: guard let v = fraction() else { return nil }; f.micros = v
                case .zone: guard let v = zone() else { return nil }; f.offsetSeconds = v
                }
            }
            guard atEnd else { return nil }
            return f.timestamp()
        }
    }
}
