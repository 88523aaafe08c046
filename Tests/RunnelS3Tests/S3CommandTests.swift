import Foundation
import RunnelCore
import RunnelSQLite
import RunnelTesting
import Testing

@testable import RunnelS3

/// `runnel-batch` against moto: what an operator sees.
struct S3CommandTests {
    static let batch = CommandRunner.binary("runnel-batch")

    /// A spec reading `in/` of `bucket` into SQLite, checkpoint and dead letters in the same file.
    static func spec(bucket: String, dir: String, maxRecords: Int = 500, extra: String = "") throws -> String {
        let path = dir + "/pipeline.yaml"
        try """
        pipeline: s3-orders
        extract:
          type: s3
          bucket: \(bucket)
          endpoint: ${S3_ENDPOINT}
          prefix: in/
          format: jsonl
          chunk_size: 64KiB
        \(extra)
        transform:
          - {type: cast, fields: {id: int}}
        load: {type: sqlite, path: out.db, table: orders, key: [id]}
        checkpoint: {type: sqlite}
        dead_letter: {type: sqlite}
        batching: {max_records: \(maxRecords)}
        retry: {max_attempts: 2, base_delay: 10ms, max_delay: 50ms}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `count` records, every 97th line broken, as JSON Lines.
    static func records(_ range: Range<Int>) -> [UInt8] {
        var out = ""
        for i in range {
            out += i % 97 == 13 ? "{\"id\": \(i), broken\n" : "{\"id\":\(i),\"name\":\"customer \(i)\",\"amount\":\(Double(i) / 4)}\n"
        }
        return Array(out.utf8)
    }

    static func dump(_ db: String, _ sql: String) throws -> [[String]] {
        try SQLiteDatabase(.init(path: db)).withConnection { try $0.query(sql) }.map { $0.map(\.text) }
    }

    @Test func sigkillAtRandomInstantsLosesAndDoublesNothing() async throws {
        let client = try await TestS3.freshBucket("crash")
        try await client.put("in/a.jsonl", body: Self.records(0..<6000), contentType: "x")
        try await client.put("in/b.jsonl.gz", body: try Gzip.compress(Self.records(6000..<12000)), contentType: "x")
        try await client.put("in/c.jsonl", body: Self.records(12000..<15000), contentType: "x")
        let bucket = client.configuration.bucket
        let env = TestS3.processEnvironment
        let table = "SELECT id, name, amount FROM orders ORDER BY id"
        let letters = "SELECT key, stage, error_code, attempts, raw FROM runnel_dead_letters ORDER BY key"

        let reference = try CommandRunner.temporaryDirectory("runnel-s3-ref")
        let refSpec = try Self.spec(bucket: bucket, dir: reference)
        let clock = ContinuousClock()
        let refStarted = clock.now
        let refRun = try CommandRunner.run(Self.batch, ["run", refSpec], environment: env)
        #expect(refRun.exitCode == 0, "\(refRun.stderr)")
        // Kills land inside a run of this machine's speed: a fixed delay outlasts a fast run.
        let runMicroseconds = max(50_000, Int((clock.now - refStarted).seconds * 1_000_000))
        let expectedTable = try Self.dump(reference + "/out.db", table)
        let expectedLetters = try Self.dump(reference + "/out.db", letters)
        #expect(expectedTable.count == 15000 - expectedLetters.count)
        #expect(expectedLetters.count == (0..<15000).filter { $0 % 97 == 13 }.count)

        let dir = try CommandRunner.temporaryDirectory("runnel-s3-crash")
        let spec = try Self.spec(bucket: bucket, dir: dir)
        var rng = SeededGenerator(seed: 7)
        var kills = 0
        var attempts = 0
        while kills < 6, attempts < 60 {
            attempts += 1
            let p = try CommandRunner.start(Self.batch, ["run", spec], environment: env)
            usleep(UInt32(runMicroseconds / 20 + Int(rng.next() % UInt64(runMicroseconds * 4 / 5))))
            p.kill(SIGKILL)
            let code = p.wait()
            if code == 0 {
                #expect(try CommandRunner.run(Self.batch, ["checkpoint", "reset", spec], environment: env).exitCode == 0)
                continue
            }
            #expect(code == 128 + SIGKILL)
            kills += 1
        }
        let last = try CommandRunner.run(Self.batch, ["run", spec], environment: env)
        #expect(last.exitCode == 0, "\(last.stderr)")
        #expect(kills >= 6, "the test must actually interrupt runs")
        #expect(try Self.dump(dir + "/out.db", table) == expectedTable)
        #expect(try Self.dump(dir + "/out.db", letters) == expectedLetters)
    }

    @Test func wrongSecretExitsTwoWithoutPrintingIt() async throws {
        let client = try await TestS3.freshBucket("badkey")
        try await client.put("in/a.jsonl", body: Self.records(0..<10), contentType: "x")
        let dir = try CommandRunner.temporaryDirectory("runnel-s3-badkey")
        let spec = try Self.spec(bucket: client.configuration.bucket, dir: dir)
        let secret = "wrong-secret-\(UInt32.random(in: 0..<UInt32.max))"
        var env = TestS3.processEnvironment
        env["AWS_SECRET_ACCESS_KEY"] = secret
        for level in ["info", "debug", "trace"] {
            let r = try CommandRunner.run(Self.batch, ["run", spec, "--log-level", level], environment: env)
            #expect(r.exitCode == 2)
            #expect((r.stdout + r.stderr).contains("SignatureDoesNotMatch"))
            #expect(!(r.stdout + r.stderr).contains(secret))
            #expect(!(r.stdout + r.stderr).contains(TestS3.secretKey))
        }
        let v = try CommandRunner.run(Self.batch, ["validate", spec], environment: env)
        #expect(!(v.stdout + v.stderr).contains(secret))
    }

    @Test func missingBucketExitsTwo() throws {
        let dir = try CommandRunner.temporaryDirectory("runnel-s3-nobucket")
        let spec = try Self.spec(bucket: "no-such-bucket-\(UInt32.random(in: 0..<UInt32.max))", dir: dir)
        let r = try CommandRunner.run(Self.batch, ["run", spec], environment: TestS3.processEnvironment)
        #expect(r.exitCode == 2)
        #expect((r.stdout + r.stderr).contains("does not exist"))
    }

    @Test func missingCredentialsAreASpecProblem() throws {
        let dir = try CommandRunner.temporaryDirectory("runnel-s3-nocreds")
        let spec = try Self.spec(bucket: "any", dir: dir)
        // The empty values hide any keys the test process itself may have.
        let r = try CommandRunner.run(
            Self.batch, ["validate", spec],
            environment: ["S3_ENDPOINT": TestS3.endpoint, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_WEB_IDENTITY_TOKEN_FILE": ""])
        #expect(r.exitCode == 2)
        #expect((r.stdout + r.stderr).contains("no S3 credentials"))
    }

    /// Peak RSS of one `runnel-batch run --dry-run` over a single object of `bytes` bytes.
    static func peakRSS(objectBytes: Int, client: S3Client, key: String) async throws -> Int {
        // Multipart, one generated part at a time: the test itself stays flat too.
        let id = try await client.createMultipartUpload("in/\(key)", contentType: "x")
        var etags: [String] = []
        var next = 0
        var written = 0
        while written < objectBytes {
            var part: [UInt8] = []
            while part.count < 8 << 20, written + part.count < objectBytes {
                part += Self.records(next..<(next + 1000))
                next += 1000
            }
            written += part.count
            etags.append(try await client.uploadPart("in/\(key)", uploadID: id, number: etags.count + 1, body: part))
        }
        try await client.completeMultipartUpload("in/\(key)", uploadID: id, parts: etags)

        let dir = try CommandRunner.temporaryDirectory("runnel-s3-rss")
        // A 16 MiB window: the key memory (2 MiB) fills in both runs, so what is left to grow is the reader's.
        let spec = try Self.spec(bucket: client.configuration.bucket, dir: dir, maxRecords: 5000, extra: "memory: {max_bytes: 16MiB}")
        // Python's getrusage over its one child gives that child's peak RSS in KiB.
        let wrapper = "import resource,subprocess,sys; r=subprocess.run(sys.argv[1:]); "
            + "open('\(dir)/rss', 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); sys.exit(r.returncode)"
        let r = try CommandRunner.run("/usr/bin/env", ["python3", "-c", wrapper, Self.batch, "run", spec, "--dry-run"], environment: TestS3.processEnvironment)
        #expect(r.exitCode == 0, "\(r.stderr)")
        try await client.delete("in/\(key)")
        return Int(try String(contentsOfFile: dir + "/rss", encoding: .utf8)) ?? 0
    }

    @Test func memoryStaysFlatInObjectSize() async throws {
        let client = try await TestS3.freshBucket("rss")
        let small = try await Self.peakRSS(objectBytes: 8 << 20, client: client, key: "small.jsonl")
        let large = try await Self.peakRSS(objectBytes: 72 << 20, client: client, key: "large.jsonl")
        // Nine times the input; the peak grows by less than a sixteenth of the difference (64 MiB).
        #expect(large - small < 4 << 10, "peak RSS \(small) KiB for 8 MiB, \(large) KiB for 72 MiB")
    }
}

/// S3 → S3 part objects under SIGKILL: the same parts with the same bytes as an uninterrupted run,
/// and no multipart upload left open.
struct S3PartCrashTests {
    static func spec(source: String, target: String, dir: String, format: String = "jsonl") throws -> String {
        let path = dir + "/pipeline.yaml"
        let encoding = format == "jsonl" ? "gzip: true" : "compression: zstd, row_group_size: 300"
        try """
        pipeline: s3-parts
        extract: {type: s3, bucket: \(source), endpoint: "${S3_ENDPOINT}", prefix: in/, format: jsonl, chunk_size: 64KiB}
        load: {type: s3, bucket: \(target), endpoint: "${S3_ENDPOINT}", prefix: out/, format: \(format), \(encoding), part_size: 5MiB, abandoned_upload_age: 0s}
        checkpoint: {type: file, path: state}
        dead_letter: {type: jsonl, path: state}
        batching: {max_records: 700}
        retry: {max_attempts: 2, base_delay: 10ms, max_delay: 50ms}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func contents(_ client: S3Client) async throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for o in try await client.list(prefix: "out/") { out[o.key] = try await client.getSmall(o.key) }
        return out
    }

