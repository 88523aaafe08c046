import Foundation
import RunnelCore
import Testing

@testable import RunnelS3

/// The client against moto with signatures and IAM policies enforced: every request that
/// succeeds here was signed correctly.
struct S3ClientTests {
    @Test func listsPastOneThousandKeysInKeyOrder() async throws {
        let client = try await TestS3.freshBucket("list")
        let keys = (0..<1_500).map { String(format: "logs/%05d.jsonl", $0) } + ["other/x.jsonl", "logs/with space+plus.jsonl"]
        try await TestS3.putMany(client, keys: keys) { Array("{\"k\":\"\($0)\"}\n".utf8) }
        let listed = try await client.list(prefix: "logs/", pageSize: 1000)
        let expected = keys.filter { $0.hasPrefix("logs/") }.sorted()
        #expect(listed.map(\.key) == expected)
        #expect(listed.allSatisfy { $0.size > 0 && !$0.etag.isEmpty && $0.lastModified != nil })
        // Small pages follow many continuation tokens to the same result.
        let paged = try await client.list(prefix: "logs/", pageSize: 97)
        #expect(paged.map(\.key) == expected)
        // start-after skips every key up to and including it.
        let after = try await client.list(prefix: "logs/", startAfter: "logs/01234.jsonl")
        #expect(after.first?.key == "logs/01235.jsonl")
        #expect(after.count == expected.count - 1235)
    }

    @Test func rangedReadsAndHead() async throws {
        let client = try await TestS3.freshBucket("range")
        let body = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await client.put("dir/a b.bin", body: body, contentType: "application/octet-stream")
        let head = try #require(try await client.head("dir/a b.bin"))
        #expect(head.size == 100_000)
        let r = try await client.getRange("dir/a b.bin", from: 1000, count: 5000, etag: head.etag)
        #expect(r.body == Array(body[1000..<6000]))
        #expect(try await client.head("missing") == nil)
    }

    @Test func aReplacedObjectIsNotReadAsAMixOfVersions() async throws {
        let client = try await TestS3.freshBucket("etag")
        try await client.put("k", body: Array(repeating: 1, count: 100), contentType: "x")
        let old = try #require(try await client.head("k"))
        try await client.put("k", body: Array(repeating: 2, count: 100), contentType: "x")
        await #expect(throws: RunnelError.self) { try await client.getRange("k", from: 0, count: 10, etag: old.etag) }
    }

    @Test func multipartUploadAndAbort() async throws {
        let client = try await TestS3.freshBucket("multipart")
        let part = Array(repeating: UInt8(ascii: "a"), count: 5 << 20)
        let id = try await client.createMultipartUpload("big", contentType: "x")
        let e1 = try await client.uploadPart("big", uploadID: id, number: 1, body: part)
        let e2 = try await client.uploadPart("big", uploadID: id, number: 2, body: Array("tail".utf8))
        try await client.completeMultipartUpload("big", uploadID: id, parts: [e1, e2])
        #expect(try await client.head("big")?.size == Int64(part.count + 4))

        let open = try await client.createMultipartUpload("left-open", contentType: "x")
        #expect(try await client.listMultipartUploads(prefix: "").map(\.uploadID) == [open])
        try await client.abortMultipartUpload("left-open", uploadID: open)
        #expect(try await client.listMultipartUploads(prefix: "").isEmpty)
    }

    @Test func wrongSecretIsAConfigErrorThatPrintsNoSecret() async throws {
        let good = try await TestS3.freshBucket("creds")
        let wrongSecret = "not-the-secret-\(UInt32.random(in: 0..<UInt32.max))"
        let bad = try TestS3.client(
            good.configuration.bucket,
            credentials: S3Credentials(.fixed(SigV4.Credentials(accessKeyID: TestS3.accessKey, secretAccessKey: wrongSecret))))
        let error = await #expect(throws: RunnelError.self) { _ = try await bad.list(prefix: "") }
        #expect(error?.code == .config)
        #expect(error?.message.contains("SignatureDoesNotMatch") == true)
        #expect(error?.message.contains(wrongSecret) == false)
        #expect(error?.message.contains(TestS3.secretKey) == false)
    }

