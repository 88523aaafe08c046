#if canImport(Glibc)
    import Glibc
#endif

/// A mutex with a condition variable, for the waits that happen on librdkafka's and this
/// module's own threads (never on Swift's cooperative pool, where a blocking wait would
/// starve other tasks).
///
/// `@unchecked Sendable`: the pthread objects are allocated once, never moved, and are
/// themselves made for use from several threads.
public final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        // Deadlines are measured on the monotonic clock: a wall-clock jump neither wakes
        // waiters early nor keeps them asleep.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits, with the lock held by the caller (inside `withLock`), until `broadcast` or
    /// `deadline` (nanoseconds on the monotonic clock); false when the deadline passed.
    @discardableResult
    public func wait(untilNanoseconds deadline: UInt64?) -> Bool {
        guard let deadline else {
            pthread_cond_wait(condition, mutex)
            return true
        }
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(condition, mutex, &ts) == 0
    }

    public func broadcast() { pthread_cond_broadcast(condition) }

    /// Now on the monotonic clock, in nanoseconds (the clock `wait` uses).
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Starts `body` on a new detached-from-Swift thread (a pthread), joined by `join()`.
final class DedicatedThread: @unchecked Sendable {
    // `@unchecked`: `thread` is written once in `init`, before any other thread sees self.
    private var thread = pthread_t()
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let result = pthread_create(
            &thread, nil,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        precondition(result == 0, "pthread_create failed for \(name): \(result)")
    }

    func join() { pthread_join(thread, nil) }

    /// Gives up on joining: the thread's resources are freed when it ends, if it ever does.
    func detach() { pthread_detach(thread) }
}

/// A serial queue of blocking jobs on a thread of its own: librdkafka calls that wait for the
/// broker (a synchronous commit, metadata, watermarks) run here, awaited from async code.
final class BlockingExecutor: Sendable {
    private let lock = ConditionLock()
    private let jobs = JobList()
    private let thread: Locked<DedicatedThread?> = Locked(nil)

    /// `@unchecked Sendable`: touched only with `lock` held.
    private final class JobList: @unchecked Sendable {
        var items: [@Sendable () -> Void] = []
        var stopping = false
    }

    init(name: String) {
        let lock = self.lock
        let jobs = self.jobs
        thread.set(
            DedicatedThread(name: name) {
                while true {
                    let job: (@Sendable () -> Void)? = lock.withLock {
                        while jobs.items.isEmpty && !jobs.stopping { lock.wait(untilNanoseconds: nil) }
                        return jobs.items.isEmpty ? nil : jobs.items.removeFirst()
                    }
                    guard let job else { return }
                    job()
                }
            })
    }

    /// Runs `body` on the executor's thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            let accepted = lock.withLock {
                guard !jobs.stopping else { return false }
                jobs.items.append {
                    do throws(KafkaError) {
                        continuation.resume(returning: .success(try body()))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                }
                lock.broadcast()
                return true
            }
            if !accepted { continuation.resume(returning: .failure(KafkaError(code: .closed, message: "client closed"))) }
        }
        return try result.get()
    }

    /// Finishes the queued jobs, then ends the thread.
    func stop() {
        lock.withLock {
            jobs.stopping = true
            lock.broadcast()
        }
        thread.take()?.join()
    }
}

/// A value behind a mutex (for the few fields that are not part of a larger state).
final class Locked<Value>: @unchecked Sendable {
    // `@unchecked`: every access goes through `lock`.
    private var value: Value
    private let lock = ConditionLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R { try lock.withLock { try body(&value) } }
    func set(_ newValue: Value) { withLock { $0 = newValue } }
    func get() -> Value { withLock { $0 } }
    func take<T>() -> T? where Value == T? {
        withLock { v in
            defer { v = nil }
            return v
        }
    }
}
