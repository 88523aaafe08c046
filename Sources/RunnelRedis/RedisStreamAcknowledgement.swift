public import RedisClient
public import RunnelCore

/// `XACK` of exactly the entries of one batch, sent by the runner after the batch is stored.
///
/// The ids include the entries that became dead letters (they are parked before the ack) and
/// pending entries whose data was deleted from the stream. A Redis outage does not lose the
/// batch: transient failures are retried here for `patience` (the runner retries on top),
/// and entries left unacknowledged are delivered again (read from `0` at the next start, or
/// claimed after `min_idle`) and loaded again idempotently.
public struct RedisStreamAcknowledgement: Acknowledgement {
    public let client: RedisClient
    public let stream: String
    public let group: String
    public let ids: [StreamID]
    public var patience: Duration

    public init(client: RedisClient, stream: String, group: String, ids: [StreamID], patience: Duration = .seconds(30)) {
        self.client = client
        self.stream = stream
        self.group = group
        self.ids = ids
        self.patience = patience
    }

    public func acknowledge() async throws {
        let deadline = ContinuousClock.now + patience
        var delay = Duration.milliseconds(50)
        while true {
            do {
                try await client.xack(stream, group: group, ids: ids)
                return
            } catch let error as RedisError where error.isTransient && ContinuousClock.now + delay < deadline {
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }
}
