import Synchronization

/// Lets the outside (a signal handler, a service group's graceful shutdown) ask a run to stop.
///
/// A stop request stops *reading*: batches already read are still transformed, loaded and
/// committed, so nothing that was read is left unacknowledged.
public final class RunControl: Sendable {
    private let stopRequested = Atomic<Bool>(false)

    public init() {}

    public func requestStop() { stopRequested.store(true, ordering: .releasing) }
    public var isStopRequested: Bool { stopRequested.load(ordering: .acquiring) }
}
