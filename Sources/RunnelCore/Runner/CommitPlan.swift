/// What committing one stored batch takes, in order, decided from values alone — so the order
/// that makes a run effectively-once can be read and tested without a pipeline:
///
/// 1. the target and the dead letter queue are prepared (first batch only), so that a target
///    that does not match stops the run before anything is written;
/// 2. rejected records are parked (idempotent by source position: a replay parks nothing twice);
/// 3. the records are loaded, with the positions in the load's transaction where the loader and
///    the checkpoint store share one;
/// 4. otherwise the positions are saved by the checkpoint store after the load (also when the
///    loader refused records: it then wrote none, and they are parked first);
/// 5. the broker is acknowledged, last, once everything else is durable.
///
/// `PipelineRunner`'s committer executes the steps.
public struct CommitPlan: Sendable, Equatable {
    public enum Step: Sendable, Equatable {
        case prepareLoad
        case prepareDeadLetters
        case writeDeadLetters(count: Int)
        /// Loads `records` records; `checkpoints` (possibly none) in the load's transaction.
        case load(records: Int, checkpoints: [CheckpointCommit.Entry])
        /// Saves positions through the checkpoint store; `onlyIfRefused` when the load's
        /// transaction writes them unless the loader refused records.
        case saveCheckpoints([CheckpointCommit.Entry], onlyIfRefused: Bool)
        case acknowledge
    }

    /// The facts about one batch and the run that the plan depends on.
    public struct Facts: Sendable {
        /// Records left to load after the stages.
        public var records: Int
        /// Rejected records to park (0 unless `on_invalid` is `dead_letter`).
        public var deadLetters: Int
        public var hasDeadLetterQueue: Bool
        /// Whether an earlier batch already prepared the target / the dead letter queue.
        public var loadPrepared: Bool
        public var deadLettersPrepared: Bool
        /// The positions to save: empty for windowed runs (backfills) and runs without a store.
        public var checkpoints: [CheckpointCommit.Entry]
        /// The loader writes checkpoints in its own transaction (`Pipeline.checkpointsInLoad`).
        public var checkpointsInLoad: Bool
        public var acknowledge: Bool
        public var dryRun: Bool

        public init(
            records: Int, deadLetters: Int = 0, hasDeadLetterQueue: Bool = false, loadPrepared: Bool = false,
            deadLettersPrepared: Bool = false, checkpoints: [CheckpointCommit.Entry] = [], checkpointsInLoad: Bool = false,
            acknowledge: Bool = false, dryRun: Bool = false
        ) {
            self.records = records
            self.deadLetters = deadLetters
            self.hasDeadLetterQueue = hasDeadLetterQueue
            self.loadPrepared = loadPrepared
            self.deadLettersPrepared = deadLettersPrepared
            self.checkpoints = checkpoints
            self.checkpointsInLoad = checkpointsInLoad
            self.acknowledge = acknowledge
            self.dryRun = dryRun
        }
    }

    public var steps: [Step]

    public init(steps: [Step]) { self.steps = steps }

    /// The plan for `facts`. Throws a configuration error when records are to be parked and the
    /// pipeline has no dead letter queue.
    public init(_ facts: Facts) throws(RunnelError) {
        guard !facts.dryRun else {
            self.steps = []
            return
        }
        var steps: [Step] = []
        // A loader that takes its columns from the records is prepared by the first batch that
        // has records: a first batch whose every record was rejected (a poison message, a
        // malformed page) has no fields to create a table from, and is parked all the same.
        if !facts.loadPrepared, facts.records > 0 { steps.append(.prepareLoad) }
        if facts.hasDeadLetterQueue, !facts.deadLettersPrepared { steps.append(.prepareDeadLetters) }
        if facts.deadLetters > 0 {
            guard facts.hasDeadLetterQueue else {
                throw RunnelError.config("on_invalid is dead_letter but the pipeline has no dead_letter queue")
            }
            steps.append(.writeDeadLetters(count: facts.deadLetters))
        }
        // Before the loader is prepared there is nothing to load: the positions then go to the store.
        let loadable = facts.loadPrepared || facts.records > 0
        let inTransaction = facts.checkpointsInLoad && loadable ? facts.checkpoints : []
        if facts.records > 0 || !inTransaction.isEmpty {
            steps.append(.load(records: facts.records, checkpoints: inTransaction))
        }
        if !facts.checkpoints.isEmpty {
            steps.append(.saveCheckpoints(facts.checkpoints, onlyIfRefused: !inTransaction.isEmpty))
        }
        if facts.acknowledge { steps.append(.acknowledge) }
        self.steps = steps
    }
}
