/// The messages inside the CopyBoth stream of `START_REPLICATION` (PostgreSQL's "Streaming
/// Replication Protocol"): what the server sends and the status update the client sends back.
public enum ReplicationStreamMessage: Hashable, Sendable {
    /// 'w': WAL data; for a logical slot, one message of the output plugin.
    case xLogData(XLogData)
    /// 'k': the server's keepalive.
    case primaryKeepalive(PrimaryKeepalive)

    public struct XLogData: Hashable, Sendable {
        public var start: LSN
        /// The end of WAL on the server.
        public var walEnd: LSN
        public var sendTime: PostgresTimestamp
        public var data: [UInt8]
    }

    public struct PrimaryKeepalive: Hashable, Sendable {
        public var walEnd: LSN
        public var sendTime: PostgresTimestamp
        /// The server disconnects a client that does not answer in `wal_sender_timeout`.
        public var replyRequested: Bool
    }

    /// Decodes the payload of one CopyData message from the server.
    public static func decode(_ bytes: [UInt8]) throws(PgOutputError) -> ReplicationStreamMessage {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(PgOutputError) -> ReplicationStreamMessage in
                var r = ByteReader(buffer)
                let tag = try r.uint8("stream message type")
                switch tag {
                case UInt8(ascii: "w"):
                    return .xLogData(
                        .init(
                            start: try r.lsn("XLogData start"), walEnd: try r.lsn("XLogData end"),
                            sendTime: .init(microsecondsSince2000: try r.int64("XLogData time")), data: r.rest()))
                case UInt8(ascii: "k"):
                    let end = try r.lsn("keepalive end")
                    let time = PostgresTimestamp(microsecondsSince2000: try r.int64("keepalive time"))
                    let reply = try r.uint8("keepalive reply")
                    guard r.isAtEnd else {
                        throw PgOutputError(.malformed, "bytes after the keepalive", offset: r.offset)
                    }
                    return .primaryKeepalive(.init(walEnd: end, sendTime: time, replyRequested: reply != 0))
                default:
                    throw PgOutputError(.unknownMessage, "stream message type \(tag)", offset: 0)
                }
            }
        }.get()
    }

    /// The payload of a Standby Status Update ('r'): the client has written and flushed WAL up to
    /// `flushed` (for a logical slot, the server's `confirmed_flush_lsn` follows `flushed`).
    public static func standbyStatusUpdate(
        written: LSN, flushed: LSN, applied: LSN, clock: PostgresTimestamp,
        replyRequested: Bool = false
    ) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "r")]
        bytes.reserveCapacity(34)
        for value in [
            written.rawValue, flushed.rawValue, applied.rawValue, UInt64(bitPattern: clock.microsecondsSince2000),
        ] {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        bytes.append(replyRequested ? 1 : 0)
        return bytes
    }
}