    @Test func unknownAccessKeyIsAConfigError() async throws {
        let good = try await TestS3.freshBucket("keyid")
        let bad = try TestS3.client(
            good.configuration.bucket,
            credentials: S3Credentials(.fixed(SigV4.Credentials(accessKeyID: "AKIANOSUCHKEY0000000", secretAccessKey: "x"))))
        let error = await #expect(throws: RunnelError.self) { _ = try await bad.list(prefix: "") }
        #expect(error?.code == .config)
        #expect(error?.message.contains("InvalidAccessKeyId") == true)
    }

    @Test func missingBucketIsAConfigError() async throws {
        let client = try TestS3.client("no-such-bucket-\(UInt32.random(in: 0..<UInt32.max))")
        let error = await #expect(throws: RunnelError.self) { _ = try await client.list(prefix: "") }
        #expect(error?.code == .config)
        #expect(error?.message.contains("does not exist") == true)
    }

    @Test func unreachableEndpointIsTransient() async throws {
        var c = S3Client.Configuration(bucket: "b")
        // A port nothing listens on (the discard port on loopback).
        c.endpoint = "http://127.0.0.1:9"
        c.retry = .none
        let client = try S3Client(c, credentials: TestS3.credentials)
        let error = await #expect(throws: RunnelError.self) { _ = try await client.list(prefix: "") }
        #expect(error?.code == .transient)
    }

    @Test func webIdentityCredentialsComeFromSTS() async throws {
        let bucket = try await TestS3.freshBucket("irsa")
        try await bucket.put("k", body: Array("hello".utf8), contentType: "text/plain")
        let tokenFile = NSTemporaryDirectory() + "runnel-token-\(UInt32.random(in: 0..<UInt32.max))"
        try "eyJhbGciOiJSUzI1NiJ9.test-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        let provider = try #require(
            S3Credentials.fromEnvironment(
                [
                    "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": TestS3.roleARN,
                    "AWS_ENDPOINT_URL_STS": TestS3.endpoint,
                ], region: "us-east-1"))
        let creds = try await provider.current()
        #expect(creds.sessionToken != nil)
        #expect(creds.accessKeyID != TestS3.accessKey)
        // moto checks the temporary key, its session token and the role's policy.
        let client = try TestS3.client(bucket.configuration.bucket, credentials: provider)
        #expect(try await client.getSmall("k") == Array("hello".utf8))

        // A role without S3 permissions gets its keys, and then access denied: a config error.
        let nothing = try #require(
            S3Credentials.fromEnvironment(
                [
                    "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": TestS3.roleARN.replacingOccurrences(of: "runnel-pod", with: "runnel-nothing"),
                    "AWS_ENDPOINT_URL_STS": TestS3.endpoint,
                ], region: "us-east-1"))
        let denied = try TestS3.client(bucket.configuration.bucket, credentials: nothing)
        let error = await #expect(throws: RunnelError.self) { _ = try await denied.getSmall("k") }
        #expect(error?.code == .config)
        #expect(error?.message.contains("runnel-nothing") == true)
    }

    @Test func virtualHostStyleAddressesTheBucketInTheHostName() throws {
        var c = S3Client.Configuration(bucket: "lake")
        c.region = "eu-west-1"
        let aws = try S3Client(c, credentials: TestS3.credentials)
        #expect(aws.description == "s3://lake (eu-west-1)")
        c.endpoint = "https://minio.internal:9000"
        #expect(try S3Client(c, credentials: TestS3.credentials).description == "s3://lake at https://minio.internal:9000")
        #expect(S3Client.parseEndpoint("https://r2.example.com:443/")?.host == "r2.example.com")
        #expect(S3Client.parseEndpoint("ftp://x") == nil)
        #expect(S3Client.parseEndpoint("http://host/path") == nil)
    }
}
