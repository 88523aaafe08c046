#if Redis
import Foundation
import Logging
import Testing

@testable import RedisClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server scripts/test starts (scripts/services/redis.sh), or a local one on 6390.
let testRedisURL = ProcessInfo.processInfo.environment["RUNNEL_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6390"

/// Tests log nothing unless RUNNEL_TEST_LOG is set.
let testLogger: Logger = {
    if ProcessInfo.processInfo.environment["RUNNEL_TEST_LOG"] != nil {
        var logger = Logger(label: "redis-client-tests")
        logger.logLevel = .debug
        return logger
    }
    return Logger(label: "redis-client-tests", factory: { _ in SwiftLogNoOpLogHandler() })
}()

func testConfiguration(preferRESP3: Bool = true) throws -> RedisConfiguration {
    var configuration = try RedisConfiguration(url: testRedisURL)
    configuration.options.preferRESP3 = preferRESP3
    configuration.connectTimeout = .seconds(5)
    configuration.commandTimeout = .seconds(20)
    return configuration
}

/// A key no other test (or earlier run) uses, so suites can run in parallel against one server.
func uniqueKey(_ name: String) -> String {
    "runnel-test:\(name):\(UUID().uuidString)"
}

@discardableResult
func withTestConnection<Result>(
    preferRESP3: Bool = true,
    _ body: (RedisConnection) async throws -> Result
) async throws -> Result {
    try await RedisConnection.withConnection(
        configuration: testConfiguration(preferRESP3: preferRESP3),
        logger: testLogger,
        body
    )
}

struct TestSupportError: Error, CustomStringConvertible {
    var description: String
}

/// Polls `condition` until it holds, failing after `timeout`. Waits on an outcome rather than
/// sleeping for a guessed time; the short pause between polls only keeps it from spinning.
func eventually(
    _ what: String,
    timeout: Duration = .seconds(15),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TestSupportError(description: "timed out after \(timeout) waiting for \(what)")
}

/// Expects `body` to throw a `RedisError` and returns it.
func expectRedisError(
    _ body: () async throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
) async -> RedisError? {
    do {
        try await body()
        Issue.record("expected a RedisError, nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as RedisError {
        return error
    } catch {
        Issue.record("expected a RedisError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

// MARK: - Sockets

/// A loopback port that was free a moment ago (bound to port 0, then released).
func freeLoopbackPort() throws -> Int {
    let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socketFD >= 0 else { throw TestSupportError(description: "socket() failed") }
    defer { close(socketFD) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(socketFD, pointer, length) == 0 && getsockname(socketFD, pointer, &length) == 0
        }
    }
    guard bound else { throw TestSupportError(description: "bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A one-connection TCP server that answers the client's first write with `firstReply` and
/// its second with `secondReply`: it stands in for a peer that is not Redis (a wrong port, a
/// proxy speaking HTTP), which a real Redis server cannot be made to imitate.
final class ScriptedServer: Sendable {
    let port: Int
    private let listenFD: Int32

    init(firstReply: [UInt8], secondReply: [UInt8]) throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ready = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socketFD, pointer, length) == 0 && getsockname(socketFD, pointer, &length) == 0
                    && listen(socketFD, 1) == 0
            }
        }
        guard socketFD >= 0, ready else { throw TestSupportError(description: "could not listen") }
        self.listenFD = socketFD
        self.port = Int(UInt16(bigEndian: address.sin_port))

        let thread = Thread {
            let connection = accept(socketFD, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var scratch = [UInt8](repeating: 0, count: 4096)
            for reply in [firstReply, secondReply] {
                guard read(connection, &scratch, scratch.count) > 0 else { return }
                _ = reply.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
            }
            // Hold the connection until the client closes it.
            while read(connection, &scratch, scratch.count) > 0 {}
        }
        thread.start()
    }

    func stop() {
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }
}

// MARK: - Subprocesses

func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/\(name)" }.first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}

/// A redis-server of the test's own, for tests that kill and restart it.
final class RedisServerProcess: Sendable {
    let port: Int
    private let process: Process

    static var executable: String? {
        if let path = ProcessInfo.processInfo.environment["RUNNEL_TEST_REDIS_SERVER"] { return path }
        return findExecutable("redis-server")
    }

    /// Starts the server and waits until it accepts connections.
    /// - Parameters:
    ///   - arguments: Extra redis-server options (TLS files, …).
    ///   - readiness: How to reach it to check it is up; plain TCP on `port` by default.
    init(port: Int, arguments: [String] = [], readiness: RedisConfiguration? = nil) async throws {
        guard let executable = Self.executable else {
            throw TestSupportError(
                description: "redis-server not found on PATH (scripts/services/redis.sh installs it)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments =
            [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--logfile", "",
            ] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        self.port = port

        var configuration = readiness ?? RedisConfiguration(host: "127.0.0.1", port: port)
        configuration.connectTimeout = .seconds(1)
        try await eventually("redis-server on port \(port) to accept connections") {
            try await RedisConnection.withConnection(configuration: configuration, logger: testLogger) { connection in
                try await connection.send(["PING"]) == .simpleString("PONG")
            }
        }
    }

    /// A test that fails half way must not leave the server running.
    deinit {
        if process.isRunning { process.terminate() }
    }

    /// SIGKILL, as a crash or an OOM kill would, then waits for the process to be gone.
    func kill() async throws {
        #if canImport(Glibc)
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        #else
        _ = Darwin.kill(process.processIdentifier, SIGKILL)
        #endif
        try await eventually("redis-server to exit") { !self.process.isRunning }
    }
}

#endif
