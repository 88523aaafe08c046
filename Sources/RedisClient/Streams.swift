import NIOCore

/// Typed Redis Streams commands. Replies are read in both their RESP2 and RESP3 shapes
/// (RESP3 sends XREADGROUP and XINFO as maps where RESP2 sends flat arrays).
extension RedisCommandSender {
    /// `XADD key [MAXLEN ~ n] id field value …`. Returns the ID of the new entry.
    ///
    /// ```swift
    /// let id = try await client.xadd("orders", fields: [("payload", Array(json.utf8))], maxLenApprox: 1_000_000)
    /// ```
    /// - Parameter maxLenApprox: Trim the stream to about this many entries (`MAXLEN ~`, which
    ///   trims whole radix-tree nodes and so keeps somewhat more).
    @discardableResult
    public func xadd(
        _ key: String,
        id: String = "*",
        fields: [(String, [UInt8])],
        maxLenApprox: Int? = nil
    ) async throws -> StreamID {
        let reply = try await send(Self.xaddCommand(key, id: id, fields: fields, maxLenApprox: maxLenApprox))
        return try Self.streamID(reply, command: "XADD")
    }

    /// Adds many entries with one write (one XADD per entry, pipelined). Returns their IDs in order.
    ///
    /// If the server rejects one of the entries, the others have still been added; this throws the
    /// first error reply (code `.server`) after all replies have been read.
    public func xaddPipelined(
        _ key: String,
        entries: [[(String, [UInt8])]],
        maxLenApprox: Int? = nil
    ) async throws -> [StreamID] {
        let commands = entries.map { Self.xaddCommand(key, id: "*", fields: $0, maxLenApprox: maxLenApprox) }
        let replies = try await pipeline(commands)
        if let message = replies.lazy.compactMap(\.errorMessage).first {
            throw RedisError(code: .server, message: message, command: "XADD")
        }
        return try replies.map { try Self.streamID($0, command: "XADD") }
    }

    /// `XGROUP CREATE key group startID [MKSTREAM]`. Returns `false` when the group already
    /// existed (BUSYGROUP), so calling it on every start is safe.
    /// - Parameter startID: `$` for entries added from now on, `0` for the whole stream.
    @discardableResult
    public func xgroupCreate(
        _ key: String,
        group: String,
        startID: String = "$",
        mkstream: Bool = true
    ) async throws -> Bool {
        var arguments: [RedisArgument] = ["CREATE", .string(key), .string(group), .string(startID)]
        if mkstream { arguments.append("MKSTREAM") }
        do {
            try await send(RedisCommand("XGROUP", arguments))
            return true
        } catch let error as RedisError where error.serverErrorCode == "BUSYGROUP" {
            return false
        }
    }

    /// `XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] STREAMS key id`.
    ///
    /// - Parameters:
    ///   - id: `>` for entries never delivered to the group; `0` (or an ID) to re-read this
    ///     consumer's pending entries, which may include `isDeleted` entries.
    ///   - blockMilliseconds: Wait up to this long for new entries (`0` waits forever); `nil`
    ///     returns at once. The command timeout is extended by the same amount.
    /// - Returns: The entries, empty when the block timed out.
    public func xreadgroup(
        group: String,
        consumer: String,
        key: String,
        id: String = ">",
        count: Int? = nil,
        blockMilliseconds: Int? = nil
    ) async throws -> [StreamEntry] {
        try await xreadgroupEntries(
            group: group, consumer: consumer, key: key, id: id, count: count, blockMilliseconds: blockMilliseconds
        ).entries()
    }

    /// `xreadgroup` with the entries read in place from the reply (`StreamEntries`), for
    /// consumers that copy only what they keep.
    public func xreadgroupEntries(
        group: String,
        consumer: String,
        key: String,
        id: String = ">",
        count: Int? = nil,
        blockMilliseconds: Int? = nil
    ) async throws -> StreamEntries {
        var arguments: [RedisArgument] = ["GROUP", .string(group), .string(consumer)]
        if let count { arguments += ["COUNT", .integer(count)] }
        var blocking = Duration.zero
        if let blockMilliseconds {
            arguments += ["BLOCK", .integer(blockMilliseconds)]
            // BLOCK 0 waits forever; a century stands in for that in the timeout arithmetic.
            blocking = blockMilliseconds == 0 ? .seconds(100 * 365 * 86_400) : .milliseconds(blockMilliseconds)
        }
        arguments += ["STREAMS", .string(key), .string(id)]
        let frame = try await sendFrame(RedisCommand("XREADGROUP", arguments, serverBlockingTime: blocking))

        return try StreamEntries(xreadgroupReply: frame)
    }

