import RunnelCore

#if canImport(Glibc)
    import Glibc
#endif

/// The end-of-run report: a readable block, or one JSON object with `--summary-json`.
enum SummaryPrinter {
    static func print(_ s: RunSummary, json: Bool) {
        if json {
            Swift.print(encode(s))
            return
        }
        var lines: [String] = []
        let status = s.status == "ok" ? (s.dryRun ? "ok (dry run: nothing written)" : "ok") : "FAILED (exit \(s.exitCode))"
        lines.append("pipeline \(s.pipeline) · run \(s.runID) · \(status)")
        if let w = s.window {
            lines.append("  window        from \(w.from ?? "the start") (inclusive) to \(w.to ?? "the end") (exclusive)"
                + (s.shard.map { ", shard \($0)" } ?? ""))
        } else if let shard = s.shard {
            lines.append("  shard         \(shard)")
        }
        lines.append("  read          \(s.read.grouped)")
        var loaded = "  \(s.dryRun ? "would load" : "loaded    ")    \(s.loaded.grouped)"
        if s.superseded > 0 {
            let winner = s.keyPolicy == KeyPolicy.firstWins.description ? "earlier record won" : "later record won"
            loaded += ", superseded \(s.superseded.grouped) (same key, \(winner))"
        }
        lines.append(loaded)
        if s.filtered > 0 { lines.append("  filtered      \(s.filtered.grouped)") }
        var rejected = "  rejected      \(s.rejected.grouped)"
        if s.deadLettered > 0 { rejected += " (dead-lettered \(s.deadLettered.grouped))" }
        if s.dropped > 0 { rejected += " (dropped \(s.dropped.grouped))" }
        let unparked = s.rejected - s.deadLettered - s.dropped
        if unparked > 0 {
            rejected += s.dryRun ? " (dry run: \(unparked.grouped) would be dead-lettered)"
                : " (\(unparked.grouped) not dead-lettered: their batch was not committed)"
        }
        lines.append(rejected)
        if s.uncommitted > 0 { lines.append("  uncommitted   \(s.uncommitted.grouped) (passed every stage; their batch was not committed)") }
        for (i, t) in s.topRejections.prefix(RunSummary.shownRejections).enumerated() {
            lines.append((i == 0 ? "  top rejects   " : "                ") + t.line)
        }
        let rate = Int(s.recordsPerSecond.rounded())
        lines.append("  duration      \(format(s.durationSeconds)) s (\(rate.grouped) records/s)")
        lines.append("  target        \(s.target)")
        if let d = s.deadLetterTarget, s.deadLettered > 0 { lines.append("  dead letters  \(d)") }
        if let e = s.error { lines.append("  error         \(e)") }
        Swift.print(lines.joined(separator: "\n"))
    }

    static func encode(_ s: RunSummary) -> String {
        var o = Object()
        o.set("pipeline", .string(s.pipeline))
        o.set("run_id", .string(s.runID))
        o.set("mode", .string(s.mode.rawValue))
        o.set("status", .string(s.status))
        o.set("dry_run", .bool(s.dryRun))
        o.set("read", .int(Int64(s.read)))
        o.set("loaded", .int(Int64(s.loaded)))
        o.set("rejected", .int(Int64(s.rejected)))
        o.set("dead_lettered", .int(Int64(s.deadLettered)))
        o.set("dropped", .int(Int64(s.dropped)))
        o.set("filtered", .int(Int64(s.filtered)))
        o.set("superseded", .int(Int64(s.superseded)))
        o.set("uncommitted", .int(Int64(s.uncommitted)))
        o.set(
            "top_rejections",
            .array(
                s.topRejections.prefix(RunSummary.shownRejections).map { t in
                    var r = Object()
                    r.set("code", .string(t.code))
                    r.set("stage", .string(t.stage))
                    r.set("field", t.field.map(Value.string) ?? .null)
                    r.set("count", .int(Int64(t.count)))
                    r.set("value", t.value.map(Value.string) ?? .null)
                    r.set("example", .string(t.example))
                    r.set("origin", t.origin.map(Value.string) ?? .null)
                    return .object(r)
                }))
        if let w = s.window {
            var r = Object()
            r.set("from", w.from.map(Value.string) ?? .null)
            r.set("to", w.to.map(Value.string) ?? .null)
            o.set("window", .object(r))
        } else {
            o.set("window", .null)
        }
        o.set("shard", s.shard.map { .string($0.description) } ?? .null)
        o.set("key_policy", .string(s.keyPolicy))
        o.set("batches", .int(Int64(s.batches)))
        o.set("duration_seconds", .double(s.durationSeconds))
        o.set("records_per_second", .double(s.recordsPerSecond))
        o.set("target", .string(s.target))
        o.set("dead_letter_target", s.deadLetterTarget.map(Value.string) ?? .null)
        o.set("checkpoint", s.checkpoint.map(Value.string) ?? .null)
        o.set("error", s.error.map(Value.string) ?? .null)
        o.set("error_code", s.errorCode.map(Value.string) ?? .null)
        o.set("exit_code", .int(Int64(s.exitCode)))
        return JSONText.encode(.object(o))
    }

    private static func format(_ d: Double) -> String {
        let v = (d * 100).rounded() / 100
        return String(v)
    }
}
