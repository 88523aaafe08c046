/// Decodes pgoutput messages (protocol version 1) from the payload of XLogData.
///
/// Pure and free of NIO and Foundation: scripts/fuzz compiles this folder alone under libFuzzer.
/// Every read is bounds-checked; a malformed message throws `PgOutputError`, never traps.
public enum PgOutputDecoder {
    /// The most columns a relation can have in PostgreSQL (MaxTupleAttributeNumber is 1664).
    static let maxColumns = 1664

    public static func decode(_ bytes: [UInt8]) throws(PgOutputError) -> PgOutputMessage {
        // withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(PgOutputError) -> PgOutputMessage in try decode(buffer) }
        }.get()
    }

    public static func decode(_ buffer: UnsafeRawBufferPointer) throws(PgOutputError) -> PgOutputMessage {
        var r = ByteReader(buffer)
        let tag = try r.uint8("message type")
        let message: PgOutputMessage
        switch tag {
        case UInt8(ascii: "B"):
            message = .begin(
                .init(
                    finalLSN: try r.lsn("Begin final LSN"),
                    commitTime: .init(microsecondsSince2000: try r.int64("Begin timestamp")),
                    xid: try r.uint32("Begin xid")))
        case UInt8(ascii: "C"):
            message = .commit(
                .init(
                    flags: try r.uint8("Commit flags"), commitLSN: try r.lsn("Commit LSN"),
                    endLSN: try r.lsn("Commit end LSN"),
                    commitTime: .init(microsecondsSince2000: try r.int64("Commit timestamp"))))
        case UInt8(ascii: "O"):
            message = .origin(.init(commitLSN: try r.lsn("Origin LSN"), name: try r.cString("Origin name")))
        case UInt8(ascii: "R"):
            let oid = try r.uint32("Relation oid")
            let namespace = try r.cString("Relation namespace")
            let name = try r.cString("Relation name")
            let identity = try r.uint8("Relation replica identity")
            let count = Int(try r.int16("Relation column count"))
            guard (0...maxColumns).contains(count) else {
                throw PgOutputError(.malformed, "Relation column count \(count)", offset: r.offset - 2)
            }
            var columns: [PgOutputMessage.Relation.Column] = []
            columns.reserveCapacity(min(count, r.remaining / 10))
            for _ in 0..<count {
                let flags = try r.uint8("column flags")
                columns.append(
                    .init(
                        isKey: flags & 1 != 0, name: try r.cString("column name"),
                        typeOID: try r.uint32("column type"), typeModifier: try r.int32("column type modifier")))
            }
            message = .relation(
                .init(oid: oid, namespace: namespace, name: name, replicaIdentity: identity, columns: columns))
        case UInt8(ascii: "Y"):
            message = .type(
                .init(
                    oid: try r.uint32("Type oid"), namespace: try r.cString("Type namespace"),
                    name: try r.cString("Type name")))
        case UInt8(ascii: "I"):
            let oid = try r.uint32("Insert relation")
            try expect(&r, "N", "Insert")
            message = .insert(.init(relationOID: oid, new: try tuple(&r)))
        case UInt8(ascii: "U"):
            let oid = try r.uint32("Update relation")
            var old: PgOutputMessage.Update.OldTuple?
            var kind = try r.uint8("Update tuple kind")
            if kind == UInt8(ascii: "K") || kind == UInt8(ascii: "O") {
                let values = try tuple(&r)
                old = kind == UInt8(ascii: "K") ? .key(values) : .full(values)
                kind = try r.uint8("Update new tuple kind")
            }
            guard kind == UInt8(ascii: "N") else {
                throw PgOutputError(.malformed, "Update: tuple kind \(kind), expected N", offset: r.offset - 1)
            }
            message = .update(.init(relationOID: oid, old: old, new: try tuple(&r)))
        case UInt8(ascii: "D"):
            let oid = try r.uint32("Delete relation")
            let kind = try r.uint8("Delete tuple kind")
            guard kind == UInt8(ascii: "K") || kind == UInt8(ascii: "O") else {
                throw PgOutputError(.malformed, "Delete: tuple kind \(kind), expected K or O", offset: r.offset - 1)
            }
            let values = try tuple(&r)
            message = .delete(.init(relationOID: oid, old: kind == UInt8(ascii: "K") ? .key(values) : .full(values)))
        case UInt8(ascii: "T"):
            let count = Int(try r.int32("Truncate relation count"))
            let options = try r.uint8("Truncate options")
            guard count >= 0, count <= r.remaining / 4 else {
                throw PgOutputError(
                    .malformed, "Truncate relation count \(count) for \(r.remaining) bytes", offset: r.offset - 5)
            }
            var oids: [UInt32] = []
            oids.reserveCapacity(count)
            for _ in 0..<count { oids.append(try r.uint32("Truncate relation")) }
            message = .truncate(.init(cascade: options & 1 != 0, restartIdentity: options & 2 != 0, relationOIDs: oids))
        case UInt8(ascii: "M"):
            let flags = try r.uint8("Message flags")
            let lsn = try r.lsn("Message LSN")
            let prefix = try r.cString("Message prefix")
            let length = Int(try r.int32("Message length"))
            message = .message(
                .init(
                    transactional: flags & 1 != 0, lsn: lsn, prefix: prefix,
                    content: try r.bytes(length, "Message content")))
        default:
            throw PgOutputError(.unknownMessage, "message type \(tag)", offset: 0)
        }
        guard r.isAtEnd else {
            throw PgOutputError(.malformed, "\(r.remaining) bytes after the message", offset: r.offset)
        }
        return message
    }

    private static func expect(_ r: inout ByteReader, _ tag: Unicode.Scalar, _ what: StaticString) throws(PgOutputError)
    {
        let kind = try r.uint8(what)
        guard kind == UInt8(ascii: tag) else {
            throw PgOutputError(.malformed, "\(what): tuple kind \(kind), expected \(tag)", offset: r.offset - 1)
        }
    }

    private static func tuple(_ r: inout ByteReader) throws(PgOutputError) -> [TupleValue] {
        let count = Int(try r.int16("tuple column count"))
        // Each column takes at least its one-byte kind.
        guard count >= 0, count <= maxColumns, count <= r.remaining else {
            throw PgOutputError(.malformed, "tuple column count \(count)", offset: r.offset - 2)
        }
        var values: [TupleValue] = []
        values.reserveCapacity(count)
        for _ in 0..<count {
            let kind = try r.uint8("column kind")
            switch kind {
            case UInt8(ascii: "n"): values.append(.null)
            case UInt8(ascii: "u"): values.append(.unchangedToast)
            case UInt8(ascii: "t"), UInt8(ascii: "b"):
                let length = Int(try r.int32("column length"))
                let bytes = try r.bytes(length, "column value")
                values.append(kind == UInt8(ascii: "t") ? .text(bytes) : .binary(bytes))
            default:
                throw PgOutputError(.malformed, "column kind \(kind)", offset: r.offset - 1)
            }
        }
        return values
    }
}
