/// A row change decoded against its table's description, with its place in the stream.
public struct Change: Hashable, Sendable {
    public enum Operation: String, Hashable, Sendable {
        case insert, update, delete, truncate
    }

    /// The table as the last Relation message described it (schema, name, columns, key).
    public var relation: PgOutputMessage.Relation
    public var operation: Operation
    /// The row: the new values for insert and update (unchanged TOAST columns as
    /// `.unchangedToast`: keep the target's value), the replica identity for delete (the old row
    /// under REPLICA IDENTITY FULL), empty for truncate.
    public var values: [TupleValue]
    /// For an update that changed the key ('K'), or any update under REPLICA IDENTITY FULL ('O'):
    /// the old row's identity.
    public var old: PgOutputMessage.Update.OldTuple?
    public var position: ChangePosition
    /// The transaction's commit time.
    public var commitTime: PostgresTimestamp
}

/// `(commit LSN, index within the transaction)`: totally ordered over a slot's changes, since
/// a logical slot delivers transactions in commit order. The commit LSN alone is the version the
/// loaders' guard compares.
public struct ChangePosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var commitLSN: LSN
    public var index: Int

    public init(commitLSN: LSN, index: Int) {
        self.commitLSN = commitLSN
        self.index = index
    }

    public static func < (a: Self, b: Self) -> Bool { (a.commitLSN, a.index) < (b.commitLSN, b.index) }
    public var description: String { "\(commitLSN)#\(index)" }
}

/// Where a change data capture reader resumes: `resume`, the end of the last transaction stored
/// whole (START_REPLICATION starts there and the slot is confirmed there), and, when a batch
/// ended inside the next transaction, the last change of it already stored (the stream sends
/// that transaction again from its start; the changes up to `within` are skipped).
///
/// Text form (the checkpoint): `16/B374D878`, or `16/B374D878 16/B374D900#41`.
public struct CDCPosition: Hashable, Sendable, CustomStringConvertible {
    public var resume: LSN
    public var within: ChangePosition?

    public init(resume: LSN, within: ChangePosition? = nil) {
        self.resume = resume
        self.within = within
    }

    public init?(_ text: String) {
        let parts = text.split(separator: " ")
        guard (1...2).contains(parts.count), let resume = LSN(String(parts[0])) else { return nil }
        self.resume = resume
        if parts.count == 2 {
            let inner = parts[1].split(separator: "#")
            guard inner.count == 2, let lsn = LSN(String(inner[0])), let index = Int(inner[1]), index >= 0 else {
                return nil
            }
            within = ChangePosition(commitLSN: lsn, index: index)
        }
    }

    public var description: String { within.map { "\(resume) \($0)" } ?? "\(resume)" }
}

/// Turns the pgoutput messages of a stream into `Change`s: keeps the relations, numbers the
/// changes of each transaction, and skips what a resumed reader already stored. Pure, so the
/// resume rules are tested without a server.
public struct ChangeAssembler: Sendable {
    public enum Output: Hashable, Sendable {
        case change(Change)
        /// A transaction ended: after it the stream can resume at `end`.
        case commit(commitLSN: LSN, end: LSN, changes: Int)
        /// A table's description arrived (first use in the session, or a schema change):
        /// `previous` is what was known before, nil the first time.
        case relation(PgOutputMessage.Relation, previous: PgOutputMessage.Relation?)
        /// `pg_logical_emit_message` (heartbeats).
        case message(PgOutputMessage.LogicalMessage)
        case nothing
    }

    public private(set) var relations: [UInt32: PgOutputMessage.Relation] = [:]
    private var transaction: (lsn: LSN, time: PostgresTimestamp, next: Int)?
    /// Changes at or before this position were stored already.
    private let skipThrough: ChangePosition?

    public init(resumingFrom position: CDCPosition? = nil) {
        self.skipThrough = position?.within
    }

    public mutating func apply(_ message: PgOutputMessage) throws(ReplicationError) -> [Output] {
        switch message {
        case .begin(let begin):
            guard transaction == nil else { throw protocolError("Begin inside a transaction") }
            transaction = (begin.finalLSN, begin.commitTime, 0)
            return []
        case .commit(let commit):
            guard let open = transaction else { throw protocolError("Commit outside a transaction") }
            transaction = nil
            return [.commit(commitLSN: commit.commitLSN, end: commit.endLSN, changes: open.next)]
        case .relation(let relation):
            let previous = relations[relation.oid]
            relations[relation.oid] = relation
            return [.relation(relation, previous: previous)]
        case .message(let message):
            return [.message(message)]
        case .origin, .type:
            return []
        case .insert(let m):
            return try change(m.relationOID, .insert, m.new, old: nil).map { [.change($0)] } ?? []
        case .update(let m):
            return try change(m.relationOID, .update, m.new, old: m.old).map { [.change($0)] } ?? []
        case .delete(let m):
            let values: [TupleValue]
            switch m.old {
            case .key(let v), .full(let v): values = v
            }
            return try change(m.relationOID, .delete, values, old: nil).map { [.change($0)] } ?? []
        case .truncate(let m):
            var outputs: [Output] = []
            for oid in m.relationOIDs {
                if let c = try change(oid, .truncate, [], old: nil) { outputs.append(.change(c)) }
            }
            return outputs
        }
    }

    private mutating func change(
        _ oid: UInt32, _ operation: Change.Operation, _ values: [TupleValue],
        old: PgOutputMessage.Update.OldTuple?
    ) throws(ReplicationError) -> Change? {
        guard var open = transaction else { throw protocolError("a change outside a transaction") }
        guard let relation = relations[oid] else {
            throw protocolError("a change to relation \(oid) before its Relation message")
        }
        if operation != .truncate, values.count != relation.columns.count {
            throw protocolError(
                "\(relation.qualifiedName): \(values.count) values for \(relation.columns.count) columns")
        }
        let position = ChangePosition(commitLSN: open.lsn, index: open.next)
        open.next += 1
        transaction = open
        if let skipThrough, position <= skipThrough { return nil }
        return Change(
            relation: relation, operation: operation, values: values, old: old, position: position,
            commitTime: open.time)
    }

    private func protocolError(_ message: String) -> ReplicationError {
        ReplicationError(.decoding, "pgoutput stream: \(message)")
    }
}
