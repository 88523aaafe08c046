public import RunnelCore

/// Evaluates a bound expression over the rows of a columnar batch: by column kernels where the
/// expression compiles to them (see `ColumnKernel`), and one row at a time for the rest, reading
/// from the columns only the fields the expression names (into a record buffer reused from row to
/// row) — so a filter on two fields of a forty-field record makes two values per row, not forty,
/// and no per-record array.
struct ColumnEvaluation {
    let bound: BoundExpression
    /// Schema positions the expression reads; every position when it reads the whole record.
    let reads: [Int]

    init(_ expression: CELExpression, schema: Schema) {
        let (bound, reads) = expression.bindRecordingReads(schema)
        self.bound = bound
        self.reads = reads
    }

    /// The expression's lane over `rows` (nil when it has no kernel for these columns).
    func lane(columns: [Column], rows: [Int]) -> Lane? {
        guard !rows.isEmpty, let kernel = ColumnKernel.compile(bound.node, columns: columns, costLimit: bound.limit) else { return nil }
        return KernelRun(columns: columns, rows: rows).evaluate(kernel)
    }
}

/// A record buffer filled from columns for one row at a time.
struct RowBuffer {
    var values: [Value]

    init(width: Int) { values = [Value](repeating: .null, count: width) }

    @inline(__always)
    mutating func load(_ positions: [Int], from columns: [Column], row: Int) {
        // Borrowed, not copied: a Column copy retains its buffers.
        columns.withUnsafeBufferPointer { columns in
            for p in positions where p < columns.count { values[p] = columns[p].value(row) }
        }
    }
}

extension CELExpression {
    /// Binds to `schema` and returns the positions the expression reads: the names it resolved
    /// to fields, or every position when it named something that is not a field (`record`, the
    /// whole record, reads them all).
    func bindRecordingReads(_ schema: Schema) -> (BoundExpression, [Int]) {
        final class Reads: @unchecked Sendable {
            // Used only inside this call, on this thread, while the binder runs.
            var positions = Set<Int>()
            var all = false
        }
        let reads = Reads()
        var binder = Binder { name in
            guard let i = schema.index(of: name) else {
                reads.all = true
                return nil
            }
            reads.positions.insert(i)
            return .field(i)
        }
        let node = binder.bind(root)
        let bound = BoundExpression(node: node, fields: schema.fields, locals: binder.maxLocals, limit: configuration.costLimit)
        return (bound, reads.all ? Array(0..<schema.count) : reads.positions.sorted())
    }
}

extension ExpressionFilter {
    func applyToColumns(_ batch: inout Batch) {
        let eval = ColumnEvaluation(expression, schema: batch.schema)
        var failures: [(row: Int, error: RecordError)] = []
        let width = batch.schema.count
        batch.withColumns { c in
            // Only a bool kernel decides a filter; any other type is an error the row path reports.
            let lane = eval.lane(columns: c.columns, rows: c.selection).flatMap { $0.kind == .bool ? $0 : nil }
            var buffer = RowBuffer(width: width)
            var kept: [Int] = []
            kept.reserveCapacity(c.selection.count)
            for (j, row) in c.selection.enumerated() {
                if let lane, lane.isKnown(j) {
                    if lane.fixed[j] != 0 { kept.append(row) }
                    continue
                }
                buffer.load(eval.reads, from: c.columns, row: row)
                switch eval.bound.test(buffer.values) {
                case .success(true): kept.append(row)
                case .success(false): break
                case .failure(let e): failures.append((row, expression.recordError(e)))
                }
            }
            c.selection = kept
        }
        for f in failures { batch.reject(ordinal: f.row, stage: name, error: f.error) }
    }
}

extension ExpressionMap {
    /// Each derived field becomes a new column (or replaces one), filled over the selection; a
    /// row on which an expression fails leaves the selection, rejected at that field.
    func applyToColumns(_ batch: inout Batch) throws {
        var names = batch.schema.fields
        var targets: [Int] = []
        var evals: [ColumnEvaluation] = []
        for (field, expression) in fields {
            evals.append(ColumnEvaluation(expression, schema: Schema(names)))
            if let i = names.firstIndex(of: field) {
                targets.append(i)
            } else {
                targets.append(names.count)
                names.append(field)
            }
        }
        var failures: [(row: Int, error: RecordError)] = []
        batch.withColumns { c in
            let width = names.count
            while c.columns.count < width { c.columns.append(Column(nulls: c.physicalCount)) }
            // One expression at a time over the whole selection, each into its column: a later
            // expression reads the columns the earlier ones wrote (as the fields derived earlier in
            // this map), and a row on which one fails leaves the selection before the next, so its
            // error is the first failing field's, as when a row is evaluated field by field.
            var buffer = RowBuffer(width: width)
            var selection = c.selection
            for k in evals.indices {
                let lane = evals[k].lane(columns: c.columns, rows: selection)
                var output = ColumnBuilder(expectedRows: c.physicalCount)
                var kept: [Int] = []
                kept.reserveCapacity(selection.count)
                for (j, row) in selection.enumerated() {
                    while output.count < row { output.appendNull() }
                    if let lane, lane.isKnown(j) {
                        Self.append(lane, j, row: row, from: c.columns, to: &output)
                        kept.append(row)
                        continue
                    }
                    buffer.load(evals[k].reads, from: c.columns, row: row)
                    do throws(EvalError) {
                        output.append(try evals[k].bound.evaluate(buffer.values).recordValue())
                        kept.append(row)
                    } catch {
                        failures.append((row, fields[k].expression.recordError(error, field: fields[k].name)))
                        output.appendNull()
                    }
                }
                while output.count < c.physicalCount { output.appendNull() }
                // Two expressions for one field: the last one's column is the field's value.
                c.columns[targets[k]] = output.finish()
                selection = kept
            }
            c.selection = selection
        }
        failures.sort { $0.row < $1.row }
        batch.schema = Schema(names)
        for f in failures { batch.reject(ordinal: f.row, stage: name, error: f.error) }
        if !drop.isEmpty {
            let removed = Set(drop)
            let keep = names.indices.filter { !removed.contains(names[$0]) }
            batch.remap(to: Schema(keep.map { names[$0] }), mapping: keep.map { $0 })
        }
    }
}

extension ExpressionMap {
    /// Appends a kernel's value at selection position `j` (physical `row`).
    @inline(__always)
    static func append(_ lane: Lane, _ j: Int, row: Int, from columns: [Column], to output: inout ColumnBuilder) {
        switch lane.kind {
        case .int: output.appendInt(lane.fixed[j])
        case .double: output.appendDouble(Double(bitPattern: UInt64(bitPattern: lane.fixed[j])))
        case .bool: output.appendBool(lane.fixed[j] != 0)
        case .timestamp: output.appendTimestamp(Timestamp(microseconds: lane.fixed[j]))
        case .string:
            if lane.textColumn >= 0 {
                output.append(from: columns[lane.textColumn], row: row)
            } else {
                lane.constantText.withUnsafeBytes { output.appendString($0) }
            }
        }
    }
}
