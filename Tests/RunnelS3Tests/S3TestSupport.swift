import Foundation
import RunnelCore
import RunnelS3
import Testing

/// The moto server scripts/test starts (scripts/services/s3.sh), with signatures enforced.
enum TestS3 {
    static var env: [String: String] { ProcessInfo.processInfo.environment }

    static var endpoint: String { env["RUNNEL_TEST_S3_ENDPOINT"] ?? "http://127.0.0.1:15000" }
    static var accessKey: String { env["RUNNEL_TEST_S3_ACCESS_KEY"] ?? "" }
    static var secretKey: String { env["RUNNEL_TEST_S3_SECRET_KEY"] ?? "" }
    static var roleARN: String { env["RUNNEL_TEST_S3_ROLE_ARN"] ?? "" }

    static var credentials: S3Credentials {
        S3Credentials(.fixed(SigV4.Credentials(accessKeyID: accessKey, secretAccessKey: secretKey)))
    }

    /// A client of a new, empty bucket named for the test.
    static func freshBucket(_ name: String) async throws -> S3Client {
        try #require(!accessKey.isEmpty, "RUNNEL_TEST_S3_ACCESS_KEY is not set: run the tests through scripts/test (it starts moto)")
        let bucket = "\(name)-\(UInt32.random(in: 0..<UInt32.max))"
        let c = try client(bucket)
        try await c.createBucket()
        return c
    }

    static func client(_ bucket: String, credentials: S3Credentials = credentials) throws -> S3Client {
        var c = S3Client.Configuration(bucket: bucket)
        c.endpoint = endpoint
        // Fast retries: a test that meets a refused credential should not wait seconds for it.
        c.retry = .exponentialJitter(maxAttempts: 3, baseDelay: .milliseconds(20), maxDelay: .milliseconds(200))
        return try S3Client(c, credentials: credentials)
    }

    /// Environment for a spawned `runnel-batch` that reads this server.
    static var processEnvironment: [String: String] {
        ["AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey, "S3_ENDPOINT": endpoint]
    }

    /// Uploads `count` objects concurrently, `parallel` at a time.
    static func putMany(_ client: S3Client, keys: [String], body: @escaping @Sendable (String) -> [UInt8], parallel: Int = 16) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                let key = keys[next]
                next += 1
                group.addTask { try await client.put(key, body: body(key), contentType: "application/octet-stream") }
            }
            while next < min(parallel, keys.count) { add() }
            while try await group.next() != nil {
                if next < keys.count { add() }
            }
        }
    }
}
