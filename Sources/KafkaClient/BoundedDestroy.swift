import CRdkafka
import Logging

/// `rd_kafka_destroy`, bounded in time.
///
/// librdkafka 2.0.x — the version Debian 12 ships — can block forever in `rd_kafka_destroy`
/// after a group consumer's broker went down and came back: a partition reference taken while
/// reconnecting is never released, so the broker thread never ends and destroy joins it for
/// good (confluentinc/librdkafka#4674, fixed upstream after 2.3). A batch run would then never
/// exit after loading everything. The handle is destroyed on a thread of its own; when that
/// has not finished within `timeout`, the thread and the handle's memory are abandoned (a
/// one-off leak in a process that is about to end, or a test that goes on) and the caller
/// goes on. The consumer has left the group and committed before this is called, so nothing
/// of the data depends on destroy finishing.
enum BoundedDestroy {
    static let timeout: Duration = .seconds(10)

    /// `@unchecked Sendable`: `done` is read and written with the lock held.
    private final class Flag: @unchecked Sendable {
        var done = false
    }

    /// Destroys `handle`; false when it did not finish within `timeout` (logged as a warning).
    /// `context` (the object librdkafka's callbacks reach) is kept alive as long as destroy
    /// runs, also when it is abandoned.
    @discardableResult
    static func destroy(
        _ handle: KafkaHandle, context: ClientContext, what: String, logger: Logger?, timeout: Duration = timeout
    ) -> Bool {
        let finished = run(within: timeout) {
            rd_kafka_destroy(handle.pointer)
            withExtendedLifetime(context) {}
        }
        if !finished {
            logger?.warning(
                "librdkafka did not release the \(what) within \(timeout); it is abandoned (a known hang of librdkafka 2.0 after a broker restart)")
        }
        return finished
    }

    /// Runs `body` on a thread of its own and waits up to `timeout` for it; false (the thread
    /// detached and left to finish, or not, on its own) when it did not end in time.
    static func run(within timeout: Duration, _ body: @escaping @Sendable () -> Void) -> Bool {
        let lock = ConditionLock()
        let flag = Flag()
        let thread = DedicatedThread(name: "rdk-destroy") {
            body()
            lock.withLock {
                flag.done = true
                lock.broadcast()
            }
        }
        let (seconds, attoseconds) = timeout.components
        let deadline = ConditionLock.now() + UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
        let finished = lock.withLock {
            while !flag.done {
                if !lock.wait(untilNanoseconds: deadline) { return flag.done }
            }
            return true
        }
        if finished { thread.join() } else { thread.detach() }
        return finished
    }
}
