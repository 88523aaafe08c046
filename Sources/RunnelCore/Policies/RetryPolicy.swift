/// How transient failures are retried: exponential backoff with full jitter up to a cap.
///
/// Only errors classified as transient are retried; config and data-contract errors are not.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// Sleeps between attempts; tests inject an instant one.
    public var sleep: @Sendable (Duration) async throws -> Void
    /// Returns a number in [0, 1); injectable for deterministic tests.
    public var random: @Sendable () -> Double

    public init(
        maxAttempts: Int, baseDelay: Duration, maxDelay: Duration,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.sleep = sleep
        self.random = random
    }

    /// Exponential backoff with full jitter: attempt n waits a random time in [0, min(cap, base·2ⁿ)).
    public static func exponentialJitter(
        maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(10)
    ) -> RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, baseDelay: baseDelay, maxDelay: maxDelay)
    }

    /// One attempt, no retry.
    public static var none: RetryPolicy { RetryPolicy(maxAttempts: 1, baseDelay: .zero, maxDelay: .zero) }

    /// The wait before retry number `retry` (1-based).
    public func delay(beforeRetry retry: Int) -> Duration {
        let exponent = min(retry - 1, 30)
        let ceiling = min(maxDelay, baseDelay * (1 << exponent))
        return ceiling * random()
    }

    /// Runs `operation`, retrying transient failures. `onRetry` is told each retry before the wait.
    public func run<T>(
        _ operation: () async throws -> T,
        onRetry: (_ attempt: Int, _ error: RunnelError, _ delay: Duration) -> Void = { _, _, _ in }
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await operation()
            } catch {
                let classified = RunnelError.classify(error)
                guard classified.isTransient, attempt < maxAttempts else { throw classified }
                let wait = delay(beforeRetry: attempt)
                onRetry(attempt, classified, wait)
                try await sleep(wait)
                attempt += 1
            }
        }
    }
}
