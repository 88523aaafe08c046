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
    /// Counters by label and dimensions (`runnel_dead_letters_by_code_total{code=required}`), the
    /// pipeline dimension left out.
    let labelled = Mutex<[String: Int64]>([:])

    final class Handle: CounterHandler, RecorderHandler, TimerHandler, MeterHandler, FloatingPointCounterHandler, Sendable {
        let label: String
        let series: String
        let owner: CountingMetrics
        init(_ label: String, _ owner: CountingMetrics, _ dimensions: [(String, String)] = []) {
            self.label = label
            let d = dimensions.filter { $0.0 != "pipeline" }.map { "\($0.0)=\($0.1)" }
            self.series = d.isEmpty ? label : "\(label){\(d.joined(separator: ","))}"
            self.owner = owner
        }
        func increment(by n: Int64) {
            owner.counters.withLock { $0[label, default: 0] += n }
            owner.labelled.withLock { $0[series, default: 0] += n }
        }
        func increment(by n: Double) {}
        func reset() {}
        func record(_ value: Int64) { owner.gauges.withLock { $0[label, default: []].append(value) } }
        func record(_ value: Double) { record(Int64(value)) }
        func recordNanoseconds(_ duration: Int64) {}
        func set(_ value: Int64) {}
        func set(_ value: Double) {}
        func decrement(by: Double) {}
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Handle(label, self, dimensions) }
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
    /// Each in-flight change, with the gauge's last value right after it (the snapshot the
    /// brief asked for: the metric as a scrape at that moment would read it).
    let inflight = Mutex<[(bytes: Int, gauge: Int64?)]>([])
    func batchCommitted(_ event: BatchEvent) { events.withLock { $0.append(event) } }
    func inflightChanged(_ run: RunInfo, bytes: Int) {
        let gauge = CountingMetrics.shared.gauges.withLock { $0["runnel_inflight_bytes"]?.last }
        inflight.withLock { $0.append((bytes, gauge)) }
    }
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

        // runnel_inflight_bytes moves as batches enter flight and leave it, not only at commits:
        // non-zero while a batch is read and not yet stored, back to 0 once the last is committed.
        let changes = recorder.inflight.withLock { $0 }
        #expect(changes.count == 2 * summary.batches, "one change as each batch enters, one as it leaves")
        #expect(changes.contains { $0.bytes > 0 && $0.gauge == Int64($0.bytes) }, "\(changes.map(\.bytes))")
        #expect(changes.last?.bytes == 0 && changes.last?.gauge == 0)

        // Dead letters by rejection code: the codes of the quickstart's rules, adding up to the total.
        let byCode = metrics.labelled.withLock { $0 }.filter { $0.key.hasPrefix("runnel_dead_letters_by_code_total{code=") }
        #expect(byCode.values.reduce(0, +) == Int64(summary.deadLettered), "\(byCode)")
        #expect(!byCode.isEmpty && byCode.keys.allSatisfy { !$0.contains("code=other") }, "\(byCode)")
    }
}
