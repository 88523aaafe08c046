/// One message of the pgoutput logical decoding plugin, protocol version 1
/// (PostgreSQL's "Logical Replication Message Formats").
public enum PgOutputMessage: Hashable, Sendable {
    case begin(Begin)
    case commit(Commit)
    case origin(Origin)
    case relation(Relation)
    case type(TypeInfo)
    case insert(Insert)
    case update(Update)
    case delete(Delete)
    case truncate(Truncate)
    case message(LogicalMessage)

    public struct Begin: Hashable, Sendable {
        /// The LSN of the transaction's commit record.
        public var finalLSN: LSN
        public var commitTime: PostgresTimestamp
        public var xid: UInt32
    }

    public struct Commit: Hashable, Sendable {
        public var flags: UInt8
        /// The LSN of the commit record (equal to Begin's `finalLSN`).
        public var commitLSN: LSN
        /// The end of the commit record: where a client resumes after this transaction.
        public var endLSN: LSN
        public var commitTime: PostgresTimestamp
    }

    public struct Origin: Hashable, Sendable {
        public var commitLSN: LSN
        public var name: String
    }

    /// A table's description, sent before the first change to it in a session and again after
    /// its schema changed.
    public struct Relation: Hashable, Sendable {
        public struct Column: Hashable, Sendable {
            /// Part of the replica identity (the primary key by default).
            public var isKey: Bool
            public var name: String
            public var typeOID: UInt32
            public var typeModifier: Int32
        }
        public var oid: UInt32
        public var namespace: String
        public var name: String
        /// `d` default (primary key), `n` nothing, `f` full, `i` index.
        public var replicaIdentity: UInt8
        public var columns: [Column]

        /// `namespace.name`.
        public var qualifiedName: String { namespace + "." + name }
        /// The replica identity's columns (the primary key by default).
        public var keyColumns: [String] { columns.filter(\.isKey).map(\.name) }
    }

    public struct TypeInfo: Hashable, Sendable {
        public var oid: UInt32
        public var namespace: String
        public var name: String
    }

    public struct Insert: Hashable, Sendable {
        public var relationOID: UInt32
        public var new: [TupleValue]
    }

    public struct Update: Hashable, Sendable {
        public enum OldTuple: Hashable, Sendable {
            /// The replica identity's columns changed ('K'): only they are set, the rest are null.
            case key([TupleValue])
            /// REPLICA IDENTITY FULL ('O'): the whole old row.
            case full([TupleValue])
        }
        public var relationOID: UInt32
        public var old: OldTuple?
        /// The new row; columns TOASTed and unchanged are `.unchangedToast`.
        public var new: [TupleValue]
    }

    public struct Delete: Hashable, Sendable {
        public var relationOID: UInt32
        /// The replica identity of the deleted row ('K'), or the whole row under
        /// REPLICA IDENTITY FULL ('O').
        public var old: Update.OldTuple
    }

    public struct Truncate: Hashable, Sendable {
        public var cascade: Bool
        public var restartIdentity: Bool
        public var relationOIDs: [UInt32]
    }

    /// `pg_logical_emit_message`.
    public struct LogicalMessage: Hashable, Sendable {
        public var transactional: Bool
        public var lsn: LSN
        public var prefix: String
        public var content: [UInt8]
    }
}

/// One column of a row in a change.
public enum TupleValue: Hashable, Sendable {
    case null
    /// A TOASTed value the change left as it was: its value is not sent (keep the target's).
    case unchangedToast
    /// The value in PostgreSQL's text output format.
    case text([UInt8])
    /// The value in binary format (only when the subscription asks for `binary`).
    case binary([UInt8])

    /// The text value as a string; nil for null, unchanged and binary values.
    public var string: String? {
        if case .text(let bytes) = self { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }
}
