/// How much input waits at a source that can tell (a Redis Streams consumer group).
public struct SourceBacklog: Sendable, Hashable {
    /// Entries delivered to the group and not yet acknowledged, by any consumer.
    public var pending: Int
    /// Of `pending`, the entries delivered to this worker (its own consumer).
    public var ownPending: Int
    /// Entries not yet delivered to the group; nil when the source cannot tell.
    public var lag: Int?

    public init(pending: Int, ownPending: Int, lag: Int?) {
        self.pending = pending
        self.ownPending = ownPending
        self.lag = lag
    }

    /// Input this worker should be making progress on: its own unacknowledged entries and the
    /// undelivered ones. Other consumers' pending entries are theirs until claimed.
    public var waiting: Int { ownPending + (lag ?? 0) }
}

/// An extractor that can report its backlog. The streaming worker polls it (about once a
/// second) for `/livez`, `/readyz` and the `runnel_source_pending` gauge; a successful call also
/// means the source is reachable.
public protocol BacklogReporting: Sendable {
    func backlog() async throws -> SourceBacklog
    /// The consumer name this worker reads as, for log lines (`consumer`); nil where there is none.
    var consumerName: String? { get }
}
