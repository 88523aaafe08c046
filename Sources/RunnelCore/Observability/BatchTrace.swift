/// What a trace of one batch needs, carried with the batch: its own span context, the contexts
/// its messages arrived with, and when each step of its way ran.
///
/// The runner records the steps as plain timestamps and an observer turns them into spans after
/// the commit (the Tracing trait's exporter), so that no tracing library sits on the data path
/// and a binary without the trait pays two clock reads per step, and only when tracing is on.
public struct BatchTrace: Sendable {
    /// The batch span's context, set by the runner when tracing is on (`RunOptions.traceSampleRatio`);
    /// sinks send it on as `traceparent`. Nil: tracing is off, nothing is recorded.
    public var context: TraceContext?
    /// Contexts the batch's input arrived with (Kafka `traceparent` headers, an HTTP source's
    /// response header), distinct, at most `maxLinks`: the batch span links to them. A batch of
    /// many messages has many parents, which is what span links are for; a child-of relation
    /// would have to pick one message and hide the others.
    public private(set) var links: [TraceContext] = []
    /// Links beyond `maxLinks` that were left out.
    public private(set) var linksDropped = 0
    /// The steps, in the order they ended.
    public var steps: [Step] = []
    /// When reading the batch began.
    public var startedAt: Timestamp?

    public static let maxLinks = 32

    public init() {}

    public var isRecording: Bool { context != nil }

    /// One step of a batch's way: read, a stage, the dead letter write, the load, the commit.
    public struct Step: Sendable {
        public enum Kind: String, Sendable {
            case read, transform, validate, deadLetters = "dead_letters", load, commit
        }
        public var kind: Kind
        /// The stage's name (`cast`, a rule's name) for transform and validate steps.
        public var name: String?
        public var start: Timestamp
        public var end: Timestamp
        /// Records the step took in (read: records read; dead letters: letters written).
        public var records: Int?
        /// Records the step passed on, where it filters or rejects.
        public var recordsOut: Int?
        /// The step's error, when the batch failed in it.
        public var error: String?

        public init(
            kind: Kind, name: String? = nil, start: Timestamp, end: Timestamp, records: Int? = nil,
            recordsOut: Int? = nil, error: String? = nil
        ) {
            self.kind = kind
            self.name = name
            self.start = start
            self.end = end
            self.records = records
            self.recordsOut = recordsOut
            self.error = error
        }
    }

    /// Adds a context the input arrived with (ignored when already there). Sources call it while
    /// reading, before the runner sets `context`: a header is only present where the upstream
    /// traces, and a batch keeps at most `maxLinks` of them.
    public mutating func link(_ context: TraceContext) {
        guard !links.contains(context) else { return }
        guard links.count < Self.maxLinks else {
            linksDropped += 1
            return
        }
        links.append(context)
    }

    /// Adds a `traceparent` header value the input arrived with; an invalid one is ignored, as
    /// the W3C spec asks.
    public mutating func link(traceparent: some StringProtocol) {
        guard links.count < Self.maxLinks else {
            linksDropped += 1
            return
        }
        guard let c = TraceContext(traceparent: traceparent) else { return }
        link(c)
    }

    /// The step running now, when the batch is stopped in it (a failed load): the tracer ends it
    /// with the failure.
    public private(set) var open: Step?

    /// Starts a step: returns its start time (nil when tracing is off) and marks it open.
    public mutating func begin(_ kind: Step.Kind, name: String? = nil, records: Int? = nil) -> Timestamp? {
        guard context != nil else { return nil }
        let now = Timestamp.now
        open = Step(kind: kind, name: name, start: now, end: now, records: records)
        return now
    }

    /// Records a step that began at `start` and ends now (nothing when tracing is off).
    public mutating func step(
        _ kind: Step.Kind, name: String? = nil, since start: Timestamp?, records: Int? = nil, recordsOut: Int? = nil,
        error: String? = nil
    ) {
        guard context != nil, let start else { return }
        open = nil
        steps.append(
            Step(kind: kind, name: name, start: start, end: .now, records: records, recordsOut: recordsOut, error: error))
    }

    /// The current time when tracing is on, for the start of a step; nil (no clock read) when off.
    public var clock: Timestamp? { context != nil ? .now : nil }
}
