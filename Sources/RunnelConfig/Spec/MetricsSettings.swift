public import RunnelCore

/// `metrics:` in the spec. Today one setting: where `runnel-batch` pushes its metrics.
///
///     metrics:
///       push:
///         url: http://pushgateway.monitoring:9091   # or RUNNEL_METRICS_PUSH_URL
///         interval: 30s                               # 0: only at the end of the run
///         job: runnel                                 # the `job` grouping label
///         grouping: {team: data}                      # more grouping labels
public struct MetricsSettings: Sendable {
    public struct Push: Sendable, Hashable {
        /// `http://host[:port][/prefix]` of a Prometheus Pushgateway. Empty: taken from
        /// `RUNNEL_METRICS_PUSH_URL` (no push when that is unset too).
        public var url: String
        /// How often a run pushes while it lasts; nil: only at its end. Default 30 s.
        public var interval: Duration? = .seconds(30)
        /// The `job` grouping label. Default `runnel`.
        public var job: String = "runnel"
        /// Grouping labels added after `job`, `pipeline` and (sharded runs) `shard`.
        public var grouping: [String: String] = [:]

        public init(url: String) { self.url = url }
    }

    /// Where `runnel-batch` pushes; nil: it does not (unless `RUNNEL_METRICS_PUSH_URL` is set).
    public var push: Push?

    public init() {}

    /// Grouping labels the push sets itself (or that the Pushgateway keeps for itself).
    static let reservedLabels: Set<String> = ["job", "pipeline", "shard", "outcome", "instance"]

    static func build(_ node: SpecNode?) -> MetricsSettings {
        var m = MetricsSettings()
        guard let node, let s = SpecSection(node) else { return m }
        s.declare(PipelineKeys.metrics)
        if let pn = s.node("push"), let p = SpecSection(pn) {
            p.declare(PipelineKeys.metricsPush)
            var push = Push(url: p.string("url")?.trimmingWhitespace() ?? "")
            if !push.url.isEmpty, !push.url.hasPrefix("http://") {
                p.node("url")?.problem(
                    "must be an http:// URL such as http://pushgateway.monitoring:9091 "
                        + "(https is not supported: push to the Pushgateway's in-cluster Service)")
            }
            if let n = p.node("interval"), let d = n.duration { push.interval = d == .zero ? nil : d }
            if let n = p.node("job"), let j = n.string {
                if j.isEmpty { n.problem("must not be empty") } else { push.job = j }
            }
            if let g = p.node("grouping"), let entries = g.entries {
                for (key, value) in entries {
                    guard isLabelName(key), !key.hasPrefix("__") else {
                        value.problem(
                            "'\(key)' is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)")
                        continue
                    }
                    guard !reservedLabels.contains(key) else {
                        value.problem(
                            "'\(key)' is set by the push itself; grouping labels may not be \(reservedLabels.sorted().joined(separator: ", "))"
                        )
                        continue
                    }
                    if let v = value.string { push.grouping[key] = v }
                }
            }
            p.finish("metrics.push")
            m.push = push
        }
        s.finish("metrics")
        return m
    }

    static func isLabelName(_ s: String) -> Bool {
        guard let first = s.utf8.first, !(0x30...0x39).contains(first) else { return false }
        return s.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F
        }
    }
}
