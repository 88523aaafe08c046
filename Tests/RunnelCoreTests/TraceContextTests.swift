import Testing

@testable import RunnelCore

/// `traceparent` as W3C Trace Context level 1 defines it: what is accepted, what is ignored.
@Suite struct TraceContextTests {
    let valid = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    @Test func aValidHeaderParsesAndFormatsBackTheSame() throws {
        let c = try #require(TraceContext(traceparent: valid))
        #expect(c.traceIDHex == "0af7651916cd43dd8448eb211c80319c")
        #expect(c.spanIDHex == "b7ad6b7169203331")
        #expect(c.sampled)
        #expect(c.traceparent == valid)
        let unsampled = try #require(TraceContext(traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"))
        #expect(!unsampled.sampled)
    }

    @Test(
        "invalid headers are ignored",
        arguments: [
            ("version ff", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ("all-zero trace id", "00-00000000000000000000000000000000-b7ad6b7169203331-01"),
            ("all-zero span id", "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"),
            ("short trace id", "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01"),
            ("long span id", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333100-01"),
            ("short flags", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1"),
            ("upper-case hex", "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01"),
            ("not hex", "00-0af7651916cd43dd8448eb211c80319z-b7ad6b7169203331-01"),
            ("version 00 with more fields", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra"),
            ("wrong separators", "00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01"),
            ("empty", ""),
        ])
    func invalid(_ why: String, _ header: String) {
        #expect(TraceContext(traceparent: header) == nil, "\(why)")
    }

    @Test func aLaterVersionMayAppendFields() throws {
        let c = try #require(TraceContext(traceparent: "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-more"))
        // Re-sent as the version this code knows.
        #expect(c.traceparent == valid)
    }

    @Test func newSpansAreValidAndChildrenKeepTheTrace() throws {
        let root = TraceContext.newSpan()
        let child = TraceContext.newSpan(in: root)
        #expect(child.traceID == root.traceID && child.spanID != root.spanID)
        #expect(TraceContext(traceparent: child.traceparent) == child)
    }

    @Test func theRatioSamplerDecidesFromTheTraceID() {
        #expect(TraceContext.newTrace(sampleRatio: 1).sampled)
        #expect(!TraceContext.newTrace(sampleRatio: 0).sampled)
        let low = [UInt8](repeating: 1, count: 8) + [UInt8](repeating: 0, count: 7) + [1]
        let high = [UInt8](repeating: 1, count: 8) + [UInt8](repeating: 0xFF, count: 8)
        #expect(TraceContext.samples(traceID: low, ratio: 0.5))
        #expect(!TraceContext.samples(traceID: high, ratio: 0.5))
    }

    @Test func aBatchKeepsDistinctLinksUpToTheLimit() {
        var trace = BatchTrace()
        trace.link(traceparent: valid)
        trace.link(traceparent: valid)
        trace.link(traceparent: "garbage")
        #expect(trace.links.count == 1)
        for _ in 0..<(BatchTrace.maxLinks + 5) { trace.link(TraceContext.newSpan()) }
        #expect(trace.links.count == BatchTrace.maxLinks && trace.linksDropped == 6)
    }
}
