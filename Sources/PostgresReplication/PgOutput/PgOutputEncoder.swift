/// Writes pgoutput messages as the server would: for tests that need exact server bytes without
/// a server, and for the fuzz target's round-trip check (`decode(encode(m)) == m`).
extension PgOutputMessage {
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        switch self {
        case .begin(let m):
            w.tag("B")
            w.u64(m.finalLSN.rawValue)
            w.i64(m.commitTime.microsecondsSince2000)
            w.u32(m.xid)
        case .commit(let m):
            w.tag("C")
            w.bytes.append(m.flags)
            w.u64(m.commitLSN.rawValue)
            w.u64(m.endLSN.rawValue)
            w.i64(m.commitTime.microsecondsSince2000)
        case .origin(let m):
            w.tag("O")
            w.u64(m.commitLSN.rawValue)
            w.cString(m.name)
        case .relation(let m):
            w.tag("R")
            w.u32(m.oid)
            w.cString(m.namespace)
            w.cString(m.name)
            w.bytes.append(m.replicaIdentity)
            w.u16(UInt16(truncatingIfNeeded: m.columns.count))
            for c in m.columns {
                w.bytes.append(c.isKey ? 1 : 0)
                w.cString(c.name)
                w.u32(c.typeOID)
                w.u32(UInt32(bitPattern: c.typeModifier))
            }
        case .type(let m):
            w.tag("Y")
            w.u32(m.oid)
            w.cString(m.namespace)
            w.cString(m.name)
        case .insert(let m):
            w.tag("I")
            w.u32(m.relationOID)
            w.tag("N")
            w.tuple(m.new)
        case .update(let m):
            w.tag("U")
            w.u32(m.relationOID)
            switch m.old {
            case .key(let values)?:
                w.tag("K")
                w.tuple(values)
            case .full(let values)?:
                w.tag("O")
                w.tuple(values)
            case nil: break
            }
            w.tag("N")
            w.tuple(m.new)
        case .delete(let m):
            w.tag("D")
            w.u32(m.relationOID)
            switch m.old {
            case .key(let values):
                w.tag("K")
                w.tuple(values)
            case .full(let values):
                w.tag("O")
                w.tuple(values)
            }
        case .truncate(let m):
            w.tag("T")
            w.u32(UInt32(truncatingIfNeeded: m.relationOIDs.count))
            w.bytes.append((m.cascade ? 1 : 0) | (m.restartIdentity ? 2 : 0))
            for oid in m.relationOIDs { w.u32(oid) }
        case .message(let m):
            w.tag("M")
            w.bytes.append(m.transactional ? 1 : 0)
            w.u64(m.lsn.rawValue)
            w.cString(m.prefix)
            w.u32(UInt32(truncatingIfNeeded: m.content.count))
            w.bytes += m.content
        }
        return w.bytes
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func tag(_ scalar: Unicode.Scalar) { bytes.append(UInt8(ascii: scalar)) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    /// A NUL-terminated string; an embedded NUL would end it early, as on the server (which never sends one).
    mutating func cString(_ s: String) {
        bytes += s.utf8
        bytes.append(0)
    }
    mutating func tuple(_ values: [TupleValue]) {
        u16(UInt16(truncatingIfNeeded: values.count))
        for v in values {
            switch v {
            case .null: tag("n")
            case .unchangedToast: tag("u")
            case .text(let b):
                tag("t")
                u32(UInt32(truncatingIfNeeded: b.count))
                bytes += b
            case .binary(let b):
                tag("b")
                u32(UInt32(truncatingIfNeeded: b.count))
                bytes += b
            }
        }
    }
}
