import Testing

@testable import PostgresReplication

/// Changes numbered within their transaction, and a resumed reader skipping exactly what it
/// stored of a transaction that a batch ended inside.
struct ChangeAssemblerTests {
    static let relation = PgOutputMessage.Relation(
        oid: 7, namespace: "public", name: "t", replicaIdentity: UInt8(ascii: "d"),
        columns: [.init(isKey: true, name: "id", typeOID: 23, typeModifier: -1)])

    static func transaction(_ lsn: UInt64, ids: [String]) -> [PgOutputMessage] {
        [.begin(.init(finalLSN: LSN(lsn), commitTime: .init(microsecondsSince2000: 1), xid: 1))]
            + ids.map { .insert(.init(relationOID: 7, new: [.text(Array($0.utf8))])) }
            + [
                .commit(
                    .init(
                        flags: 0, commitLSN: LSN(lsn), endLSN: LSN(lsn + 8), commitTime: .init(microsecondsSince2000: 1)
                    ))
            ]
    }

    static func run(_ assembler: inout ChangeAssembler, _ messages: [PgOutputMessage]) throws -> [String] {
        var out: [String] = []
        for m in messages {
            for o in try assembler.apply(m) {
                switch o {
                case .change(let c):
                    out.append("\(c.operation.rawValue) \(c.values.first?.string ?? "-") @\(c.position)")
                case .commit(_, let end, let n): out.append("commit \(end) \(n)")
                case .relation(let r, let previous):
                    out.append("relation \(r.name) \(previous == nil ? "new" : "again")")
                default: break
                }
            }
        }
        return out
    }

    @Test
    func numbersChangesAndSkipsWhatWasStored() throws {
        let stream: [PgOutputMessage] =
            [.relation(Self.relation)] + Self.transaction(0x100, ids: ["a", "b", "c"])
            + Self.transaction(0x200, ids: ["d"])
        var fresh = ChangeAssembler()
        #expect(
            try Self.run(&fresh, stream) == [
                "relation t new", "insert a @0/100#0", "insert b @0/100#1", "insert c @0/100#2", "commit 0/108 3",
                "insert d @0/200#0", "commit 0/208 1",
            ])
        // A batch ended after b: the stream resends the transaction from its start.
        let stored = try #require(CDCPosition("0/F0 0/100#1"))
        var resumed = ChangeAssembler(resumingFrom: stored)
        #expect(
            try Self.run(&resumed, stream) == [
                "relation t new", "insert c @0/100#2", "commit 0/108 3", "insert d @0/200#0", "commit 0/208 1",
            ])
    }

    @Test
    func truncateIsAChangePerTableAndTheProtocolIsEnforced() throws {
        var a = ChangeAssembler()
        _ = try a.apply(.relation(Self.relation))
        _ = try a.apply(.begin(.init(finalLSN: LSN(5), commitTime: .init(microsecondsSince2000: 0), xid: 1)))
        let out = try a.apply(.truncate(.init(cascade: false, restartIdentity: false, relationOIDs: [7, 7])))
        #expect(out.count == 2)
        #expect(throws: ReplicationError.self) { try a.apply(.insert(.init(relationOID: 99, new: []))) }
        #expect(throws: ReplicationError.self) { try a.apply(.insert(.init(relationOID: 7, new: []))) }
        var b = ChangeAssembler()
        #expect(throws: ReplicationError.self) {
            try b.apply(
                .commit(.init(flags: 0, commitLSN: .zero, endLSN: .zero, commitTime: .init(microsecondsSince2000: 0))))
        }
    }

    @Test
    func positionsText() {
        #expect(CDCPosition("16/B374D878")?.within == nil)
        #expect(CDCPosition("16/B374D878 16/B374D900#41")?.description == "16/B374D878 16/B374D900#41")
        for bad in ["", "x", "0/1 0/2", "0/1 0/2#-1", "0/1 0/2#1 3"] { #expect(CDCPosition(bad) == nil) }
        #expect(ChangePosition(commitLSN: LSN(1), index: 9) < ChangePosition(commitLSN: LSN(2), index: 0))
    }
}
