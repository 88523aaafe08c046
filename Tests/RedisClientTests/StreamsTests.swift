#if Redis
import Testing

@testable import RedisClient

/// The typed stream helpers against the real server, in both protocol versions (RESP3 sends
/// several of these replies as maps where RESP2 sends arrays).
struct StreamsTests {
    static func fields(_ index: Int) -> [(String, [UInt8])] {
        [("n", Array("\(index)".utf8)), ("blob", [0, 13, 10, UInt8(index % 256)])]
    }

    @Test("group creation is idempotent", arguments: [true, false])
    func groupCreation(preferRESP3: Bool) async throws {
        let key = uniqueKey("group")
        try await withTestConnection(preferRESP3: preferRESP3) { connection in
            #expect(try await connection.xgroupCreate(key, group: "g", startID: "0") == true)
            #expect(try await connection.xgroupCreate(key, group: "g", startID: "0") == false)
            #expect(try await connection.xlen(key) == 0)  // MKSTREAM made an empty stream
            try await connection.del([key])
        }
    }

    @Test("read new, re-read pending, ack, autoclaim, delivery counts", arguments: [true, false])
    func consumerGroupLifecycle(preferRESP3: Bool) async throws {
        let key = uniqueKey("lifecycle")
        try await withTestConnection(preferRESP3: preferRESP3) { connection in
            try await connection.xgroupCreate(key, group: "g", startID: "0")
            var ids: [StreamID] = []
            for index in 0..<5 {
                ids.append(try await connection.xadd(key, fields: Self.fields(index)))
            }
            #expect(ids == ids.sorted())

            // ">" delivers new entries, with their fields intact.
            let first = try await connection.xreadgroup(group: "g", consumer: "alice", key: key, id: ">", count: 10)
            #expect(first.map(\.id) == ids)
            #expect(first.map { $0[field: "n"] } == (0..<5).map { Array("\($0)".utf8) })
            #expect(first[3][field: "blob"] == [0, 13, 10, 3])
            #expect(first.allSatisfy { !$0.isDeleted })
            #expect(try await connection.xreadgroup(group: "g", consumer: "alice", key: key, id: ">").isEmpty)

            // "0" re-reads this consumer's pending entries.
            let pending = try await connection.xreadgroup(group: "g", consumer: "alice", key: key, id: "0")
            #expect(pending.map(\.id) == ids)
            #expect(try await connection.xpendingSummary(key, group: "g").count == 5)

            // Acknowledging removes entries from the pending list.
            #expect(try await connection.xack(key, group: "g", ids: Array(ids[0..<2])) == 2)
            #expect(try await connection.xack(key, group: "g", ids: [ids[0]]) == 0)  // already acked
            let summary = try await connection.xpendingSummary(key, group: "g")
            #expect(summary.count == 3)
            #expect(summary.lowest == ids[2])
            #expect(summary.highest == ids[4])
            #expect(summary.consumers.map(\.name) == ["alice"])
            #expect(summary.consumers.map(\.count) == [3])

            // Entries idle long enough move to another consumer; their delivery count rises.
            let before = try await connection.xpendingRange(key, group: "g", count: 10)
            #expect(before.map(\.id) == Array(ids[2...]))
            #expect(before.allSatisfy { $0.consumer == "alice" })
            // Delivered by ">" then re-read by "0": two deliveries each.
            #expect(before.map(\.deliveryCount) == [2, 2, 2])

            try await eventually("the pending entries to be idle for 50 ms") {
                try await connection.xpendingRange(key, group: "g", count: 10).allSatisfy { $0.idleMilliseconds >= 50 }
            }
            let claimed = try await connection.xautoclaim(key, group: "g", consumer: "bob", minIdleMilliseconds: 50)
            #expect(claimed.entries.map(\.id) == Array(ids[2...]))
            #expect(claimed.entries[0][field: "n"] == Array("2".utf8))
            #expect(claimed.next == .zero)
            #expect(claimed.deleted.isEmpty)

            let after = try await connection.xpendingRange(key, group: "g", count: 10)
            #expect(after.allSatisfy { $0.consumer == "bob" })
            #expect(after.map(\.deliveryCount) == [3, 3, 3])
            #expect(try await connection.xpendingRange(key, group: "g", count: 10, consumer: "alice").isEmpty)
            #expect(try await connection.xreadgroup(group: "g", consumer: "alice", key: key, id: "0").isEmpty)
            #expect(try await connection.xreadgroup(group: "g", consumer: "bob", key: key, id: "0").count == 3)

            try await connection.del([key])
        }
    }

