import Glibc
import RunnelCore

/// A time zone for the timestamp accessors: `UTC`, a fixed offset (`+05:30`, `-02:30`), or an
/// IANA name (`Europe/Paris`, `US/Central`) read from the system's tz database (`/usr/share/zoneinfo`,
/// or `$TZDIR`). Zone files are read once per process and kept.
struct Zone: Sendable {
    /// Transition instants (UTC seconds), ascending, and the offset in force from each.
    private let transitions: [Int64]
    private let offsets: [Int64]
    /// Offset before the first transition.
    private let initial: Int64
    /// The rule for instants after the last transition (the TZif footer), if the file has one.
    private let rule: PosixRule?

    static let utc = Zone(transitions: [], offsets: [], initial: 0, rule: nil)

    /// The offset east of UTC, in seconds, at `seconds` since the epoch.
    func offset(at seconds: Int64) -> Int64 {
        if transitions.isEmpty || seconds < transitions[0] {
            if transitions.isEmpty, let rule { return rule.offset(at: seconds) }
            return initial
        }
        if seconds >= transitions[transitions.count - 1], let rule { return rule.offset(at: seconds) }
        var lo = 0
        var hi = transitions.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if transitions[mid] <= seconds { lo = mid } else { hi = mid - 1 }
        }
        return offsets[lo]
    }

    private static let cache = Locked<[String: Zone]>([:])

    /// The zone for a CEL time zone argument, nil when it names none.
    static func named(_ name: String) -> Zone? {
        if name == "UTC" || name == "Z" { return .utc }
        if let fixed = fixedOffset(name) { return Zone(transitions: [], offsets: [], initial: fixed, rule: nil) }
        // Names are paths into the database: refuse anything that could leave it.
        guard !name.isEmpty, !name.hasPrefix("/"), !name.contains(".."),
            name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        if let z = cache.withLock({ $0[name] }) { return z }
        let dir = getenv("TZDIR").map { String(cString: $0) } ?? "/usr/share/zoneinfo"
        guard let bytes = LocalFile.read(dir + "/" + name, limit: 1 << 20), let zone = parseTZif(bytes) else { return nil }
        cache.withLock { $0[name] = zone }
        return zone
    }

    /// `+05:30`, `-02:30`, `02:00` (CEL's FixedTZ, with the sign optional as implementations accept).
    static func fixedOffset(_ s: String) -> Int64? {
        var b = Array(s.utf8)
        var sign: Int64 = 1
        if let f = b.first, f == 0x2B || f == 0x2D {
            sign = f == 0x2D ? -1 : 1
            b.removeFirst()
        }
        guard b.count == 5, b[2] == 0x3A else { return nil }
        let ds = [b[0], b[1], b[3], b[4]]
        guard ds.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let h = Int64(ds[0] - 0x30) * 10 + Int64(ds[1] - 0x30)
        let m = Int64(ds[2] - 0x30) * 10 + Int64(ds[3] - 0x30)
        guard h < 24, m < 60 else { return nil }
        return sign * (h * 3600 + m * 60)
    }


    /// Reads a TZif file (RFC 8536): the 64-bit data block of version 2+ files when present, and the footer rule.
    private static func parseTZif(_ b: [UInt8]) -> Zone? {
        guard b.count >= 44, b[0] == 0x54, b[1] == 0x5A, b[2] == 0x69, b[3] == 0x66 else { return nil }
        func be(_ at: Int, _ n: Int) -> Int64? {
            guard at + n <= b.count else { return nil }
            var v: UInt64 = 0
            for k in 0..<n { v = v << 8 | UInt64(b[at + k]) }
            if n == 4 { return Int64(Int32(bitPattern: UInt32(v))) }
            return Int64(bitPattern: v)
        }
        func counts(_ at: Int) -> [Int]? {
            var out: [Int] = []
            for k in 0..<6 {
                guard let c = be(at + 20 + 4 * k, 4), c >= 0 else { return nil }
                out.append(Int(c))
            }
            return out  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
        }
        guard let v1 = counts(0) else { return nil }
        func blockSize(_ c: [Int], _ timeSize: Int) -> Int {
            c[3] * timeSize + c[3] + c[4] * 6 + c[5] + c[2] * (timeSize + 4) + c[1] + c[0]
        }
        var header = 0
        var timeSize = 4
        var c = v1
        let version = b[4]
        if version >= 0x32 {
            header = 44 + blockSize(v1, 4)
            guard let v2 = counts(header) else { return nil }
            c = v2
            timeSize = 8
        }
        var at = header + 44
        var times: [Int64] = []
        for _ in 0..<c[3] {
            guard let t = be(at, timeSize) else { return nil }
            times.append(t)
            at += timeSize
        }
        var typeIndex: [Int] = []
        for _ in 0..<c[3] {
            guard at < b.count else { return nil }
            typeIndex.append(Int(b[at]))
            at += 1
        }
        var typeOffsets: [Int64] = []
        var typeIsDST: [Bool] = []
        for _ in 0..<c[4] {
            guard let off = be(at, 4), at + 5 < b.count else { return nil }
            typeOffsets.append(off)
            typeIsDST.append(b[at + 4] != 0)
            at += 6
        }
        guard !typeOffsets.isEmpty, typeIndex.allSatisfy({ $0 < typeOffsets.count }) else { return nil }
        at += c[5] + c[2] * (timeSize + 4) + c[1] + c[0]
        var rule: PosixRule?
        if timeSize == 8, at < b.count, b[at] == 0x0A {
            let rest = b[(at + 1)...]
            if let end = rest.firstIndex(of: 0x0A) {
                rule = PosixRule(String(decoding: b[(at + 1)..<end], as: UTF8.self))
            }
        }
        // Before the first transition: the first standard-time type (RFC 8536 §3.2).
        let initial = typeOffsets[typeIsDST.firstIndex(of: false) ?? 0]
        return Zone(transitions: times, offsets: typeIndex.map { typeOffsets[$0] }, initial: initial, rule: rule)
    }
}