    /// `XACK key group id …`. Returns how many entries were pending and are now acknowledged.
    @discardableResult
    public func xack(_ key: String, group: String, ids: [StreamID]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let reply = try await send(
            RedisCommand("XACK", [.string(key), .string(group)] + ids.map { .string($0.description) }))
        return try Self.int(reply, command: "XACK")
    }

    /// `XAUTOCLAIM key group consumer min-idle start [COUNT n]`: takes over entries that have been
    /// pending longer than `minIdleMilliseconds`, raising their delivery counts.
    ///
    /// - Returns: `next`, the cursor to pass as `start` next time (`0-0` when the scan is
    ///   complete); the claimed `entries`; and `deleted`, IDs that were pending but no longer in
    ///   the stream, which Redis 7 removes from the pending list itself. (Redis 6.2 instead
    ///   returns them as entries with `isDeleted` set.)
    public func xautoclaim(
        _ key: String,
        group: String,
        consumer: String,
        minIdleMilliseconds: Int,
        start: StreamID = .zero,
        count: Int? = nil
    ) async throws -> (next: StreamID, entries: [StreamEntry], deleted: [StreamID]) {
        let claimed = try await xautoclaimEntries(
            key, group: group, consumer: consumer, minIdleMilliseconds: minIdleMilliseconds, start: start, count: count)
        return (claimed.next, try claimed.entries.entries(), claimed.deleted)
    }

    /// `xautoclaim` with the entries read in place from the reply (`StreamEntries`).
    public func xautoclaimEntries(
        _ key: String,
        group: String,
        consumer: String,
        minIdleMilliseconds: Int,
        start: StreamID = .zero,
        count: Int? = nil
    ) async throws -> (next: StreamID, entries: StreamEntries, deleted: [StreamID]) {
        var arguments: [RedisArgument] = [
            .string(key), .string(group), .string(consumer), .integer(minIdleMilliseconds), .string(start.description),
        ]
        if let count { arguments += ["COUNT", .integer(count)] }
        let frame = try await sendFrame(RedisCommand("XAUTOCLAIM", arguments))
        return try StreamEntries.xautoclaimReply(frame)
    }

    /// `XPENDING key group`: how many entries are pending, the lowest and highest pending IDs,
    /// and the count per consumer.
    public func xpendingSummary(
        _ key: String,
        group: String
    ) async throws -> (count: Int, lowest: StreamID?, highest: StreamID?, consumers: [(name: String, count: Int)]) {
        let reply = try await send(RedisCommand("XPENDING", [.string(key), .string(group)]))
        guard let parts = reply.array, parts.count == 4 else { throw Self.unexpected("XPENDING", reply) }
        let count = try Self.int(parts[0], command: "XPENDING")
        let lowest = try parts[1].isNull ? nil : Self.streamID(parts[1], command: "XPENDING")
        let highest = try parts[2].isNull ? nil : Self.streamID(parts[2], command: "XPENDING")
        let consumers = try (parts[3].array ?? []).map { element -> (name: String, count: Int) in
            guard let pair = element.array, pair.count == 2, let name = pair[0].string, let count = pair[1].int else {
                throw Self.unexpected("XPENDING", element)
            }
            return (name, count)
        }
        return (count, lowest, highest, consumers)
    }

