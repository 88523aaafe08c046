import RunnelConfig
import RunnelCore

/// Trace export as the standard `OTEL_*` variables ask for it (the subset Runnel honours; see
/// docs/operations.md, "Traces"). Read in every build, so that a binary built without the
/// Tracing trait can say that it ignores them instead of staying silent.
struct TraceSettings: Sendable {
    /// Where spans are POSTed: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, or
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`.
    var url: String
    var headers: [(String, String)] = []
    var serviceName: String
    var resource: [(String, String)] = []
    /// The share of batches traced (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`).
    var sampleRatio: Double = 1
    /// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds; 10 s).
    var timeout: Duration = .seconds(10)
    /// `OTEL_BSP_MAX_QUEUE_SIZE` (2048): spans beyond it are dropped and counted.
    var maxQueue = 2048
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` (512): spans per request.
    var maxBatch = 512
    /// `OTEL_BSP_SCHEDULE_DELAY` (milliseconds; 5 s): how often the queue is sent.
    var scheduleDelay: Duration = .seconds(5)

    /// What the environment asks for; nil when no endpoint is set, `OTEL_SDK_DISABLED=true`,
    /// or the sampler is `always_off`. Problems are returned as warnings: a tracing setting
    /// never stops a pipeline.
    static func from(_ env: Environment, defaultServiceName: String) -> (settings: TraceSettings?, warnings: [String]) {
        func value(_ name: String) -> String? {
            guard let v = env[name]?.trimmingWhitespace(), !v.isEmpty else { return nil }
            return v
        }
        var warnings: [String] = []
        if value("OTEL_SDK_DISABLED")?.lowercased() == "true" { return (nil, []) }
        if let exporter = value("OTEL_TRACES_EXPORTER")?.lowercased(), exporter == "none" { return (nil, []) }
        let url: String
        if let traces = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            url = traces
        } else if let base = value("OTEL_EXPORTER_OTLP_ENDPOINT") {
            url = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/v1/traces"
        } else {
            return (nil, [])
        }
        for name in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
            if let p = value(name), p != "http/json" {
                warnings.append("\(name)=\(p): Runnel sends OTLP/HTTP with JSON bodies (http/json) only")
                break
            }
        }
        var s = TraceSettings(url: url, serviceName: defaultServiceName)
        s.resource = pairs(value("OTEL_RESOURCE_ATTRIBUTES") ?? "", what: "OTEL_RESOURCE_ATTRIBUTES", warnings: &warnings)
        if let name = s.resource.last(where: { $0.0 == "service.name" })?.1 { s.serviceName = name }
        if let name = value("OTEL_SERVICE_NAME") { s.serviceName = name }
        s.resource.removeAll { $0.0 == "service.name" }
        s.headers = pairs(
            value("OTEL_EXPORTER_OTLP_TRACES_HEADERS") ?? value("OTEL_EXPORTER_OTLP_HEADERS") ?? "",
            what: "OTEL_EXPORTER_OTLP_HEADERS", warnings: &warnings)

        switch value("OTEL_TRACES_SAMPLER")?.lowercased() ?? "parentbased_always_on" {
        case "always_on", "parentbased_always_on": s.sampleRatio = 1
        case "always_off", "parentbased_always_off": return (nil, warnings)
        case "traceidratio", "parentbased_traceidratio":
            let arg = value("OTEL_TRACES_SAMPLER_ARG")
            if let arg, let r = Double(arg), (0...1).contains(r) {
                s.sampleRatio = r
            } else {
                if let arg { warnings.append("OTEL_TRACES_SAMPLER_ARG=\(arg) is not a ratio in [0, 1]; using 1") }
                s.sampleRatio = 1
            }
        case let other:
            warnings.append("OTEL_TRACES_SAMPLER=\(other) is not supported (always_on, always_off, traceidratio); using always_on")
        }
        func milliseconds(_ names: [String]) -> Duration? {
            for n in names { if let v = value(n), let ms = Int(v), ms > 0 { return .milliseconds(ms) } }
            return nil
        }
        func count(_ name: String) -> Int? { value(name).flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil } }
        if let t = milliseconds(["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"]) { s.timeout = t }
        if let d = milliseconds(["OTEL_BSP_SCHEDULE_DELAY"]) { s.scheduleDelay = d }
        if let n = count("OTEL_BSP_MAX_QUEUE_SIZE") { s.maxQueue = n }
        if let n = count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") { s.maxBatch = min(n, s.maxQueue) }
        return (s, warnings)
    }

    /// `key1=value1,key2=value2` with percent-encoded values (the W3C Baggage form the OTel
    /// specification uses for these variables); malformed entries are skipped with a warning.
    static func pairs(_ text: String, what: String, warnings: inout [String]) -> [(String, String)] {
        var out: [(String, String)] = []
        for entry in text.split(separator: ",") {
            guard let eq = entry.firstIndex(of: "=") else {
                if !String(entry).trimmingWhitespace().isEmpty { warnings.append("\(what): '\(entry)' is not key=value; ignored") }
                continue
            }
            let key = String(entry[..<eq]).trimmingWhitespace()
            let raw = String(entry[entry.index(after: eq)...]).trimmingWhitespace()
            guard !key.isEmpty, let value = percentDecoded(raw) else {
                warnings.append("\(what): '\(key)' has an empty name or a bad %-escape; ignored")
                continue
            }
            out.append((key, value))
        }
        return out
    }

    static func percentDecoded(_ s: String) -> String? {
        guard s.contains("%") else { return s }
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == 0x25 {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
