import Synchronization

/// At most `perSecond` request starts per second, shared by every request of one component.
///
/// Each caller reserves the next free slot under the lock and sleeps until it outside the lock,
/// so concurrent requests are spaced evenly instead of bursting together.
final class RateLimiter: Sendable {
    private let interval: Duration
    private let next: Mutex<ContinuousClock.Instant?> = Mutex(nil)

    init(perSecond: Double) {
        interval = .microseconds(Int64((1_000_000 / perSecond).rounded()))
    }

    func wait() async throws {
        let clock = ContinuousClock()
        let now = clock.now
        let slot = next.withLock { next -> ContinuousClock.Instant in
            let slot = max(now, next ?? now)
            next = slot + interval
            return slot
        }
        if slot > now { try await Task.sleep(until: slot, clock: clock) }
    }
}