    /// `XPENDING key group [IDLE ms] start end count [consumer]`: pending entries with their
    /// consumer, idle time and delivery count.
    /// - Parameters:
    ///   - start: Lowest ID, `-` for the beginning. `end`: highest, `+` for the end.
    ///   - minIdleMilliseconds: Only entries idle at least this long (Redis 6.2+).
    public func xpendingRange(
        _ key: String,
        group: String,
        start: String = "-",
        end: String = "+",
        count: Int,
        consumer: String? = nil,
        minIdleMilliseconds: Int? = nil
    ) async throws -> [PendingEntry] {
        var arguments: [RedisArgument] = [.string(key), .string(group)]
        if let minIdleMilliseconds { arguments += ["IDLE", .integer(minIdleMilliseconds)] }
        arguments += [.string(start), .string(end), .integer(count)]
        if let consumer { arguments.append(.string(consumer)) }
        let reply = try await send(RedisCommand("XPENDING", arguments))
        guard let rows = reply.array else { throw Self.unexpected("XPENDING", reply) }
        return try rows.map { row in
            guard let fields = row.array, fields.count == 4, let consumer = fields[1].string,
                let idle = fields[2].int, let deliveries = fields[3].int
            else { throw Self.unexpected("XPENDING", row) }
            return PendingEntry(
                id: try Self.streamID(fields[0], command: "XPENDING"),
                consumer: consumer,
                idleMilliseconds: idle,
                deliveryCount: deliveries
            )
        }
    }

    /// `XINFO GROUPS key`: the consumer groups of a stream with their pending counts and, on
    /// Redis 7+, their lag.
    public func xinfoGroups(_ key: String) async throws -> [StreamGroupInfo] {
        let reply = try await send(RedisCommand("XINFO", ["GROUPS", .string(key)]))
        guard let groups = reply.array else { throw Self.unexpected("XINFO", reply) }
        return try groups.map { group in
            guard let pairs = group.pairs else { throw Self.unexpected("XINFO", group) }
            var fields: [String: RESPValue] = [:]
            for pair in pairs {
                if let name = pair.key.string { fields[name] = pair.value }
            }
            guard let name = fields["name"]?.string, let consumers = fields["consumers"]?.int,
                let pending = fields["pending"]?.int, let lastDelivered = fields["last-delivered-id"]
            else { throw Self.unexpected("XINFO", group) }
            return StreamGroupInfo(
                name: name,
                consumers: consumers,
                pending: pending,
                lastDeliveredID: try Self.streamID(lastDelivered, command: "XINFO"),
                entriesRead: fields["entries-read"]?.int,
                lag: fields["lag"]?.int
            )
        }
    }

    /// `XLEN key`: entries in the stream (0 when it does not exist).
    public func xlen(_ key: String) async throws -> Int {
        try Self.int(try await send(RedisCommand("XLEN", [.string(key)])), command: "XLEN")
    }

    /// `DEL key …`: returns how many keys existed.
    @discardableResult
    public func del(_ keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try Self.int(try await send(RedisCommand("DEL", keys.map { .string($0) })), command: "DEL")
    }

    // MARK: - Reply parsing

    static func xaddCommand(_ key: String, id: String, fields: [(String, [UInt8])], maxLenApprox: Int?) -> RedisCommand
    {
        var arguments: [RedisArgument] = [.string(key)]
        arguments.reserveCapacity(5 + 2 * fields.count)
        if let maxLenApprox { arguments += ["MAXLEN", "~", .integer(maxLenApprox)] }
        arguments.append(.string(id))
        for (name, value) in fields {
            arguments.append(.string(name))
            arguments.append(.bytes(value))
        }
        return RedisCommand("XADD", arguments)
    }

    static func streamID(_ value: RESPValue, command: String) throws -> StreamID {
        let id: StreamID? =
            switch value {
            case .bulkString(let bytes): StreamID(utf8: bytes)
            case .simpleString(let text): StreamID(text)
            default: nil
            }
        guard let id else { throw unexpected(command, value) }
        return id
    }

    static func int(_ value: RESPValue, command: String) throws -> Int {
        guard let number = value.int else { throw unexpected(command, value) }
        return number
    }

    /// Describes the shape, not the content, of a reply: it may hold user data.
    static func unexpected(_ command: String, _ value: RESPValue) -> RedisError {
        let shape: String =
            switch value {
            case .simpleString: "a simple string"
            case .error(let message): "an error (\(message))"
            case .integer: "an integer"
            case .bulkString: "a bulk string"
            case .null: "null"
            case .array(let elements): "an array of \(elements.count)"
            case .map(let pairs): "a map of \(pairs.count)"
            case .set(let elements): "a set of \(elements.count)"
            case .double: "a double"
            case .boolean: "a boolean"
            case .bigNumber: "a big number"
            case .verbatimString: "a verbatim string"
            }
        return RedisError(code: .unexpectedReply, message: "unexpected reply shape: \(shape)", command: command)
    }
}
