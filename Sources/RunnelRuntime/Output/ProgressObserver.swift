public import RunnelCore
import Synchronization

/// A live progress line on a terminal: records, records/s, percent where the input size is known.
/// Redrawn at most ten times a second.
public final class ProgressObserver: PipelineObserver {
    private struct State {
        var started = ContinuousClock.now
        var lastDraw = ContinuousClock.now - .seconds(1)
    }
    private let state = Mutex(State())

    public init() {}

    public func runStarted(_ run: RunInfo) { state.withLock { $0.started = .now } }

    public func batchCommitted(_ e: BatchEvent) {
        let now = ContinuousClock.now
        let elapsed: Duration? = state.withLock { s in
            guard now - s.lastDraw >= .milliseconds(100) else { return nil }
            s.lastDraw = now
            return now - s.started
        }
        guard let elapsed else { return }
        let t = e.totals
        let rate = elapsed.seconds > 0 ? Double(t.read) / elapsed.seconds : 0
        var line = Self.line(t) + " · \(Int(rate).grouped) rec/s"
        if let p = e.progress, let total = p.bytesTotal, total > 0 {
            line += " · \(min(100, Int(Double(p.bytesRead) / Double(total) * 100)))%"
        }
        line += " · \(ByteCount.text(e.inflightBytes)) of \(ByteCount.text(e.run.memoryWindow)) in flight"

        StandardError.progress(line)
    }

    public func runFinished(_ run: RunInfo, summary: RunSummary) { StandardError.clearProgressLine() }

    /// The counts of the progress line; every term of `read = loaded + superseded + filtered +
    /// rejected` is there (a term that is 0 is left out).
    public static func line(_ t: RunSummary) -> String {
        var line = "\(t.read.grouped) read · \(t.loaded.grouped) loaded"
        if t.superseded > 0 { line += " · \(t.superseded.grouped) superseded" }
        if t.filtered > 0 { line += " · \(t.filtered.grouped) filtered" }
        return line + " · \(t.rejected.grouped) rejected"
    }
}

extension Int {
    /// `1234567` → `1,234,567`.
    var grouped: String {
        let digits = String(Swift.abs(self))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return self < 0 ? "-" + out : out
    }
}
