#if Redis
    import Foundation
    import RedisClient
    import RunnelCore
    import RunnelSQLite
    import RunnelTesting
    import Testing

    #if canImport(Glibc)
        import Glibc
    #endif

    /// `runnel-stream` end to end against a real redis-server: the built binary, real signals,
    /// outcomes a user sees (rows in the target, entries left pending, exit codes, metrics).
    @Suite(.serialized) struct StreamWorkerTests {
        @Test("two consumers share the stream: every message is loaded exactly once, none left pending")
        func twoConsumersLoadEachMessageOnce() async throws {
            let spec = try StreamSpec.make("two") { $0.jsonl = true }
            let n = 3_000
            let (portA, portB) = (try freePort(), try freePort())
            let a = try spec.start(consumer: "worker-a", httpPort: portA)
            defer { ensureStopped(a) }
            let b = try spec.start(consumer: "worker-b", httpPort: portB)
            defer { ensureStopped(b) }
            try await withClient { client in
                // Produced while both run, in slices, so both take part.
                for slice in stride(from: 1, through: n, by: 500) {
                    try await produce(client, stream: spec.stream, ids: slice..<(slice + 500))
                }
                try await eventually("all \(n) messages in the target") { try spec.partLines().count >= n }
                try await eventually("nothing pending") { try await pending(client, spec.stream).total == 0 }
            }
            let loadedA = try loadedTotal(port: portA)
            let loadedB = try loadedTotal(port: portB)
            let ra = stop(a)
            let rb = stop(b)
            #expect(ra.code == 0, "worker-a: \(ra.stderr.suffix(2_000))")
            #expect(rb.code == 0, "worker-b: \(rb.stderr.suffix(2_000))")

            let lines = try spec.partLines()
            #expect(lines.count == n, "each message written exactly once (part files hold \(lines.count) lines)")
            #expect(Set(lines) == Set(1...n))
            #expect(loadedA + loadedB == Double(n))
            #expect(loadedA > 0 && loadedB > 0, "both consumers took part (a \(loadedA), b \(loadedB))")
        }

        @Test("a consumer killed mid-batch: the other claims its entries after min_idle; each message once; pending 0")
        func killedConsumersEntriesAreClaimed() async throws {
            let spec = try StreamSpec.make("kill") {
                $0.minIdle = "2s"
                $0.maxRecords = 20
            }
            let n = 20_000
            try await withClient { client in
                try await produce(client, stream: spec.stream, ids: 1...n)
                let a = try spec.start(consumer: "victim")
                defer { ensureStopped(a) }
                try await eventually("the victim to load something") { try spec.rows() >= 200 }
                let killed = stop(a, signal: SIGKILL)
                #expect(killed.code == 128 + SIGKILL)
                let left = try await pending(client, spec.stream).byConsumer["victim"] ?? 0
                #expect(left > 0, "the victim died holding read, unacknowledged entries")
                #expect(try spec.rows() < n, "the victim was killed before the end")

                let b = try spec.start(consumer: "rescuer")

                defer { ensureStopped(b) }
                try await eventually("every message in the target", timeout: .seconds(120)) { try spec.rows() == n }
                try await eventually("nothing pending") { try await pending(client, spec.stream).total == 0 }
                let rb = stop(b)
                #expect(rb.code == 0, "\(rb.stderr.suffix(2_000))")
                #expect(rb.stderr.contains("claimed idle entries"))
            }
            let db = try sqliteRows(spec.dbPath, "SELECT count(*), count(DISTINCT order_id), min(order_id), max(order_id) FROM orders")
            #expect(db == [["\(n)", "\(n)", "1", "\(n)"]], "the target holds each message exactly once")
        }

        @Test("a poison entry goes to the dead letter stream after max_deliveries, with its envelope; its neighbours load")
        func poisonEntryIsDeadLettered() async throws {
            let spec = try StreamSpec.make("poison") {
                $0.minIdle = "300ms"
                $0.maxDeliveries = 3
            }
            let (ownPoison, claimedPoison) = try await withClient { client -> (StreamID, StreamID) in
                try await client.xgroupCreate(spec.stream, group: spec.group, startID: "0")
                try await produce(client, stream: spec.stream, ids: 1...10)
                let own = try await client.xadd(spec.stream, fields: [("payload", Array(#"{"order_id":1001,"poison":true}"#.utf8))])
                try await produce(client, stream: spec.stream, ids: 11...20)
                let other = try await client.xadd(spec.stream, fields: [("payload", Array(#"{"order_id":1002,"poison":true}"#.utf8))])
                try await produce(client, stream: spec.stream, ids: 21...30)
                // Earlier lives of the pipeline: consumer "worker" (the one we start) and a dead
                // replica read everything; the good entries were stored and acknowledged, the poison
                // ones crashed the process again and again (their delivery count says 3).
                for (consumer, poison) in [("worker", own), ("dead-replica", other)] {
                    _ = try await client.xreadgroup(group: spec.group, consumer: consumer, key: spec.stream, id: ">", count: 16)
                    try await client.send(
                        RedisCommand("XCLAIM", [.string(spec.stream), .string(spec.group), .string(consumer), 0, .string(poison.description), "RETRYCOUNT", 3]))
                }
                let all = try await client.xpendingRange(spec.stream, group: spec.group, count: 100)
                try await client.xack(spec.stream, group: spec.group, ids: all.map(\.id).filter { $0 != own && $0 != other })
                try await produce(client, stream: spec.stream, ids: 31...40)
                return (own, other)
            }

            let worker = try spec.start(consumer: "worker")

            defer { ensureStopped(worker) }
            try await withClient { client in
                // Goods 1…30 were "stored" by the earlier lives (acknowledged): 31…40 are new.
                try await eventually("the new messages to load") { try spec.rows() == 10 }
                try await eventually("both poison entries parked") { try await client.xlen(spec.deadLetterStream) == 2 }
                try await eventually("nothing pending") { try await pending(client, spec.stream).total == 0 }
            }
            let r = stop(worker)
            #expect(r.code == 0, "\(r.stderr.suffix(2_000))")
            #expect(try sqliteRows(spec.dbPath, "SELECT min(order_id), max(order_id) FROM orders") == [["31", "40"]])
            #expect(try sqliteRows(spec.dbPath, "SELECT count(*) FROM orders WHERE order_id > 1000") == [["0"]])

            let letters = try await withClient { client in
                try await RedisDeadLetterStreamReader.envelopes(client, stream: spec.deadLetterStream)
            }
            #expect(letters.count == 2)
            for (letter, id) in zip(letters.sorted { $0.origin.id ?? "" < $1.origin.id ?? "" }, [ownPoison, claimedPoison]) {
                #expect(letter.pipeline == "stream-test")
                #expect(letter.stage == "extract")
                #expect(letter.errorCode == "max_deliveries")
                #expect(letter.message.contains("delivered 4 times, more than max_deliveries 3"))
                #expect(letter.origin == Origin(source: spec.stream, id: id.description))
                #expect(letter.record?["poison"] == .bool(true))
                #expect(letter.raw?.contains("\"poison\":true") == true)
            }
        }

        @Test("SIGTERM under load: exit 0 within the drain timeout, nothing that was read left pending")
        func sigtermUnderLoadDrains() async throws {
            let spec = try StreamSpec.make("drain") { $0.maxRecords = 100 }
            let worker = try spec.start(consumer: "drainer", extra: ["--drain-timeout", "10s"])
            defer { ensureStopped(worker) }
            let stopProducing = Locked(false)
            let producer = Task {
                try await withClient { client in
                    var next = 1
                    while !stopProducing.value {
                        try await produce(client, stream: spec.stream, ids: next..<(next + 500))
                        next += 500
                        try await Task.sleep(for: .milliseconds(1))
                    }
                    return next - 1
                }
            }
            // "Under load": the worker is loading and a backlog waits behind it (on a busy machine the
            // producer can fall behind the worker, so wait for the backlog rather than assume it).
            try await eventually("the worker to be loading with a backlog") {
                let rows = try spec.rows()
                let length = try await withClient { try await $0.xlen(spec.stream) }
                return rows >= 2_000 && length >= rows + 1_000
            }
            let clock = ContinuousClock()
            let started = clock.now
            let r = stop(worker)
            let took = clock.now - started
            stopProducing.withLock { $0 = true }
            let produced = try await producer.value

            #expect(r.code == 0, "\(r.stderr.suffix(2_000))")
            #expect(took < .seconds(10), "drained in \(took)")
            let summary = try summaryObject(r.stdout)
            let read = summary["read"] as? Int ?? -1
            #expect(read > 0 && read < produced, "stopped under load (read \(read) of \(produced))")
            try await withClient { client in
                let p = try await pending(client, spec.stream)
                #expect(p.total == 0, "entries read but not acknowledged: \(p.byConsumer)")
            }
            #expect(try spec.rows() == read, "everything read was loaded before exiting")
        }

        @Test("Redis restarted under the worker: it reconnects, /readyz goes 503 then 200, nothing is lost")
        func redisRestartIsRiddenOut() async throws {
            let redis = PrivateRedis(port: try freePort(), dir: try CommandRunner.temporaryDirectory("runnel-redis"))
            try await redis.start()
            defer { redis.terminate() }
            let spec = try StreamSpec.make("restart") { $0.url = redis.url }
            let http = try freePort()
            let worker = try spec.start(consumer: "survivor", httpPort: http)
            defer { ensureStopped(worker) }

            try await withClient(url: redis.url) { client in
                try await produce(client, stream: spec.stream, ids: 1...500)
            }
            try await eventually("the first 500 loaded") { try spec.rows() == 500 }
            try await eventually("/readyz 200") { try httpGet(port: http, "/readyz").status == 200 }

            try await redis.kill()
            try await eventually("/readyz 503 while Redis is down") {
                let r = try httpGet(port: http, "/readyz")
                return r.status == 503 && r.body.contains("source unreachable")
            }
            #expect(try httpGet(port: http, "/livez").status == 200, "an outage is not a stuck loop")

            try await redis.start()
            try await withClient(url: redis.url) { client in
                try await produce(client, stream: spec.stream, ids: 501...1_000)
            }
            try await eventually("/readyz 200 again") { try httpGet(port: http, "/readyz").status == 200 }
            try await eventually("all 1,000 loaded") { try spec.rows() == 1_000 }
            try await withClient(url: redis.url) { client in
                try await eventually("nothing pending") { try await pending(client, spec.stream).total == 0 }
            }
            let r = stop(worker)
            #expect(r.code == 0, "\(r.stderr.suffix(2_000))")
            try await redis.kill()
        }

        @Test("/metrics parses, passes promtool where installed, and the counters match what was sent")
        func metricsMatchWhatWasSent() async throws {
            let spec = try StreamSpec.make("metrics") { $0.validateAmount = true }
            let http = try freePort()
            let worker = try spec.start(consumer: "counter", httpPort: http)
            defer { ensureStopped(worker) }
            try await withClient { client in
                try await produce(client, stream: spec.stream, ids: 1...100)
                for i in 101...105 {  // negative amounts: rejected by the validator
                    try await client.xadd(spec.stream, fields: [("payload", Array(#"{"order_id":\#(i),"amount":"-1"}"#.utf8))])
                }
                try await client.xadd(spec.stream, fields: [("payload", Array("not json".utf8))])
                try await eventually("everything committed") { try await pending(client, spec.stream).total == 0 && spec.rows() == 100 }
            }
            let p = "{pipeline=\"stream-test\"}"
            var samples: [String: Double] = [:]
            try await eventually("the backlog gauge to reach 0") {
                samples = metricSamples(try httpGet(port: http, "/metrics").body)
                // The backlog gauges are polled every 500 ms: wait for both to catch up.
                return samples["runnel_source_pending{pipeline=\"stream-test\",kind=\"pending\"}"] == 0
                    && samples["runnel_source_pending{pipeline=\"stream-test\",kind=\"lag\"}"] == 0
            }
            #expect(samples["runnel_records_read_total\(p)"] == 106)
            #expect(samples["runnel_records_loaded_total\(p)"] == 100)
            #expect(samples["runnel_records_rejected_total{pipeline=\"stream-test\",stage=\"validate\"}"] == 5)
            #expect(samples["runnel_records_rejected_total{pipeline=\"stream-test\",stage=\"extract\"}"] == 1)
            #expect(samples["runnel_dead_letters_total\(p)"] == 6)
            // By rejection code: a series per code (the malformed entry, the failed rules), adding up to the total.
            let byCode = samples.filter {
                $0.key.hasPrefix("runnel_dead_letters_by_code_total{") && $0.key.contains("pipeline=\"stream-test\"")
            }
            #expect(byCode.values.reduce(0, +) == 6 && byCode.count >= 2, "\(byCode)")
            #expect(samples["runnel_end_to_end_latency_seconds_count\(p)"] == 100)
            #expect(samples["runnel_batch_records_sum\(p)"] == 106)
            #expect((samples["runnel_batch_duration_seconds_count\(p)"] ?? 0) >= 1)
            #expect(samples["runnel_source_pending{pipeline=\"stream-test\",kind=\"lag\"}"] == 0)
            let lastCommit = samples["runnel_last_commit_timestamp_seconds\(p)"] ?? 0
            #expect(abs(lastCommit - Date().timeIntervalSince1970) < 120)
            #expect(try httpGet(port: http, "/livez").status == 200)
            #expect(try httpGet(port: http, "/readyz").status == 200)

            // scripts/test puts promtool on PATH; elsewhere the format check is skipped.
            let search = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/promtool" }
            if let promtool = search.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
                let page = try httpGet(port: http, "/metrics").body
                let file = spec.dir + "/metrics.txt"
                try page.write(toFile: file, atomically: true, encoding: .utf8)
                let check = try CommandRunner.run("/bin/sh", ["-c", "\(promtool) check metrics < \(file)"])
                #expect(check.exitCode == 0, "promtool: \(check.stdout) \(check.stderr)")
            }
            let r = stop(worker)
            #expect(r.code == 0)
            #expect(r.stderr.contains("\"consumer\":\"counter\""), "JSON logs carry the consumer")
        }

        func loadedTotal(port: Int) throws -> Double {
            metricSamples(try httpGet(port: port, "/metrics").body)["runnel_records_loaded_total{pipeline=\"stream-test\"}"] ?? 0
        }
    }

    /// Reads the dead letter stream the way a person with redis-cli would: the `envelope` field.
    enum RedisDeadLetterStreamReader {
        static func envelopes(_ client: RedisClient, stream: String) async throws -> [DeadLetter] {
            let reply = try await client.send(RedisCommand("XRANGE", [.string(stream), "-", "+"]))
            return try (reply.array ?? []).map { row in
                guard let parts = row.array, parts.count == 2, let flat = parts[1].array else {
                    throw TestFailure(description: "unexpected XRANGE row")
                }
                var fields: [String: String] = [:]
                for i in stride(from: 0, to: flat.count - 1, by: 2) { fields[flat[i].string ?? ""] = flat[i + 1].string }
                guard let text = fields["envelope"], let letter = DeadLetter(envelope: try JSONText.parse(text)) else {
                    throw TestFailure(description: "no envelope in \(fields)")
                }
                return letter
            }
        }
    }

    func sqliteRows(_ path: String, _ sql: String) throws -> [[String]] {
        try SQLiteDatabase(.init(path: path)).withConnection { try $0.query(sql) }.map { $0.map(\.text) }
    }
#endif
