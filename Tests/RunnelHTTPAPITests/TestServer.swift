import Foundation
import RunnelCore
import RunnelHTTPAPI
import Synchronization

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Test servers take ports from RUNNEL_TEST_HTTP_PORT (default 18080) upwards, one per server,
/// so that concurrent tests (and other engineers' runs with other bases) do not collide.
let nextPort = Atomic<Int>(Int(ProcessInfo.processInfo.environment["RUNNEL_TEST_HTTP_PORT"] ?? "") ?? 18080)

/// `scripts/services/http_api_server.py` running on loopback for one test.
final class TestServer: @unchecked Sendable {
    // @unchecked: the Process is only started and terminated; the port never changes.
    let process: Process
    let port: Int

    init(_ arguments: [String] = []) throws {
        var lastError = "no attempt"
        for _ in 0..<20 {
            let port = nextPort.add(1, ordering: .relaxed).oldValue
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments =
                ["python3", repositoryRoot + "/scripts/services/http_api_server.py", "--port", String(port)] + arguments
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            // The server prints one line once it listens, or dies (port taken).
            let line = out.fileHandleForReading.readLine()
            if line.hasPrefix("listening on") {
                self.process = p
                self.port = port
                return
            }
            lastError = line
            p.waitUntilExit()
        }
        throw CocoaError(
            .fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "test server did not start: \(lastError)"])
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// SIGKILL: a test process may ignore SIGTERM (the runtime's signal handling), and a child
    /// inherits ignored signals.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// GET a control endpoint (`/_log`, `/_received`) as parsed JSON.
    func control(_ path: String) throws -> Value {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-sf", base + path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return try JSONText.parse([UInt8](data))
    }

    /// POST a control request (`/_update`), through curl to keep the test off the code under test.
    func post(_ path: String, _ json: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-sf", "-X", "POST", "--data", json, base + path]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw CocoaError(.fileWriteUnknown) }
    }
}

extension FileHandle {
    /// One line of output (without the newline); empty at end of file.
    func readLine() -> String {
        var bytes: [UInt8] = []
        while true {
            let d = readData(ofLength: 1)
            guard let b = d.first else { break }
            if b == 0x0A { break }
            bytes.append(b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Runs `body` with a client that is shut down afterwards, whatever happens.
func withClient<R>(_ body: (HTTPAPIClient) async throws -> R) async throws -> R {
    let client = try HTTPAPIClient(connectTimeout: .seconds(2))
    do {
        let r = try await body(client)
        try await client.shutdown()
        return r
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// Every batch of a read: the ids of its records, its rejections, its checkpoint.
struct PagesRead {
    var ids: [Int64] = []
    var batches: [ReadBatch] = []
    var rejections: [(code: String, raw: String?, message: String)] = []
}

func readAll(_ extractor: HTTPAPIExtractor, checkpoint: Checkpoint? = nil, window: Window? = nil, limit: Int? = nil)
    async throws
    -> PagesRead
{
    let reader = try await extractor.open(ExtractRequest(checkpoint: checkpoint, window: window, limit: limit))
    var result = PagesRead()
    while let (b, commit) = try await reader.nextBatch() {
        result.batches.append(ReadBatch(batch: b, checkpoint: commit.checkpoint))
        let idIndex = b.schema.index(of: "id")
        for r in b.records {
            if let idIndex, case .int(let id) = r.values[idIndex] { result.ids.append(id) }
        }
        for r in b.rejections {
            result.rejections.append((r.error.code, b.sources[r.ordinal].raw, r.error.message))
        }
    }
    await reader.close()
    return result
}

/// A batch with the checkpoint its reader returned beside it.
struct ReadBatch {
    var batch: Batch
    var checkpoint: Checkpoint?
    var records: [Record] { batch.records }
}

/// The records' ids as the server sorts them: 1...n.
func ids(_ n: Int) -> [Int64] { Array(1...Int64(n)) }
