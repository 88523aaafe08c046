/// `# HELP` lines for the exposition text.
///
/// swift-prometheus's swift-metrics factory registers metrics without help text, and its
/// registry refuses a later registration with different help, so the help is added to the text
/// as it is served: a `# HELP` line before each `# TYPE` line that lacks one. `promtool check
/// metrics` requires it.
enum MetricHelp {
    static let texts: [String: String] = [
        "runnel_records_read_total": "Records read from the source, including those that could not be parsed.",
        "runnel_records_loaded_total": "Records written to the target.",
        "runnel_records_filtered_total": "Records left out by a filter transformer.",
        "runnel_records_superseded_total": "Records whose key another record of the run had (key_policy), not counted as loaded.",
        "runnel_memory_limit_bytes": "The container's memory limit read from its cgroup (0: none found).",
        "runnel_memory_window_bytes": "The bytes a run may hold in flight (memory.max_fraction of the limit, or memory.max_bytes).",
        "runnel_inflight_bytes": "Input bytes of the batches read but not yet committed.",
        "runnel_records_rejected_total": "Records rejected, by the stage that rejected them.",
        "runnel_dead_letters_total": "Rejected records parked in the dead letter queue.",
        "runnel_batches_total": "Batches committed.",
        "runnel_retries_total": "Transient failures retried, by operation.",
        "runnel_request_retries_total": "Requests a connector's client retried (HTTP page, S3 call), by reason (http_429, connection...).",
        "runnel_runs_total": "Runs finished, by status.",
        "runnel_batch_duration_seconds": "Time from a batch's arrival at the committer to its commit.",
        "runnel_batch_records": "Records read per batch.",
        "runnel_end_to_end_latency_seconds": "Time from a stream entry's creation (its id) to its commit.",
        "runnel_source_pending": "The consumer group's backlog: entries pending for this consumer, and lag.",
        "runnel_cdc_slot_lag_bytes": "postgres_cdc: WAL the replication slot holds back (the server's WAL end minus the position confirmed after the target's commit).",
        "runnel_cdc_replication_delay_seconds": "postgres_cdc: from the source's commit of a stored batch's last change to its store; 0 when the stream is idle.",
        "runnel_source_lag_records": "Kafka: messages of an assigned partition past the group's committed offset (high watermark minus commit).",
        "runnel_last_commit_timestamp_seconds": "Unix time of the last committed batch.",
        "runnel_last_run_status": "The exit code of the run that ended last (0 done, 1 transient, 2 config, 3 data contract, 4 lease held); pushed by runnel-batch.",
        "runnel_last_run_timestamp_seconds": "Unix time the run that ended last ended; pushed by runnel-batch.",
        "runnel_last_run_duration_seconds": "How long the run that ended last took; pushed by runnel-batch.",
    ]

    static func annotate(_ exposition: [UInt8]) -> [UInt8] {
        let text = String(decoding: exposition, as: UTF8.self)
        var out = ""
        out.reserveCapacity(text.utf8.count + 2048)
        var previous: Substring = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), !previous.hasPrefix("# HELP ") {
                let name = line.dropFirst(7).split(separator: " ").first.map(String.init) ?? ""
                out += "# HELP \(name) \(texts[name] ?? "Runnel metric \(name).")\n"
            }
            out += line
            out += "\n"
            previous = line
        }
        if out.hasSuffix("\n\n") { out.removeLast() }
        return Array(out.utf8)
    }
}
