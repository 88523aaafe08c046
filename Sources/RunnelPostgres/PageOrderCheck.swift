import Logging
import PostgresNIO
import RunnelCore

/// Whether an index serves the extractor's page order, asked of the planner once per run.
///
/// A keyset page (`WHERE (cursor, key) > (…) ORDER BY cursor, key LIMIT n`) costs a few index
/// pages when a B-tree on `(cursor, key…)` exists; without one, every page scans and sorts the
/// whole source, so a run costs pages × table size and reads a 336k-row table at a few thousand
/// rows per second. The query is the same either way, so the only way to tell is the plan: the
/// first page's `EXPLAIN` is read, and a `Sort` straight under the `Limit` means no index serves
/// the order. The run goes on (the result is the same, only slower) with a warning that names the
/// index to create.
enum PageOrderCheck {
    /// True when the plan (`EXPLAIN (FORMAT JSON)` output) sorts the rows the `Limit` takes, i.e.
    /// reads the whole input to return the first page. Nodes that pass rows through unchanged
    /// (`Gather Merge` over parallel sorts, `Subquery Scan`, `Result`) are looked through; an
    /// `Incremental Sort` is served by an index on a prefix of the order and is not reported.
    static func sortsWholeInput(planJSON: String) -> Bool {
        guard case .array(let plans)? = try? JSONText.parse(planJSON), case .object(let top)? = plans.first,
            case .object(var node)? = top["Plan"]
        else { return false }
        func type(_ o: Object) -> String { if case .string(let s)? = o["Node Type"] { s } else { "" } }
        func onlyChild(_ o: Object) -> Object? {
            guard case .array(let children)? = o["Plans"], children.count == 1, case .object(let c) = children[0] else {
                return nil
            }
            return c
        }
        guard type(node) == "Limit", let first = onlyChild(node) else { return false }
        node = first
        while ["Gather Merge", "Gather", "Subquery Scan", "Result"].contains(type(node)), let next = onlyChild(node) {
            node = next
        }
        return type(node) == "Sort"
    }

    /// An identifier as a person would type it: bare when PostgreSQL reads it back unchanged,
    /// quoted otherwise (capitals, spaces, quotes).
    static func readable(_ name: String) -> String {
        let plain = name.first.map { $0 == "_" || ("a"..."z").contains($0) } ?? false
            && name.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        return plain ? name : PostgresSQL.quote(name)
    }

    /// Asks the planner about `query` (the first page) and logs a warning naming the index to
    /// create when none serves the order. Never fails the run: a plan that cannot be had is
    /// only logged at debug.
    static func warnIfUnindexed(_ query: PostgresQuery, plan: Plan, pool: PostgresPool, logger: Logger) async {
        let explain = PostgresQuery(unsafeSQL: "EXPLAIN (FORMAT JSON) " + query.sql, binds: query.binds)
        do {
            let text: String? = try await pool.withConnection("explain the page query of \(plan.sourceName)") { conn in
                try await pool.rows(explain, on: conn).first?.decode(String.self)
            }
            guard let text, sortsWholeInput(planJSON: text) else { return }
            let columns = ([plan.cursor] + plan.key).map(readable).joined(separator: ", ")
            let advice =
                plan.isTable
                ? "CREATE INDEX ON \(plan.sourceName.split(separator: ".").map { readable(String($0)) }.joined(separator: ".")) (\(columns))"
                : "an index on the queried table's (\(columns)), or a query the planner can order from one"
            logger.warning(
                "extract (postgres): no index serves the page order of \(plan.sourceName) (\(columns)): every page scans and sorts the whole source; create one: \(advice)",
                metadata: ["runnel.source": "\(plan.sourceName)"])
        } catch {
            logger.debug("could not read the page query's plan", metadata: ["runnel.error": "\(error)"])
        }
    }
}
