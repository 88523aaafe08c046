/// A W3C Trace Context position: the `traceparent` header (`00-<trace id>-<span id>-<flags>`).
///
/// It lives in the core, not behind the Tracing trait, because sources and sinks (Kafka, HTTP)
/// read and write the header whatever the binary exports: the batch's context is carried to the
/// next system even where this process sends no span.
public struct TraceContext: Sendable, Hashable, CustomStringConvertible {
    /// 16 bytes, never all zero.
    public var traceID: [UInt8]
    /// 8 bytes, never all zero.
    public var spanID: [UInt8]
    /// Bit 0: sampled.
    public var flags: UInt8

    public init?(traceID: [UInt8], spanID: [UInt8], flags: UInt8 = 1) {
        guard traceID.count == 16, spanID.count == 8, traceID.contains(where: { $0 != 0 }),
            spanID.contains(where: { $0 != 0 })
        else { return nil }
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
    }

    public var sampled: Bool { flags & 1 == 1 }

    /// Parses a `traceparent` value; nil for anything the W3C spec says to ignore: a version
    /// `ff`, fields of the wrong length, upper-case or non-hex digits, all-zero ids, and (for
    /// version 00) anything after the flags. A later version may append fields after a `-`.
    public init?(traceparent text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 55, bytes[2] == 0x2D, bytes[35] == 0x2D, bytes[52] == 0x2D,
            let version = Self.hex(bytes[0..<2]), version.count == 1, version[0] != 0xFF,
            let trace = Self.hex(bytes[3..<35]), let span = Self.hex(bytes[36..<52]),
            let flags = Self.hex(bytes[53..<55])
        else { return nil }
        if version[0] == 0 {
            guard bytes.count == 55 else { return nil }
        } else if bytes.count > 55, bytes[55] != 0x2D {
            return nil
        }
        self.init(traceID: trace, spanID: span, flags: flags[0])
    }

    /// The context of a new span: a fresh trace when `parent` is nil, else `parent`'s trace.
    public static func newSpan(in parent: TraceContext? = nil, sampled: Bool = true) -> TraceContext {
        var g = SystemRandomNumberGenerator()
        let trace = parent?.traceID ?? Self.randomID(16, using: &g)
        return TraceContext(traceID: trace, spanID: randomID(8, using: &g), flags: sampled ? 1 : 0)!
    }

    /// A fresh trace sampled with probability `ratio`, decided from the trace id (the
    /// `traceidratio` sampler's rule: the id's last 8 bytes below `ratio · 2⁶⁴`), so that every
    /// process that sees the id decides the same.
    public static func newTrace(sampleRatio ratio: Double) -> TraceContext {
        var context = newSpan(sampled: true)
        context.flags = Self.samples(traceID: context.traceID, ratio: ratio) ? 1 : 0
        return context
    }

    static func samples(traceID: [UInt8], ratio: Double) -> Bool {
        if ratio >= 1 { return true }
        if ratio <= 0 { return false }
        let low = traceID[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Double(low) < ratio * 18_446_744_073_709_551_616.0
    }

    /// The `traceparent` header value (version 00).
    public var traceparent: String { "00-\(traceIDHex)-\(spanIDHex)-\(Self.hexText([flags]))" }
    public var traceIDHex: String { Self.hexText(traceID) }
    public var spanIDHex: String { Self.hexText(spanID) }
    public var description: String { traceparent }

    public static func hexText(_ bytes: [UInt8]) -> String { Hex.lowercase(bytes) }

    /// Lower-case hex only, as the spec requires.
    private static func hex(_ digits: ArraySlice<UInt8>) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var high: UInt8? = nil
        for c in digits {
            let v: UInt8
            switch c {
            case 0x30...0x39: v = c - 0x30
            case 0x61...0x66: v = c - 0x61 + 10
            default: return nil
            }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return out
    }

    private static func randomID(_ count: Int, using g: inout SystemRandomNumberGenerator) -> [UInt8] {
        while true {
            let id = (0..<count).map { _ in UInt8.random(in: 0...255, using: &g) }
            if id.contains(where: { $0 != 0 }) { return id }
        }
    }
}
