
/// A stream entry ID, `<milliseconds>-<sequence>`, ordered as Redis orders them.
public struct StreamID: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    public var milliseconds: UInt64
    public var sequence: UInt64

    public static let zero = StreamID(milliseconds: 0, sequence: 0)
    public static let max = StreamID(milliseconds: .max, sequence: .max)

    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Parses `1700000000000-3`, or `1700000000000` (sequence 0, as Redis reads it).
    public init?(_ description: String) {
        self.init(utf8: description.utf8)
    }

    /// Parses the ID from its UTF-8 bytes, as replies carry it, without building a `String`.
    init?(utf8 bytes: some Collection<UInt8>) {
        var milliseconds: UInt64 = 0
        var sequence: UInt64 = 0
        var digits = 0
        var sawDash = false
        for byte in bytes {
            if byte == UInt8(ascii: "-") {
                guard !sawDash, digits > 0 else { return nil }
                sawDash = true
                digits = 0
                continue
            }
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times10, overflow1) = (sawDash ? sequence : milliseconds).multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return nil }
            if sawDash { sequence = next } else { milliseconds = next }
            digits += 1
        }
        guard digits > 0 else { return nil }
        self.init(milliseconds: milliseconds, sequence: sequence)
    }

    /// `milliseconds-sequence`, written digit by digit into one string (readers make one per
    /// entry: interpolation cost more than parsing the entry).
    public var description: String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 41) { buffer in
            var n = 41
            func put(_ value: UInt64) {
                var v = value
                repeat {
                    n -= 1
                    buffer[n] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
                    v /= 10
                } while v > 0
            }
            put(sequence)
            n -= 1
            buffer[n] = UInt8(ascii: "-")
            put(milliseconds)
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[n...]), as: UTF8.self)
        }
    }

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}

/// One entry of a stream as XREADGROUP / XAUTOCLAIM return it.
public struct StreamEntry: Sendable {
    public var id: StreamID
    /// Field/value pairs in the order they were added (names may repeat, Redis allows it).
    public var fields: [(name: String, value: [UInt8])]
    /// The entry is still pending for the group but was deleted or trimmed from the stream, so
    /// the server sent no fields. Such entries can only be acknowledged.
    public var isDeleted: Bool

    public init(id: StreamID, fields: [(name: String, value: [UInt8])], isDeleted: Bool = false) {
        self.id = id
        self.fields = fields
        self.isDeleted = isDeleted
    }

    /// The value of the first field called `name`.
    public subscript(field name: String) -> [UInt8]? {
        fields.first { $0.name == name }?.value
    }
}

/// One row of `XPENDING key group start end count [consumer]`.
public struct PendingEntry: Sendable, Hashable {
    public var id: StreamID
    public var consumer: String
    /// Time since the entry was last delivered.
    public var idleMilliseconds: Int
    /// How many times the entry was delivered (XREADGROUP, XCLAIM, XAUTOCLAIM).
    public var deliveryCount: Int

    public init(id: StreamID, consumer: String, idleMilliseconds: Int, deliveryCount: Int) {
        self.id = id
        self.consumer = consumer
        self.idleMilliseconds = idleMilliseconds
        self.deliveryCount = deliveryCount
    }
}

/// One group of `XINFO GROUPS key`.
public struct StreamGroupInfo: Sendable, Hashable {
    public var name: String
    public var consumers: Int
    /// Entries delivered and not yet acknowledged.
    public var pending: Int
    public var lastDeliveredID: StreamID
    /// Redis 7+: logical count of entries the group has read. `nil` on older servers.
    public var entriesRead: Int?
    /// Redis 7+: entries not yet delivered to the group. `nil` on older servers and when Redis
    /// cannot tell (after some deletions); then fall back to XLEN/XPENDING.
    public var lag: Int?

    public init(
        name: String,
        consumers: Int,
        pending: Int,
        lastDeliveredID: StreamID,
        entriesRead: Int? = nil,
        lag: Int? = nil
    ) {
        self.name = name
        self.consumers = consumers
        self.pending = pending
        self.lastDeliveredID = lastDeliveredID
        self.entriesRead = entriesRead
        self.lag = lag
    }
}