    /// JSON Lines (gzip) and Parquet parts alike: a replayed batch rewrites the same object with
    /// the same bytes, so the rows read back equal an uninterrupted run's.
    @Test(arguments: ["jsonl", "parquet"])
    func sigkillLeavesTheSamePartsAsAnUninterruptedRun(_ format: String) async throws {
        let source = try await TestS3.freshBucket("pcrash-src")
        try await source.put("in/a.jsonl", body: S3CommandTests.records(0..<8000), contentType: "x")
        try await source.put("in/b.jsonl.gz", body: try Gzip.compress(S3CommandTests.records(8000..<14000)), contentType: "x")
        let reference = try await TestS3.freshBucket("pcrash-ref")
        let crashed = try await TestS3.freshBucket("pcrash-dst")
        let env = TestS3.processEnvironment

        let refDir = try CommandRunner.temporaryDirectory("runnel-s3-pref")
        let ref = try CommandRunner.run(
            S3CommandTests.batch,
            ["run", try Self.spec(source: source.configuration.bucket, target: reference.configuration.bucket, dir: refDir, format: format)],
            environment: env)
        #expect(ref.exitCode == 0, "\(ref.stderr)")
        let expected = try await Self.contents(reference)
        #expect(expected.count == 21)  // 12 batches of a.jsonl, 9 of b.jsonl.gz

        let dir = try CommandRunner.temporaryDirectory("runnel-s3-pcrash")
        let spec = try Self.spec(source: source.configuration.bucket, target: crashed.configuration.bucket, dir: dir, format: format)
        var rng = SeededGenerator(seed: 3)
        var kills = 0
        var attempts = 0
        while kills < 5, attempts < 40 {
            attempts += 1
            let p = try CommandRunner.start(S3CommandTests.batch, ["run", spec], environment: env)
            usleep(UInt32(200_000 + rng.next() % 1_500_000))
            p.kill(SIGKILL)
            if p.wait() == 0 {
                #expect(try CommandRunner.run(S3CommandTests.batch, ["checkpoint", "reset", spec], environment: env).exitCode == 0)
                continue
            }
            kills += 1
        }
        let last = try CommandRunner.run(S3CommandTests.batch, ["run", spec], environment: env)
        #expect(last.exitCode == 0, "\(last.stderr)")
        #expect(kills >= 5, "the test must actually interrupt runs")
        #expect(try await Self.contents(crashed) == expected)
        #expect(try await crashed.listMultipartUploads(prefix: "").isEmpty)
    }
}