    @Test("entries deleted while pending come back without fields", arguments: [true, false])
    func deletedWhilePending(preferRESP3: Bool) async throws {
        let key = uniqueKey("deleted")
        try await withTestConnection(preferRESP3: preferRESP3) { connection in
            try await connection.xgroupCreate(key, group: "g", startID: "0")
            let ids = try await connection.xaddPipelined(key, entries: (0..<3).map(Self.fields))
            _ = try await connection.xreadgroup(group: "g", consumer: "alice", key: key, id: ">")
            try await connection.send(["XDEL", .string(key), .string(ids[1].description)])

            let pending = try await connection.xreadgroup(group: "g", consumer: "alice", key: key, id: "0")
            #expect(pending.map(\.id) == ids)
            #expect(pending.map(\.isDeleted) == [false, true, false])
            #expect(pending[1].fields.isEmpty)

            // XAUTOCLAIM (Redis 7) reports the deleted ID and drops it from the pending list.
            let claimed = try await connection.xautoclaim(key, group: "g", consumer: "bob", minIdleMilliseconds: 0)
            #expect(claimed.entries.map(\.id) == [ids[0], ids[2]])
            #expect(claimed.deleted == [ids[1]])
            #expect(try await connection.xpendingSummary(key, group: "g").count == 2)
            try await connection.del([key])
        }
    }

    @Test("XINFO GROUPS reports pending and lag", arguments: [true, false])
    func groupInfo(preferRESP3: Bool) async throws {
        let key = uniqueKey("info")
        try await withTestConnection(preferRESP3: preferRESP3) { connection in
            try await connection.xgroupCreate(key, group: "g", startID: "0")
            _ = try await connection.xaddPipelined(key, entries: (0..<5).map(Self.fields))
            let read = try await connection.xreadgroup(group: "g", consumer: "alice", key: key, count: 2)
            let groups = try await connection.xinfoGroups(key)
            #expect(groups.count == 1)
            #expect(groups.first?.name == "g")
            #expect(groups.first?.consumers == 1)
            #expect(groups.first?.pending == 2)
            #expect(groups.first?.lastDeliveredID == read.last?.id)
            #expect(groups.first?.entriesRead == 2)
            #expect(groups.first?.lag == 3)
            try await connection.del([key])
        }
    }

    @Test("a blocking read wakes up for a new entry and returns empty on timeout")
    func blockingRead() async throws {
        let key = uniqueKey("block")
        try await withTestConnection { connection in
            try await connection.xgroupCreate(key, group: "g")

            let timedOut = try await connection.xreadgroup(group: "g", consumer: "c", key: key, blockMilliseconds: 100)
            #expect(timedOut.isEmpty)

            async let woken = connection.xreadgroup(group: "g", consumer: "c", key: key, blockMilliseconds: 20_000)
            // Add from another connection once the read is blocked (XINFO shows the consumer).
            let added = try await withTestConnection { writer in
                try await eventually("the reader to block") {
                    try await writer.send(["CLIENT", "LIST"]).string?.contains("cmd=xreadgroup") == true
                }
                return try await writer.xadd(key, fields: [("k", Array("v".utf8))])
            }
            #expect(try await woken.map(\.id) == [added])
            try await connection.del([key])
        }
    }

    @Test("pipelined XADD keeps order; MAXLEN ~ trims")
    func pipelinedAddAndTrim() async throws {
        let key = uniqueKey("bulk")
        try await withTestConnection { connection in
            let ids = try await connection.xaddPipelined(key, entries: (0..<2_000).map(Self.fields))
            #expect(ids.count == 2_000)
            #expect(ids == ids.sorted() && Set(ids).count == 2_000)
            #expect(try await connection.xlen(key) == 2_000)

            let trimmed = uniqueKey("trimmed")
            _ = try await connection.xaddPipelined(trimmed, entries: (0..<2_000).map(Self.fields), maxLenApprox: 100)
            let length = try await connection.xlen(trimmed)
            #expect(length >= 100 && length < 1_000)  // "~" trims whole nodes, so a bit more than 100 stays

            #expect(try await connection.del([key, trimmed, uniqueKey("absent")]) == 2)
        }
    }

    @Test("a rejected pipelined XADD throws the server's error")
    func pipelinedAddError() async throws {
        let key = uniqueKey("bulk-error")
        try await withTestConnection { connection in
            try await connection.send(["SET", .string(key), "not a stream"])
            let error = await expectRedisError {
                _ = try await connection.xaddPipelined(key, entries: [Self.fields(0)])
            }
            #expect(error?.serverErrorCode == "WRONGTYPE")
            try await connection.del([key])
        }
    }
}

#endif
