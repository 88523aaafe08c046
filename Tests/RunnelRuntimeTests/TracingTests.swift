#if Tracing
    import Foundation
    import RunnelTesting
    import Testing

    /// scripts/services/otlp_receiver.py on a loopback port, writing what it decoded to a file.
    final class OTLPReceiver: @unchecked Sendable {
        // @unchecked: the Process is only started and killed; the other fields never change.
        let process: Process
        let port: Int
        let output: String

        init() throws {
            output = try CommandRunner.temporaryDirectory("runnel-otlp") + "/spans.jsonl"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", repositoryRoot + "/scripts/services/otlp_receiver.py", "--port", "0", "--out", output]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            // One line once it listens; or why it cannot (the opentelemetry-proto module missing).
            let line = String(decoding: out.fileHandleForReading.availableLine(), as: UTF8.self)
            guard line.hasPrefix("listening on "), let port = Int(line.dropFirst("listening on ".count)) else {
                p.waitUntilExit()
                throw TracingTestFailure(
                    description: "the OTLP receiver did not start: \(line) — scripts/test installs opentelemetry-proto "
                        + "(python3 -m pip install opentelemetry-proto)")
            }
            self.process = p
            self.port = port
        }

        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        /// The decoded spans, after failing on any payload the receiver could not decode.
        func spans() throws -> [[String: Any]] {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            let lines = try text.split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
            }
            if let bad = lines.first(where: { $0["error"] != nil }) {
                throw TracingTestFailure(description: "the receiver refused a payload: \(bad["error"] ?? "")")
            }
            return lines
        }
    }

    struct TracingTestFailure: Error, CustomStringConvertible { var description: String }

    extension FileHandle {
        /// Bytes up to the first newline (or the end of the stream).
        func availableLine() -> [UInt8] {
            var line: [UInt8] = []
            while true {
                let d = readData(ofLength: 1)
                if d.isEmpty || d.first == 0x0A { return line }
                line.append(d[d.startIndex])
            }
        }
    }

    @Suite struct TracingTests {
        @Test("a batch run sends one trace per batch: a batch span with its counts, children for each step")
        func spanTreeOfARun() async throws {
            let receiver = try OTLPReceiver()
            defer { receiver.stop() }
            let dir = try quickstartCopy(maxRecords: 5000)
            let run = try CommandRunner.run(
                batchBinary, ["run", dir + "/pipeline.yaml", "--summary-json", "--no-progress"],
                environment: [
                    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(receiver.port)",
                    "OTEL_SERVICE_NAME": "orders-nightly", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
                    "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=runnel%20tests",
                ])
            #expect(run.exitCode == 0, "\(run.stderr.suffix(2_000))")
            let s = try summary(run)
            // The exporter flushes before the process exits, and the receiver writes before it
            // answers: everything is in the file now.
            let spans = try receiver.spans()
            #expect(!spans.isEmpty)
            #expect(spans.allSatisfy { $0["service"] as? String == "orders-nightly" })
            let resource = spans.first?["resource"] as? [String: Any]
            #expect(resource?["deployment.environment"] as? String == "test")
            let headers = spans.first?["headers"] as? [String: String]
            #expect(headers?["x-tenant"] == "runnel tests")

            func attribute(_ span: [String: Any], _ key: String) -> Int? {
                ((span["attributes"] as? [String: Any])?[key] as? NSNumber)?.intValue
            }
            let batches = spans.filter { $0["name"] as? String == "runnel.batch" }
            #expect(batches.count == s["batches"] as? Int)
            #expect(batches.count == 4)
            #expect(batches.map { attribute($0, "runnel.records.read") ?? 0 }.reduce(0, +) == s["read"] as? Int)
            #expect(batches.map { attribute($0, "runnel.records.loaded") ?? 0 }.reduce(0, +) == s["loaded"] as? Int)
            #expect(
                batches.map { attribute($0, "runnel.records.dead_lettered") ?? 0 }.reduce(0, +)
                    == s["dead_lettered"] as? Int)
            #expect(Set(batches.compactMap { attribute($0, "runnel.batch") }) == [1, 2, 3, 4])
            // One trace per batch, the batch span its root.
            #expect(Set(batches.compactMap { $0["traceId"] as? String }).count == 4)
            #expect(batches.allSatisfy { ($0["parentSpanId"] as? String) == "" })

            let runSpan = try #require(spans.first { $0["name"] as? String == "runnel.run" })
            #expect(attribute(runSpan, "runnel.exit_code") == 0)
            for batch in batches {
                let trace = batch["traceId"] as? String
                let id = batch["spanId"] as? String
                let links = batch["links"] as? [[String: String]] ?? []
                #expect(links.contains { $0["spanId"] == runSpan["spanId"] as? String }, "the batch links to the run")
                let children = spans.filter { $0["traceId"] as? String == trace && $0["spanId"] as? String != id }
                #expect(children.allSatisfy { $0["parentSpanId"] as? String == id })
                let names = children.compactMap { $0["name"] as? String }
                #expect(names.first == "runnel.read")
                #expect(names.filter { $0.hasPrefix("runnel.transform ") }.count == 6, "\(names)")
                #expect(names.contains { $0.hasPrefix("runnel.validate ") }, "\(names)")
                #expect(names.contains("runnel.load") && names.last == "runnel.commit", "\(names)")
                if (attribute(batch, "runnel.records.dead_lettered") ?? 0) > 0 {
                    #expect(names.contains("runnel.dead_letters"))
                }
                // The read span counts what the batch span counts; children lie within the batch.
                let read = children.first { $0["name"] as? String == "runnel.read" }
                #expect(read.flatMap { attribute($0, "runnel.records.in") } == attribute(batch, "runnel.records.read"))
                let start = (batch["start"] as? NSNumber)?.int64Value ?? 0
                let end = (batch["end"] as? NSNumber)?.int64Value ?? 0
                #expect(children.allSatisfy {
                    (($0["start"] as? NSNumber)?.int64Value ?? 0) >= start && (($0["end"] as? NSNumber)?.int64Value ?? 0) <= end
                })
            }
        }

        @Test("a collector that cannot be reached costs a warning, never the run")
        func unreachableCollector() throws {
            let dir = try quickstartCopy(maxRecords: 5000)
            // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
            let run = try CommandRunner.run(
                batchBinary, ["run", dir + "/pipeline.yaml", "--no-progress"],
                environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"])
            #expect(run.exitCode == 0, "\(run.stderr.suffix(2_000))")
            #expect(run.stderr.contains("trace export failed"), "\(run.stderr.suffix(2_000))")
            #expect(try dump(dir + "/out/quickstart.db", "SELECT count(*) FROM orders") == [["19501"]])
        }
    }
#endif
