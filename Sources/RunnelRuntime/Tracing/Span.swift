#if Tracing
    import RunnelCore

    /// A finished span, as the exporter sends it.
    ///
    /// Why not swift-distributed-tracing's `Span` (the package is in the resolved graph): its API
    /// is for spans opened and ended live around the work, with the context in a task-local. The
    /// runner already records each step's start and end on the batch (`BatchTrace`), and the
    /// steps of one batch run on two tasks (read and stages on one, load and commit on the
    /// other), so the spans are made after the commit from those records. What is left is a value
    /// type and its OTLP encoding: smaller than an adapter onto a tracer protocol, and it keeps
    /// the data path free of any tracing call.
    struct Span: Sendable {
        enum Attribute: Sendable, Hashable {
            case string(String)
            case int(Int)
            case double(Double)
            case bool(Bool)
        }

        enum Status: Sendable, Hashable {
            case unset
            case ok
            case error(String)
        }

        var context: TraceContext
        var parentSpanID: [UInt8]?
        var name: String
        var start: Timestamp
        var end: Timestamp
        var attributes: [(String, Attribute)] = []
        var links: [TraceContext] = []
        var status: Status = .unset

        init(context: TraceContext, parentSpanID: [UInt8]? = nil, name: String, start: Timestamp, end: Timestamp) {
            self.context = context
            self.parentSpanID = parentSpanID
            self.name = name
            self.start = start
            self.end = max(start, end)
        }

        mutating func set(_ key: String, _ value: Int?) { if let value { attributes.append((key, .int(value))) } }
        mutating func set(_ key: String, _ value: String?) { if let value { attributes.append((key, .string(value))) } }
        mutating func set(_ key: String, _ value: Bool) { attributes.append((key, .bool(value))) }
    }
#endif
