import Foundation
import Testing

@testable import PostgresReplication

/// The decoder without a server: every message kind, exact bytes as the server writes them,
/// and every truncation and corruption of them throws instead of trapping.
struct PgOutputDecoderTests {
    static let relation = PgOutputMessage.Relation(
        oid: 16385, namespace: "public", name: "orders", replicaIdentity: UInt8(ascii: "d"),
        columns: [
            .init(isKey: true, name: "id", typeOID: 23, typeModifier: -1),
            .init(isKey: false, name: "note", typeOID: 25, typeModifier: -1),
        ])

    static let messages: [PgOutputMessage] = [
        .begin(
            .init(
                finalLSN: LSN(0x16_B374_D848), commitTime: .init(microsecondsSince2000: 786_000_000_000_000), xid: 745)),
        .commit(
            .init(
                flags: 0, commitLSN: LSN(0x16_B374_D848), endLSN: LSN(0x16_B374_D878),
                commitTime: .init(microsecondsSince2000: 786_000_000_000_000))),
        .origin(.init(commitLSN: LSN(0x1000), name: "node_a")),
        .relation(relation),
        .type(.init(oid: 16400, namespace: "public", name: "mood")),
        .insert(.init(relationOID: 16385, new: [.text(Array("1".utf8)), .null])),
        .update(.init(relationOID: 16385, old: nil, new: [.text(Array("1".utf8)), .unchangedToast])),
        .update(
            .init(
                relationOID: 16385, old: .key([.text(Array("1".utf8)), .null]),
                new: [.text(Array("2".utf8)), .text([])])),
        .update(
            .init(
                relationOID: 16385, old: .full([.text(Array("1".utf8)), .text(Array("a".utf8))]),
                new: [.text(Array("1".utf8)), .binary([0, 1, 2])])),
        .delete(.init(relationOID: 16385, old: .key([.text(Array("1".utf8)), .null]))),
        .delete(.init(relationOID: 16385, old: .full([.text(Array("1".utf8)), .text(Array("x".utf8))]))),
        .truncate(.init(cascade: true, restartIdentity: false, relationOIDs: [16385, 16390])),
        .message(.init(transactional: true, lsn: LSN(0x2000), prefix: "runnel", content: Array("hello".utf8))),
    ]

    @Test(arguments: messages)
    func roundTrips(_ message: PgOutputMessage) throws {
        #expect(try PgOutputDecoder.decode(message.encoded()) == message)
    }

    @Test(arguments: messages)
    func everyTruncationThrows(_ message: PgOutputMessage) {
        let bytes = message.encoded()
        for end in 0..<bytes.count {
            #expect(throws: PgOutputError.self) { try PgOutputDecoder.decode(Array(bytes[..<end])) }
        }
        #expect(throws: PgOutputError.self) { try PgOutputDecoder.decode(bytes + [0]) }
    }

    @Test
    func exactServerBytes() throws {
        // An Insert as PostgreSQL 15 sends it: relation 16385, two text columns.
        let bytes: [UInt8] = [0x49, 0, 0, 0x40, 0x01, 0x4E, 0, 2, 0x74, 0, 0, 0, 1, 0x37, 0x6E]
        #expect(try PgOutputDecoder.decode(bytes) == .insert(.init(relationOID: 16385, new: [.text([0x37]), .null])))
        #expect(TupleValue.text([0x37]).string == "7")
    }

