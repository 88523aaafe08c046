/// Keeps two runs from doing the same work at once: a scheduled run holds the pipeline's
/// incremental lease; a backfill holds the lease of its window. A run that cannot get its lease
/// fails with `RunnelError.Code.leaseHeld` (exit 4) before touching data.
public protocol RunLease: Sendable {
    /// Takes the lease for `scope` (`incremental`, or a window and shard), or throws `leaseHeld`.
    func acquire(pipeline: String, scope: String) async throws -> any LeaseHandle
}

/// A held lease. Released at the end of the run; a crashed holder's lease must expire by itself
/// (a session advisory lock does).
public protocol LeaseHandle: Sendable {
    func release() async
}
