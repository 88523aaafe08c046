public import Logging
import Metrics
public import RunnelConfig
public import RunnelCore
public import ServiceLifecycle

/// Pushes a batch run's metrics to a Prometheus Pushgateway: every `interval` while the run
/// lasts and once at its end, so that a CronJob that is never scraped still leaves its series.
///
/// Groups (see docs/operations.md, "Push metrics"):
/// - the run group `/metrics/job/<job>/pipeline/<pipeline>[/shard/<i>][/<key>/<value>…]`,
///   replaced whole (PUT) by every push: the next run of a CronJob replaces the last one's
///   series, while each shard of an Indexed Job backfill has its own group;
/// - the same key plus `outcome=success`, written only by a run that succeeded and holding only
///   `runnel_last_success_timestamp_seconds`, so a failed run cannot erase when the pipeline
///   last succeeded.
///
/// A push that fails is logged at warning and never changes the run's outcome.
public struct MetricsPush: Sendable {
    public let settings: MetricsSettings.Push
    public let pipeline: String
    public let shard: Shard?
    public let logger: Logger
    let client: PlainHTTPClient
    /// The exposition text of every metric of the process (the HTTP trait's registry).
    let exposition: @Sendable () -> [UInt8]

    /// The push a run makes: the spec's `metrics.push`, or `RUNNEL_METRICS_PUSH_URL` when the spec
    /// names no URL; nil when neither asks for one.
    public static func configured(
        spec: PipelineSpec, environment: Environment, shard: Shard?, logger: Logger
    ) throws(RunnelError) -> MetricsPush? {
        var settings = spec.metrics.push
        let envURL = environment["RUNNEL_METRICS_PUSH_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if settings == nil, let envURL { settings = MetricsSettings.Push(url: envURL) }
        if var s = settings, s.url.isEmpty {
            // `url: ${RUNNEL_METRICS_PUSH_URL:-}` in the spec: on where the variable is set.
            guard let envURL else { return nil }
            s.url = envURL
            settings = s
        }
        guard let settings else { return nil }
        guard let endpoint = PlainHTTPClient.Endpoint(url: settings.url) else {
            throw RunnelError.config(
                "metrics push URL '\(settings.url)' must be http://host[:port][/prefix] (https is not supported: "
                    + "push to the Pushgateway's in-cluster Service)")
        }
        guard let exposition = HTTPEndpoints.exposition else {
            throw RunnelError.config(
                "metrics push needs the Prometheus registry; this binary was built without the 'HTTP' trait")
        }
        return MetricsPush(
            settings: settings, pipeline: spec.pipeline.name, shard: shard, logger: logger,
            client: PlainHTTPClient(endpoint: endpoint), exposition: exposition)
    }

    /// The grouping key as path segments: `job`, `pipeline`, `shard` when sharded, then the
    /// spec's own labels in name order.
    public var grouping: [(String, String)] {
        var g: [(String, String)] = [("job", settings.job), ("pipeline", pipeline)]
        if let shard { g.append(("shard", String(shard.index))) }
        g += settings.grouping.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return g
    }

    /// `/metrics/job/<job>/<label>/<value>…`, values that are not plain URL text in the
    /// Pushgateway's base64 form (`label@base64/…`, which also carries `/` and empty values).
    static func path(_ grouping: [(String, String)]) -> String {
        var p = "/metrics"
        for (name, value) in grouping {
            if !value.isEmpty, value.utf8.allSatisfy({ plainURLByte($0) }) {
                p += "/\(name)/\(value)"
            } else {
                p += "/\(name)@base64/\(base64URL(Array(value.utf8)))"
            }
        }
        return p
    }

    var runPath: String { Self.path(grouping) }
    var successPath: String { Self.path(grouping + [("outcome", "success")]) }

    /// One push of everything the process has (PUT: the group becomes exactly this).
    @discardableResult
    func pushRun() async -> Bool {
        await put(runPath, exposition())
    }

    /// At the end of the run: the run's outcome as gauges, the run group, and on success the
    /// success group. Returns whether every push was accepted.
    @discardableResult
    public func finish(_ summary: RunSummary, endedAt: Timestamp = .now) async -> Bool {
        let d = [("pipeline", pipeline)]
        Gauge(label: "runnel_last_run_status", dimensions: d).record(Int(summary.exitCode))
        Gauge(label: "runnel_last_run_timestamp_seconds", dimensions: d).record(endedAt.secondsSinceEpoch)
        Gauge(label: "runnel_last_run_duration_seconds", dimensions: d).record(summary.durationSeconds)
        var ok = await pushRun()
        if summary.exitCode == 0, !summary.dryRun {
            let text = """
                # HELP runnel_last_success_timestamp_seconds Unix time the last successful run of the pipeline ended (pushed by successful runs only).
                # TYPE runnel_last_success_timestamp_seconds gauge
                runnel_last_success_timestamp_seconds{pipeline="\(Self.escapeLabel(pipeline))"} \(endedAt.secondsSinceEpoch)

                """
            ok = await put(successPath, Array(text.utf8)) && ok
        }
        if ok {
            logger.info(
                "metrics pushed",
                metadata: ["runnel.push_url": "\(client.endpoint)", "runnel.push_group": "\(runPath)"])
        }
        return ok
    }

    private func put(_ path: String, _ body: [UInt8]) async -> Bool {
        do {
            let r = try await client.send(
                method: "PUT", path: path, body: body, contentType: "text/plain; version=0.0.4; charset=utf-8")
            guard (200..<300).contains(r.status) else {
                warn(path, "the Pushgateway answered \(r.status): \(String(r.body.prefix(300)).trimmingWhitespace())")
                return false
            }
            return true
        } catch {
            warn(path, RunnelError.classify(error).description)
            return false
        }
    }

    private func warn(_ path: String, _ problem: String) {
        logger.warning(
            "metrics push failed; the run goes on",
            metadata: [
                "runnel.push_url": "\(client.endpoint)", "runnel.push_group": "\(path)", "runnel.error": "\(problem)",
            ])
    }

    static func escapeLabel(_ s: String) -> String {
        s.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"").replacingAll("\n", with: "\\n")
    }

    private static func plainURLByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E
            || b == 0x5F
    }

    /// RFC 4648 base64url with padding, as the Pushgateway's `@base64` segments take.
    static func base64URL(_ bytes: [UInt8]) -> String {
        if bytes.isEmpty { return "=" }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = Int(bytes[i])
            let b1 = i + 1 < bytes.count ? Int(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? Int(bytes[i + 2]) : 0
            out.append(alphabet[b0 >> 2])
            out.append(alphabet[((b0 & 3) << 4) | (b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[((b1 & 15) << 2) | (b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[b2 & 63] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Pushes the run group every `interval` while the pipeline runs (a `Service` beside it).
struct PeriodicMetricsPush: Service {
    let push: MetricsPush
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                if Task.isCancelled { return }
                await push.pushRun()
            }
        }
    }
}

extension String {
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