    @Test
    func rejectsWhatTheProtocolForbids() {
        func code(_ bytes: [UInt8]) -> PgOutputError.Code? {
            do {
                _ = try PgOutputDecoder.decode(bytes)
                return nil
            } catch { return error.code }
        }
        #expect(code([]) == .truncated)
        #expect(code([UInt8(ascii: "Z")]) == .unknownMessage)
        // A column count past anything PostgreSQL allows, and a negative one.
        #expect(code([0x49, 0, 0, 0, 1, 0x4E, 0x7F, 0xFF]) == .malformed)
        #expect(code([0x49, 0, 0, 0, 1, 0x4E, 0xFF, 0xFF]) == .malformed)
        // A column kind that does not exist.
        #expect(code([0x49, 0, 0, 0, 1, 0x4E, 0, 1, 0x78]) == .malformed)
        // A value length of -2 and one longer than the message.
        #expect(code([0x49, 0, 0, 0, 1, 0x4E, 0, 1, 0x74, 0xFF, 0xFF, 0xFF, 0xFE]) == .truncated)
        #expect(code([0x49, 0, 0, 0, 1, 0x4E, 0, 1, 0x74, 0x7F, 0xFF, 0xFF, 0xFF]) == .truncated)
        // Truncate announcing two billion relations.
        #expect(code([0x54, 0x7F, 0xFF, 0xFF, 0xFF, 0]) == .malformed)
        // Delete without K or O, Update with a stray tuple kind.
        #expect(code([0x44, 0, 0, 0, 1, 0x4E, 0, 0]) == .malformed)
        #expect(code([0x55, 0, 0, 0, 1, 0x58, 0, 0]) == .malformed)
        // An unterminated string.
        #expect(code([0x59, 0, 0, 0, 1, 0x61, 0x62]) == .truncated)
    }

    @Test
    func streamMessages() throws {
        let data = PgOutputMessage.insert(.init(relationOID: 1, new: [])).encoded()
        var w = ByteWriter()
        w.tag("w")
        w.u64(0x100)
        w.u64(0x200)
        w.i64(5)
        #expect(
            try ReplicationStreamMessage.decode(w.bytes + data)
                == .xLogData(
                    .init(start: LSN(0x100), walEnd: LSN(0x200), sendTime: .init(microsecondsSince2000: 5), data: data))
        )
        var k = ByteWriter()
        k.tag("k")
        k.u64(0x300)
        k.i64(7)
        k.bytes.append(1)
        #expect(
            try ReplicationStreamMessage.decode(k.bytes)
                == .primaryKeepalive(
                    .init(walEnd: LSN(0x300), sendTime: .init(microsecondsSince2000: 7), replyRequested: true)))
        for end in 0..<k.bytes.count {
            #expect(throws: PgOutputError.self) { try ReplicationStreamMessage.decode(Array(k.bytes[..<end])) }
        }
        let update = ReplicationStreamMessage.standbyStatusUpdate(
            written: LSN(1), flushed: LSN(2), applied: LSN(3), clock: .init(microsecondsSince2000: 4),
            replyRequested: true)
        #expect(
            update == [0x72] + [0, 0, 0, 0, 0, 0, 0, 1] + [0, 0, 0, 0, 0, 0, 0, 2] + [0, 0, 0, 0, 0, 0, 0, 3]
                + [0, 0, 0, 0, 0, 0, 0, 4] + [1])
    }

    @Test
    func lsnText() {
        #expect(LSN("16/B374D848") == LSN(0x16_B374_D848))
        #expect(LSN(0x16_B374_D848).description == "16/B374D848")
        #expect(LSN("0/0") == .zero)
        for bad in ["", "16", "16/", "/1", "G/1", "123456789/0", "1/2/3", "-1/0"] { #expect(LSN(bad) == nil) }
        #expect(PostgresTimestamp(microsecondsSince1970: 946_684_800_000_000).microsecondsSince2000 == 0)
    }

    /// The committed fuzz seeds (Fuzz/pgoutput/seeds) are valid messages, so that the fuzzer
    /// starts from every kind.
    @Test
    func fuzzSeedsAreValidMessages() throws {
        let seeds = String(#filePath).split(separator: "/").dropLast(3).joined(separator: "/")
        let directory = "/" + seeds + "/Fuzz/pgoutput/seeds"
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(names.count >= 14)
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
            if name == "xlogdata.bin" || name == "keepalive.bin" {
                _ = try ReplicationStreamMessage.decode(bytes)
            } else {
                _ = try PgOutputDecoder.decode(bytes)
            }
        }
    }
}
