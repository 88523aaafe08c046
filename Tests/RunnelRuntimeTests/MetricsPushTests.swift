#if HTTP
    import Foundation
    import RunnelTesting
    import Testing

    @testable import RunnelRuntime

    /// The Pushgateway and Prometheus scripts/test starts (scripts/services/prometheus.sh), or
    /// local ones on the same loopback ports.
    let pushgatewayURL = ProcessInfo.processInfo.environment["RUNNEL_TEST_PUSHGATEWAY_URL"] ?? "http://127.0.0.1:9491"
    let prometheusURL = ProcessInfo.processInfo.environment["RUNNEL_TEST_PROMETHEUS_URL"] ?? "http://127.0.0.1:9490"

    struct PushTestFailure: Error, CustomStringConvertible { var description: String }

    /// GET `path` of a loopback HTTP server; the body on 2xx.
    func httpGetText(_ base: String, _ path: String) async throws -> String {
        guard let endpoint = PlainHTTPClient.Endpoint(url: base) else {
            throw PushTestFailure(description: "bad URL \(base)")
        }
        let r = try await PlainHTTPClient(endpoint: endpoint).send(method: "GET", path: path)
        guard (200..<300).contains(r.status) else {
            throw PushTestFailure(description: "GET \(base)\(path): \(r.status) \(r.body)")
        }
        return r.body
    }

    /// The Pushgateway's groups (its `/api/v1/metrics`) whose `job` label is `job`: for each,
    /// its grouping labels and its metrics' first sample values by metric name.
    func pushedGroups(job: String) async throws -> [(labels: [String: String], values: [String: Double])] {
        try groups(in: try await httpGetText(pushgatewayURL, "/api/v1/metrics"), job: job)
    }

    /// `pushedGroups` on the calling thread, for a poller that must not wait for the test
    /// process's cooperative threads (other suites' tests may hold both).
    func pushedGroupsBlocking(job: String) throws -> [(labels: [String: String], values: [String: Double])] {
        guard let endpoint = PlainHTTPClient.Endpoint(url: pushgatewayURL) else {
            throw PushTestFailure(description: "bad URL \(pushgatewayURL)")
        }
        let r = try PlainHTTPClient(endpoint: endpoint).sendBlocking(method: "GET", path: "/api/v1/metrics")
        return try groups(in: r.body, job: job)
    }

    private func groups(in text: String, job: String) throws -> [(labels: [String: String], values: [String: Double])] {
        let root = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let groups = root?["data"] as? [[String: Any]] ?? []
        return groups.compactMap { g in
            guard let labels = g["labels"] as? [String: String], labels["job"] == job else { return nil }
            var values: [String: Double] = [:]
            for (name, entry) in g {
                guard let family = entry as? [String: Any], let metrics = family["metrics"] as? [[String: Any]],
                    let first = metrics.first
                else { continue }
                if let v = first["value"] as? String, let d = Double(v) { values[name] = d }
            }
            return (labels, values)
        }
    }

    /// A PromQL instant query through Prometheus's HTTP API: each series' labels and value.
    func promQuery(_ query: String) async throws -> [(labels: [String: String], value: Double)] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let q = query.addingPercentEncoding(withAllowedCharacters: allowed) ?? query
        let text = try await httpGetText(prometheusURL, "/api/v1/query?query=\(q)")
        let root = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        guard root?["status"] as? String == "success", let data = root?["data"] as? [String: Any],
            let result = data["result"] as? [[String: Any]]
        else { throw PushTestFailure(description: "query \(query): \(text.prefix(300))") }
        return result.map { r in
            let labels = r["metric"] as? [String: String] ?? [:]
            let pair = r["value"] as? [Any] ?? []
            return (labels, Double(pair.last as? String ?? "") ?? .nan)
        }
    }

    func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        var lastError: (any Error)?
        while ContinuousClock.now < deadline {
            do { if try await condition() { return } } catch { lastError = error }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw PushTestFailure(
            description: "timed out after \(timeout) waiting for \(what)"
                + (lastError.map { " (last error: \($0))" } ?? ""))
    }

    /// The quickstart, pushing to the test Pushgateway under a job name of the test's own.
    func pushingQuickstart(
        job: String, url: String = pushgatewayURL, extra: String = "", maxInvalidRatio: String? = nil,
        maxRecords: Int = 5000, interval: String = "200ms"
    ) throws -> String {
        let dir = try quickstartCopy(maxRecords: maxRecords)
        var spec = try String(contentsOfFile: dir + "/pipeline.yaml", encoding: .utf8)
        if let maxInvalidRatio {
            spec = spec.replacingOccurrences(
                of: "max_invalid_ratio: 0.05", with: "max_invalid_ratio: \(maxInvalidRatio)")
        }
        spec += "\nmetrics:\n  push:\n    url: \(url)\n    job: \(job)\n    interval: \(interval)\n\(extra)"
        try write(spec, to: dir + "/pipeline.yaml")
        return dir
    }

    @Suite struct MetricsPushTests {
        @Test("a run pushes; Prometheus scrapes the gateway and a PromQL query sees the run's series")
        func pushedSeriesReachPrometheus() async throws {
            let job = "runnel-test-\(UUID().uuidString.prefix(8).lowercased())"
            let dir = try pushingQuickstart(job: job)
            let run = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--summary-json"])
            #expect(run.exitCode == 0, "\(run.stderr.suffix(2_000))")
            #expect(run.stderr.contains("metrics pushed"))

            let groups = try await pushedGroups(job: job)
            let runGroup = groups.first { $0.labels["outcome"] == nil }
            let successGroup = groups.first { $0.labels["outcome"] == "success" }
            #expect(groups.count == 2, "\(groups.map { $0.labels })")
            #expect(runGroup?.labels["pipeline"] == "quickstart-orders" && runGroup?.labels["shard"] == nil)
            #expect(runGroup?.values["runnel_records_read_total"] == 20_000)
            #expect(runGroup?.values["runnel_last_run_status"] == 0)
            let success = successGroup?.values["runnel_last_success_timestamp_seconds"] ?? 0
            #expect(abs(success - Date().timeIntervalSince1970) < 120)

            // Prometheus scrapes the gateway each second (honor_labels: the pushed job stays). A
            // bound, not a wait: this poller shares the test process's two cooperative threads with
            // the other suites' tests, which hold them while their binaries run.
            try await waitFor("Prometheus to have the pushed series", timeout: .seconds(120)) {
                let loaded = try await promQuery(
                    "runnel_records_loaded_total{job=\"\(job)\",pipeline=\"quickstart-orders\"}")
                let last = try await promQuery("time() - runnel_last_success_timestamp_seconds{job=\"\(job)\"}")
                return loaded.first?.value == 19_501 && (last.first.map { $0.value >= 0 && $0.value < 300 } ?? false)
            }
        }

        @Test("a CronJob's runs replace each other, shards keep their own groups, a failed run keeps the last success")
        func groupingKeys() async throws {
            let job = "runnel-test-\(UUID().uuidString.prefix(8).lowercased())"
            let dir = try pushingQuickstart(job: job, extra: "    grouping: {team: data}\n")
            let spec = dir + "/pipeline.yaml"
            #expect(try CommandRunner.run(batchBinary, ["run", spec]).exitCode == 0)
            let first = try await pushedGroups(job: job)
            let firstSuccess = first.first { $0.labels["outcome"] == "success" }?.values[
                "runnel_last_success_timestamp_seconds"]
            #expect(first.allSatisfy { $0.labels["team"] == "data" })

            // The next scheduled run replaces the group (it read nothing new: 0 records).
            #expect(try CommandRunner.run(batchBinary, ["run", spec]).exitCode == 0)
            var groups = try await pushedGroups(job: job)
            #expect(groups.count == 2, "one run group and one success group: \(groups.map { $0.labels })")
            #expect(groups.first { $0.labels["outcome"] == nil }?.values["runnel_records_read_total"] == 0)

            // Two shards of a backfill: a group each, beside the scheduled run's.
            let backfill = try pushingQuickstart(job: job)
            for shard in ["0/2", "1/2"] {
                #expect(
                    try CommandRunner.run(batchBinary, ["run", backfill + "/pipeline.yaml", "--shard", shard]).exitCode
                        == 0)
            }
            groups = try await pushedGroups(job: job)
            let shards = Set(groups.filter { $0.labels["outcome"] == nil }.compactMap { $0.labels["shard"] })
            #expect(shards == ["0", "1"], "\(groups.map { $0.labels })")

            // A data contract failure (exit 3): its status is pushed, the last success survives.
            let failing = try pushingQuickstart(
                job: job, extra: "    grouping: {team: data}\n", maxInvalidRatio: "0.001")
            let failed = try CommandRunner.run(batchBinary, ["run", failing + "/pipeline.yaml"])
            #expect(failed.exitCode == 3, "\(failed.stderr.suffix(1_000))")
            groups = try await pushedGroups(job: job).filter { $0.labels["team"] == "data" }
            #expect(groups.first { $0.labels["outcome"] == nil }?.values["runnel_last_run_status"] == 3)
            let kept = groups.first { $0.labels["outcome"] == "success" }?.values[
                "runnel_last_success_timestamp_seconds"]
            #expect(
                kept != nil && kept != firstSuccess, "the second (successful) run's time, not erased by the failure")
        }

        @Test("a long run pushes every interval while it lasts, before its end")
        func pushesDuringTheRun() async throws {
            let job = "runnel-test-\(UUID().uuidString.prefix(8).lowercased())"
            // 400 batches of 50: long enough for several 100 ms intervals.
            let dir = try pushingQuickstart(job: job, maxRecords: 50, interval: "100ms")
            let running = try CommandRunner.start(batchBinary, ["run", dir + "/pipeline.yaml"])
            // The gateway is watched from a thread of its own: the suites of this target run in
            // parallel in one process, and tests that wait on a child process hold cooperative
            // threads, which once kept an async poller from looking until the run had ended.
            let watched = await withCheckedContinuation { (done: CheckedContinuation<(midRun: [String: Double]?, polls: Int), Never>) in
                Thread.detachNewThread {
                    var midRun: [String: Double]?
                    var polls = 0
                    let deadline = Date().addingTimeInterval(120)
                    while Date() < deadline {
                        polls += 1
                        if let group = try? pushedGroupsBlocking(job: job).first(where: { $0.labels["outcome"] == nil }) {
                            // A push made before the end has the run's counters but no runnel_last_run_status yet.
                            if group.values["runnel_last_run_status"] != nil { break }
                            if midRun == nil, (group.values["runnel_records_read_total"] ?? 0) > 0 { midRun = group.values }
                        }
                        usleep(20_000)
                    }
                    done.resume(returning: (midRun, polls))
                }
            }
            let midRun = watched.midRun
            let polls = watched.polls
            let code = running.wait()
            #expect(code == 0)
            let read = midRun?["runnel_records_read_total"] ?? 0
            #expect(
                read > 0 && read < 20_000,
                "a push with part of the run's records (\(polls) polls): \(String(describing: midRun))")
            let end = try await pushedGroups(job: job).first { $0.labels["outcome"] == nil }?.values
            #expect(end?["runnel_records_read_total"] == 20_000 && end?["runnel_last_run_status"] == 0)
        }

        @Test("a push to an unreachable gateway is logged and the run still exits 0")
        func unreachableGatewayDoesNotFailTheRun() throws {
            let dir = try pushingQuickstart(job: "runnel-test-unreachable", url: "http://127.0.0.1:9")
            let run = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--summary-json"])
            #expect(run.exitCode == 0, "\(run.stderr.suffix(2_000))")
            #expect(run.stderr.contains("metrics push failed; the run goes on"))
            #expect(run.stderr.contains("127.0.0.1:9"))
            #expect(try summary(run)["loaded"] as? Int == 19_501)
        }

        @Test("RUNNEL_METRICS_PUSH_URL turns the push on for a spec that says nothing")
        func environmentURL() async throws {
            let job = "runnel"  // the default job name: only this test's pipeline name is its own
            let dir = try quickstartCopy()
            let name = "env-push-\(UUID().uuidString.prefix(8).lowercased())"
            let spec = try String(contentsOfFile: dir + "/pipeline.yaml", encoding: .utf8)
                .replacingOccurrences(of: "pipeline: quickstart-orders", with: "pipeline: \(name)")
            try write(spec, to: dir + "/pipeline.yaml")
            let run = try CommandRunner.run(
                batchBinary, ["run", dir + "/pipeline.yaml"], environment: ["RUNNEL_METRICS_PUSH_URL": pushgatewayURL])
            #expect(run.exitCode == 0, "\(run.stderr.suffix(2_000))")
            let groups = try await pushedGroups(job: job).filter { $0.labels["pipeline"] == name }
            #expect(groups.count == 2)
        }

        @Test("bad push settings are spec errors (exit 2) naming the key")
        func badSettings() throws {
            for (extra, words) in [
                ("metrics:\n  push: {url: https://gw:9091}\n", "https is not supported"),
                ("metrics:\n  push: {url: http://gw:9091, grouping: {job: x}}\n", "set by the push itself"),
                ("metrics:\n  push: {url: http://gw:9091, grouping: {bad-name: x}}\n", "not a Prometheus label name"),
                ("metrics:\n  push: {url: http://gw:9091, intervall: 5s}\n", "did you mean 'interval'"),
            ] {
                let dir = try quickstartCopy()
                let spec = try String(contentsOfFile: dir + "/pipeline.yaml", encoding: .utf8) + "\n" + extra
                try write(spec, to: dir + "/pipeline.yaml")
                let r = try CommandRunner.run(batchBinary, ["validate", dir + "/pipeline.yaml"])
                #expect(r.exitCode == 2 && r.stderr.contains(words), "\(extra): \(r.stderr)")
            }
        }

        @Test("grouping values that are not plain URL text use the Pushgateway's base64 form")
        func groupingPath() {
            #expect(
                MetricsPush.path([("job", "runnel"), ("pipeline", "orders")]) == "/metrics/job/runnel/pipeline/orders")
            #expect(MetricsPush.path([("job", "runnel"), ("team", "a/b")]) == "/metrics/job/runnel/team@base64/YS9i")
            #expect(MetricsPush.path([("job", "runnel"), ("team", "")]) == "/metrics/job/runnel/team@base64/=")
            #expect(PlainHTTPClient.Endpoint(url: "http://gw.monitoring:9091/prefix/")?.basePath == "/prefix")
            #expect(PlainHTTPClient.Endpoint(url: "http://[::1]:9091")?.host == "::1")
            #expect(PlainHTTPClient.Endpoint(url: "https://gw:9091") == nil)
        }
    }
#endif
