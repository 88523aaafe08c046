/// A position in PostgreSQL's write-ahead log (`pg_lsn`), written `16/B374D848`.
///
/// The commit LSN of a transaction is Runnel's version for change data capture: WAL order is
/// commit order for the changes a logical slot delivers.
public struct LSN: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }

    public static let zero = LSN(0)

    /// Parses `X/Y` (two hexadecimal halves of at most 8 digits each); nil when malformed.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...8).contains(parts[0].count), (1...8).contains(parts[1].count),
            let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16)
        else { return nil }
        self.rawValue = high << 32 | low
    }

    public var description: String {
        String(rawValue >> 32, radix: 16, uppercase: true) + "/"
            + String(rawValue & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (lhs: LSN, rhs: LSN) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Microseconds since 2000-01-01 00:00:00 UTC, PostgreSQL's timestamp epoch.
public struct PostgresTimestamp: Hashable, Comparable, Sendable {
    public var microsecondsSince2000: Int64
    public init(microsecondsSince2000: Int64) { self.microsecondsSince2000 = microsecondsSince2000 }

    /// Seconds between 1970-01-01 and 2000-01-01.
    public static let unixEpochOffsetSeconds: Int64 = 946_684_800

    /// Microseconds since the Unix epoch (saturating at the ends of the range).
    public var microsecondsSince1970: Int64 {
        let (sum, overflow) = microsecondsSince2000.addingReportingOverflow(Self.unixEpochOffsetSeconds * 1_000_000)
        return overflow ? (microsecondsSince2000 < 0 ? .min : .max) : sum
    }

    public init(microsecondsSince1970: Int64) {
        let (difference, overflow) = microsecondsSince1970.subtractingReportingOverflow(
            Self.unixEpochOffsetSeconds * 1_000_000)
        self.microsecondsSince2000 = overflow ? .min : difference
    }

    public static func < (lhs: PostgresTimestamp, rhs: PostgresTimestamp) -> Bool {
        lhs.microsecondsSince2000 < rhs.microsecondsSince2000
    }
}
