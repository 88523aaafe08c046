#if Redis
    import Foundation
    import Logging
    import RedisClient
    import RunnelCore
    import RunnelSQLite
    import RunnelTesting

    #if canImport(Glibc)
        import Glibc
    #endif

    /// The server scripts/test starts (scripts/services/redis.sh), or a local one on 6390.
    let testRedisURL = ProcessInfo.processInfo.environment["RUNNEL_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6390"
    let streamBinary = CommandRunner.binary("runnel-stream")
    let quietLogger = Logger(label: "runnel-redis-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    struct TestFailure: Error, CustomStringConvertible { var description: String }

    func testConfiguration(url: String = testRedisURL) throws -> RedisConfiguration {
        var c = try RedisConfiguration(url: url)
        c.connectTimeout = .seconds(1)
        c.reconnect = .exponentialJitter(base: .milliseconds(20), cap: .milliseconds(200))
        return c
    }

    /// Lends a client of the test's own to `body`.
    func withClient<R>(url: String = testRedisURL, _ body: (RedisClient) async throws -> R) async throws -> R {
        try await RedisClient.withClient(configuration: testConfiguration(url: url), logger: quietLogger, body)
    }

    /// Polls `condition` until it holds, failing after `timeout`: waits on an outcome, not a guess.
    func eventually(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        var lastError: (any Error)?
        while ContinuousClock.now < deadline {
            do { if try await condition() { return } } catch { lastError = error }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure(description: "timed out after \(timeout) waiting for \(what)" + (lastError.map { " (last error: \($0))" } ?? ""))
    }

    /// A unique stream name, so tests never see each other's entries.
    func uniqueStream(_ name: String) -> String { "runnel-test-\(name)-\(UUID().uuidString.prefix(8))" }

    /// `{"order_id": i, "customer": "c<i>", "amount": "<i>.5"}` entries for ids `range`.
    func produce(_ client: RedisClient, stream: String, ids: some Sequence<Int>) async throws {
        var batch: [[(String, [UInt8])]] = []
        for i in ids {
            batch.append([("payload", Array(#"{"order_id":\#(i),"customer":"c\#(i)","amount":"\#(i).5"}"#.utf8))])
            if batch.count == 200 {
                _ = try await client.xaddPipelined(stream, entries: batch)
                batch.removeAll()
            }
        }
        if !batch.isEmpty { _ = try await client.xaddPipelined(stream, entries: batch) }
    }

    /// A streaming spec: the stream into SQLite (upsert by order_id) or JSON Lines part files,
    /// dead letters on `<stream>-dlq`.
    struct StreamSpec {
        var dir: String
        var stream: String
        var group = "workers"
        var url = testRedisURL
        var maxRecords = 50
        var linger = "10ms"
        var minIdle = "30s"
        var claimInterval = "200ms"
        var maxDeliveries = 5
        var jsonl = false
        var validateAmount = false

        var specPath: String { dir + "/pipeline.yaml" }
        var dbPath: String { dir + "/out/target.db" }
        var partsDir: String { dir + "/out/parts" }
        var deadLetterStream: String { stream + "-dlq" }

        func write() throws {
            let load =
                jsonl
                ? "load: {type: jsonl, path: out/parts}"
                : """
                load:
                  type: sqlite
                  path: out/target.db
                  table: orders
                  key: [order_id]
                  columns: {order_id: integer, customer: text, amount: real, entry_id: text}
                """
            let rules =
                validateAmount
                ? "  rules:\n    - {field: amount, required: true, type: double, min: 0}\n" : "  rules:\n    - {field: order_id, required: true}\n"
            let yaml = """
                pipeline: stream-test
                extract:
                  type: redis_stream
                  url: \(url)
                  stream: \(stream)
                  group: \(group)
                  id_field: entry_id
                  min_idle: \(minIdle)
                  claim_interval: \(claimInterval)
                  max_deliveries: \(maxDeliveries)
                transform:
                  - {type: cast, fields: {order_id: int, amount: double}}
                validate:
                  on_invalid: dead_letter
                \(rules)\(load)
                dead_letter: {type: redis_stream, url: \(url), stream: \(deadLetterStream)}
                batching: {max_records: \(maxRecords), max_linger: \(linger)}
                stream: {drain_timeout: 20s, stall_timeout: 60s}

                """
            try yaml.write(toFile: specPath, atomically: true, encoding: .utf8)
        }

        static func make(_ name: String, configure: (inout StreamSpec) -> Void = { _ in }) throws -> StreamSpec {
            var s = StreamSpec(dir: try CommandRunner.temporaryDirectory("runnel-stream"), stream: uniqueStream(name))
            configure(&s)
            try s.write()
            return s
        }

        /// Starts `runnel-stream run` as `consumer`, with the endpoints on `httpPort` when given.
        func start(consumer: String, httpPort: Int? = nil, extra: [String] = []) throws -> CommandRunner.Running {
            var args = ["run", specPath, "--json-logs", "--summary-json"] + extra
            if let httpPort { args += ["--http-port", "\(httpPort)"] }
            return try CommandRunner.start(streamBinary, args, environment: ["HOSTNAME": consumer])
        }

        /// Distinct keys in the SQLite target.
        func rows() throws -> Int {
            guard FileManager.default.fileExists(atPath: dbPath) else { return 0 }
            let db = SQLiteDatabase(.init(path: dbPath))
            let r = try db.withConnection { try $0.query("SELECT count(DISTINCT order_id), count(*) FROM orders") }
            return Int(r.first?.first?.text ?? "0") ?? 0
        }

        /// Every line of every part file (JSON Lines target), as order ids.
        func partLines() throws -> [Int] {
            let fm = FileManager.default
            guard fm.fileExists(atPath: partsDir) else { return [] }
            var ids: [Int] = []
            for name in try fm.contentsOfDirectory(atPath: partsDir) where name.hasSuffix(".jsonl") {
                let text = try String(contentsOfFile: partsDir + "/" + name, encoding: .utf8)
                for line in text.split(separator: "\n") {
                    guard case .object(let o) = try JSONText.parse(String(line)), case .int(let id)? = o["order_id"] else {
                        throw TestFailure(description: "unexpected line \(line)")
                    }
                    ids.append(Int(id))
                }
            }
            return ids
        }
    }

    /// Stops a worker with `signal` and returns its exit code, stdout and stderr.
    func stop(_ p: CommandRunner.Running, signal: Int32 = SIGTERM) -> (code: Int32, stdout: String, stderr: String) {
        p.kill(signal)
        // Read the pipes before waiting: a full pipe would block the worker's exit.
        let out = p.stdoutPipe.fileHandleForReading.readDataToEndOfFile()
        let err = p.stderrPipe.fileHandleForReading.readDataToEndOfFile()
        let code = p.wait()
        return (code, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// Kills a worker a failed test left running (a thrown wait skips `stop`).
    func ensureStopped(_ p: CommandRunner.Running) {
        guard p.process.isRunning else { return }
        p.kill(SIGKILL)
        _ = p.wait()
    }

    /// The pending count of the group, and per consumer.
    func pending(_ client: RedisClient, _ stream: String, group: String = "workers") async throws -> (total: Int, byConsumer: [String: Int]) {
        let s = try await client.xpendingSummary(stream, group: group)
        return (s.count, Dictionary(s.consumers.map { ($0.name, $0.count) }, uniquingKeysWith: +))
    }

    /// The final `--summary-json` line.
    func summaryObject(_ stdout: String) throws -> [String: Any] {
        let line = stdout.split(separator: "\n").last.map(String.init) ?? ""
        guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw TestFailure(description: "no JSON summary in: \(stdout)")
        }
        return o
    }

    // MARK: - HTTP

    /// `GET path` on 127.0.0.1:port: (status, body). Plain sockets, one request per connection.
    func httpGet(port: Int, _ path: String) throws -> (status: Int, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure(description: "socket() failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw TestFailure(description: "connect to port \(port) failed") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let statusLine = text.split(separator: "\r\n").first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "")
        else { throw TestFailure(description: "no HTTP response from port \(port)") }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }

    /// Sample values from a Prometheus text page: `name{labels}` → value.
    func metricSamples(_ page: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in page.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = v
        }
        return out
    }

    /// A loopback port that was free a moment ago.
    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw TestFailure(description: "bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A redis-server of the test's own (for the restart test), with an append-only file that is
    /// fsynced on every write, so a SIGKILL loses nothing that was acknowledged.
    final class PrivateRedis: Sendable {
        let port: Int
        let dir: String
        private let process: Locked<Process?>

        init(port: Int, dir: String) {
            self.port = port
            self.dir = dir
            self.process = Locked(nil)
        }

        var url: String { "redis://127.0.0.1:\(port)" }

        func start() async throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [
                "redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
                "--appendfsync", "always", "--dir", dir, "--daemonize", "no", "--logfile", "",
            ]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            process.withLock { $0 = p }
            try await withClient(url: url) { client in
                try await eventually("redis-server on \(port) to answer") { try await client.send(["PING"]).string == "PONG" }
            }
        }

        func kill() async throws {
            guard let p = process.value else { return }
            _ = Glibc.kill(p.processIdentifier, SIGKILL)
            try await eventually("redis-server to exit") { !p.isRunning }
        }

        /// Stops the server at once (cleanup when a test fails half way).
        func terminate() {
            if let p = process.value, p.isRunning { p.terminate() }
        }

        deinit { terminate() }
    }
#endif
