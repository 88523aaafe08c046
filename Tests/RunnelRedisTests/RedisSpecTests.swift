#if Redis
    import RunnelConfig
    import RunnelCore
    import RunnelRedis
    import RunnelSQLite
    import Testing

    /// What `validate` says of a Redis spec, without a server.
    @Suite struct RedisSpecTests {
        /// It said `checkpoint: none (every run reads all input…)`, the wrong picture for a consumer group.
        @Test func validateSaysTheConsumerGroupKeepsThePosition() throws {
            var registry = ComponentRegistry()
            registry.registerSQLite()
            registry.registerRedis()
            let spec = try PipelineSpec.parse(
                yaml: """
                    pipeline: orders
                    extract: {type: redis_stream, stream: orders, group: workers}
                    load: {type: sqlite, path: out.db, table: t, key: [id]}
                    validate: {on_invalid: drop}
                    """, file: "spec.yaml", directory: "/tmp", environment: Environment([:]), registry: registry)
            let mode = spec.commitMode.joined(separator: "\n")
            #expect(mode.contains("checkpoint: none needed — the consumer group 'workers' keeps it"), "\(mode)")
            #expect(!mode.contains("every run reads all input"))
        }
    }
#endif
