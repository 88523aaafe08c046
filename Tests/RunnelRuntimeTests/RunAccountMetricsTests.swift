import CoreMetrics
import Foundation
import RunnelConfig
import RunnelCore
import RunnelRuntime
import RunnelStandard
import RunnelTesting
import Synchronization
import Testing

/// Counters and gauges by label (dimensions left out: one pipeline per test run).
final class CountingMetrics: MetricsFactory, Sendable {
    let counters = Mutex<[String: Int64]>([:])
    let gauges = Mutex<[String: [Int64]]>([:])

    final class Handle: CounterHandler, RecorderHandler, TimerHandler, MeterHandler, FloatingPointCounterHandler, Sendable {
        let label: String
        let owner: CountingMetrics
        init(_ label: String, _ owner: CountingMetrics) {
            self.label = label
            self.owner = owner
        }
        func increment(by n: Int64) { owner.counters.withLock { $0[label, default: 0] += n } }
        func increment(by n: Double) {}
        func reset() {}
        func record(_ value: Int64) { owner.gauges.withLock { $0[label, default: []].append(value) } }
        func record(_ value: Double) { record(Int64(value)) }
        func recordNanoseconds(_ duration: Int64) {}
        func set(_ value: Int64) {}
        func set(_ value: Double) {}
        func decrement(by: Double) {}
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Handle(label, self) }
    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler { Handle(label, self) }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { Handle(label, self) }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { Handle(label, self) }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Handle(label, self) }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    /// The one factory of this test process (swift-metrics is bootstrapped once).
    static let shared: CountingMetrics = {
        let m = CountingMetrics()
        MetricsSystem.bootstrap(m)
        return m
    }()
}

/// Keeps every batch event and the end of the run.
final class EventRecorder: PipelineObserver, Sendable {
    let events = Mutex<[BatchEvent]>([])
    func batchCommitted(_ event: BatchEvent) { events.withLock { $0.append(event) } }
}

@Suite struct RunAccountMetricsTests {
    /// The metrics of a run add up as its summary does, and the in-flight bytes are not 0 for a
    /// whole run (they were: the gauge reported what was left after each commit).
    @Test func theMetricsAndTheProgressLineOfARunAddUpLikeItsSummary() async throws {
        let metrics = CountingMetrics.shared
        let dir = try quickstartCopy(maxRecords: 1000)
        let spec = try PipelineSpec.load(file: dir + "/pipeline.yaml", registry: .standard)
        let recorder = EventRecorder()
        let summary = await PipelineRunner(
            pipeline: spec.pipeline, observer: ObserverGroup([MetricsObserver(), recorder])
        ).run()
        #expect(summary.exitCode == 0, "\(summary.error ?? "")")
        #expect(summary.read == summary.loaded + summary.superseded + summary.filtered + summary.rejected + summary.uncommitted)
        let c = metrics.counters.withLock { $0 }
        let read = c["runnel_records_read_total"] ?? -1
        #expect(read == Int64(summary.read))
        #expect(read == (c["runnel_records_loaded_total"] ?? 0) + (c["runnel_records_superseded_total"] ?? 0)
            + (c["runnel_records_filtered_total"] ?? 0) + (c["runnel_records_rejected_total"] ?? 0))
        #expect(c["runnel_dead_letters_total"] == Int64(summary.deadLettered))
        let inflight = metrics.gauges.withLock { $0["runnel_inflight_bytes"] ?? [] }
        #expect(inflight.contains { $0 > 0 }, "runnel_inflight_bytes stayed \(Set(inflight))")
        // The progress line names every term of the sum.
        let last = try #require(recorder.events.withLock { $0.last })
        let line = ProgressObserver.line(last.totals)
        #expect(line.contains("\(summary.superseded) superseded") && line.contains("rejected"), "\(line)")
        #expect(last.inflightBytes > 0)
    }
}
