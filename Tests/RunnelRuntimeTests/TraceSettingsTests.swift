import RunnelConfig
import Testing

@testable import RunnelRuntime

/// The `OTEL_*` variables as a user sets them in a pod.
@Suite struct TraceSettingsTests {
    func settings(_ vars: [String: String]) -> (TraceSettings?, [String]) {
        let (s, w) = TraceSettings.from(Environment(vars), defaultServiceName: "runnel-batch")
        return (s, w)
    }

    @Test func noEndpointOrDisabledMeansNoTracing() {
        #expect(settings([:]).0 == nil)
        #expect(settings(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"]).0 == nil)
        #expect(settings(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": "always_off"]).0 == nil)
    }

    @Test func theEndpointGetsTheTracesPathUnlessTheTracesEndpointIsGiven() {
        #expect(settings(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"]).0?.url == "http://c:4318/v1/traces")
        #expect(
            settings([
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:1/custom",
            ]).0?.url == "http://t:1/custom")
    }

    @Test func serviceNameResourceHeadersAndSampler() throws {
        let (s, warnings) = settings([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
            "OTEL_RESOURCE_ATTRIBUTES": "service.name=from-resource,team=data%2Fplatform,broken",
            "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20abc",
            "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25",
        ])
        let t = try #require(s)
        #expect(t.serviceName == "from-resource")
        #expect(t.resource.map { "\($0.0)=\($0.1)" } == ["team=data/platform"])
        #expect(t.headers.map { "\($0.0)=\($0.1)" } == ["authorization=Bearer abc"])
        #expect(t.sampleRatio == 0.25)
        #expect(warnings.count == 1 && warnings[0].contains("broken"), "\(warnings)")
        let named = settings(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SERVICE_NAME": "orders"]).0
        #expect(named?.serviceName == "orders")
        #expect(settings(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"]).0?.serviceName == "runnel-batch")
    }

    @Test func aBadRatioFallsBackToAllWithAWarning() {
        let (s, w) = settings([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": "traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "2",
        ])
        #expect(s?.sampleRatio == 1 && w.count == 1)
    }
}