/// A POSIX TZ rule such as `CET-1CEST,M3.5.0,M10.5.0/3` or `<+0530>-5:30`: the zone's offsets after
/// the last transition in its file.
struct PosixRule: Sendable {
    let standard: Int64
    let daylight: Int64?
    let start: DayRule?
    let end: DayRule?

    struct DayRule: Sendable {
        enum Kind: Sendable {
            case julianNoLeap(Int)  // Jn: 1...365, February 29 never counted
            case zeroBased(Int)  // n: 0...365
            case monthWeekDay(month: Int, week: Int, weekday: Int)
        }
        let kind: Kind
        let time: Int64  // seconds after local midnight

        /// Days since the epoch of the rule's date in `year`.
        func day(in year: Int64) -> Int64 {
            switch kind {
            case .julianNoLeap(let n):
                var d = CivilDate.days(year: year, month: 1, day: 1) + Int64(n - 1)
                if CivilDate.isLeap(year), n >= 60 { d += 1 }
                return d
            case .zeroBased(let n):
                return CivilDate.days(year: year, month: 1, day: 1) + Int64(n)
            case .monthWeekDay(let m, let w, let wd):
                let first = CivilDate.days(year: year, month: m, day: 1)
                let firstWeekday = Int(((first % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4)
                var d = first + Int64((wd - firstWeekday + 7) % 7) + Int64(7 * (w - 1))
                let length = Int64(CivilDate.daysIn(month: m, year: year))
                while d >= first + length { d -= 7 }
                return d
            }
        }
    }

    init?(_ s: String) {
        var b = Substring(s)
        func name() -> Bool {
            if b.first == "<" {
                guard let close = b.firstIndex(of: ">") else { return false }
                b = b[b.index(after: close)...]
                return true
            }
            let n = b.prefix { $0.isLetter }
            guard n.count >= 3 else { return false }
            b = b.dropFirst(n.count)
            return true
        }
        /// `[+-]hh[:mm[:ss]]`, returned as seconds.
        func clock() -> Int64? {
            var sign: Int64 = 1
            if b.first == "+" || b.first == "-" {
                sign = b.first == "-" ? -1 : 1
                b = b.dropFirst()
            }
            var parts: [Int64] = []
            while parts.count < 3 {
                let digits = b.prefix { $0.isASCII && $0.isNumber }
                guard !digits.isEmpty, let v = Int64(digits) else { return parts.isEmpty ? nil : sign * total(parts) }
                parts.append(v)
                b = b.dropFirst(digits.count)
                guard b.first == ":" else { break }
                b = b.dropFirst()
            }
            return sign * total(parts)
        }
        func total(_ p: [Int64]) -> Int64 { p.enumerated().reduce(0) { $0 + $1.element * [3600, 60, 1][$1.offset] } }
        func dayRule() -> DayRule? {
            var kind: DayRule.Kind
            if b.first == "M" {
                b = b.dropFirst()
                let fields = b.prefix { $0.isNumber || $0 == "." }.split(separator: ".")
                guard fields.count == 3, let m = Int(fields[0]), let w = Int(fields[1]), let d = Int(fields[2]),
                    (1...12).contains(m), (1...5).contains(w), (0...6).contains(d)
                else { return nil }
                b = b.dropFirst(fields.map(\.count).reduce(2, +))
                kind = .monthWeekDay(month: m, week: w, weekday: d)
            } else if b.first == "J" {
                b = b.dropFirst()
                let n = b.prefix { $0.isNumber }
                guard let v = Int(n), (1...365).contains(v) else { return nil }
                b = b.dropFirst(n.count)
                kind = .julianNoLeap(v)
            } else {
                let n = b.prefix { $0.isNumber }
                guard let v = Int(n), (0...365).contains(v) else { return nil }
                b = b.dropFirst(n.count)
                kind = .zeroBased(v)
            }
            var time: Int64 = 7200
            if b.first == "/" {
                b = b.dropFirst()
                guard let t = clock() else { return nil }
                time = t
            }
            return DayRule(kind: kind, time: time)
        }
        guard name(), let std = clock() else { return nil }
        standard = -std  // POSIX offsets are west of UTC
        if b.isEmpty {
            daylight = nil
            start = nil
            end = nil
            return
        }
        guard name() else { return nil }
        if b.first != ",", !b.isEmpty {
            guard let d = clock() else { return nil }
            daylight = -d
        } else {
            daylight = standard + 3600
        }
        guard b.first == "," else { return nil }
        b = b.dropFirst()
        guard let s = dayRule(), b.first == "," else { return nil }
        b = b.dropFirst()
        guard let e = dayRule(), b.isEmpty else { return nil }
        start = s
        end = e
    }

    func offset(at seconds: Int64) -> Int64 {
        guard let daylight, let start, let end else { return standard }
        // The civil year of the instant in standard time decides which rule dates apply.
        let days = (seconds + standard).quotientAndRemainder(dividingBy: 86_400)
        let year = CivilDate.fromDays(days.remainder < 0 ? days.quotient - 1 : days.quotient).year
        // Start is given in standard local time, end in daylight local time.
        let dstStart = start.day(in: year) * 86_400 + start.time - standard
        let dstEnd = end.day(in: year) * 86_400 + end.time - daylight
        let inDaylight = dstStart < dstEnd
            ? (seconds >= dstStart && seconds < dstEnd)  // northern hemisphere
            : (seconds >= dstStart || seconds < dstEnd)  // southern: daylight spans the new year
        return inDaylight ? daylight : standard
    }
}
