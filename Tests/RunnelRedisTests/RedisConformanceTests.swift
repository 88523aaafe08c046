#if Redis
    import RedisClient
    import RunnelCore
    import RunnelRedis
    import RunnelTesting
    import Testing

    /// The stream loader and the dead letter stream keep the contracts every connector keeps,
    /// against the real redis-server that scripts/test starts.
    @Suite struct RedisConformanceTests {
        @Test func streamLoaderIsIdempotentPerBatch() async throws {
            try await withClient { client in
                let stream = "conformance-\(UInt32.random(in: 0..<UInt32.max))"
                let loader = RedisStreamLoader(.init(stream: stream), client: client)
                let batch = Batch(
                    schema: Schema(["id", "v"]), rows: (1...5).map { [.int(Int64($0)), .string("v\($0)")] },
                    origins: (1...5).map { Origin(source: "in.csv", line: $0) })
                try await LoaderConformance.isIdempotent(loader, batch: batch) {
                    let entries = try await client.send(["XRANGE", .string(stream), "-", "+"])
                    guard case .array(let items) = entries else { return [] }
                    return items.map { _ in [Value.null] }
                }
                #expect(try await client.xlen(stream) == 5, "a replayed batch appended again")
                // A batch with other records (other boundaries after a restart) is appended: never skipped.
                let shifted = Batch(
                    schema: Schema(["id", "v"]), rows: (4...6).map { [.int(Int64($0)), .string("v\($0)")] },
                    origins: (4...6).map { Origin(source: "in.csv", line: $0) })
                try await loader.load(shifted, commit: nil)
                #expect(try await client.xlen(stream) == 8)
                _ = try await client.del([stream])
            }
        }

        @Test func deadLetterStreamKeepsTheQueueContract() async throws {
            try await withClient { client in
                let stream = "conformance-dl-\(UInt32.random(in: 0..<UInt32.max))"
                try await DeadLetterQueueConformance.isIdempotent(RedisDeadLetterStream(stream: stream, client: client))
                _ = try await client.del([stream])
            }
        }
    }
#endif
