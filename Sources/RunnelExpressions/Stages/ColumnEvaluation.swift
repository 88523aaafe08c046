public import RunnelCore

/// Evaluates a bound expression over the rows of a columnar batch, one row at a time, reading
/// from the columns only the fields the expression names (into a record buffer reused from row
/// to row) — so a filter on two fields of a forty-field record makes two values per row, not
/// forty, and no per-record array.
struct ColumnEvaluation {
    let bound: BoundExpression
    /// Schema positions the expression reads; every position when it reads the whole record.
    let reads: [Int]

    init(_ expression: CELExpression, schema: Schema) {
        let (bound, reads) = expression.bindRecordingReads(schema)
        self.bound = bound
        self.reads = reads
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
            var buffer = RowBuffer(width: width)
            var kept: [Int] = []
            kept.reserveCapacity(c.selection.count)
            for row in c.selection {
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
            var buffer = RowBuffer(width: width)
            var outputs = targets.map { _ in ColumnBuilder(capacity: c.physicalCount) }
            var kept: [Int] = []
            kept.reserveCapacity(c.selection.count)
            var next = 0
            for row in c.selection {
                while next < row {
                    for k in outputs.indices { outputs[k].appendNull() }
                    next += 1
                }
                next = row + 1
                var failed = false
                for k in evals.indices {
                    if failed {
                        outputs[k].appendNull()
                        continue
                    }
                    // Fields derived earlier in this map are read from their new values.
                    for p in evals[k].reads where p < width {
                        if let earlier = targets[..<k].lastIndex(of: p) {
                            buffer.values[p] = outputs[earlier].lastValue
                        } else if p < c.columns.count {
                            buffer.values[p] = c.columns[p].value(row)
                        }
                    }
                    do throws(EvalError) {
                        outputs[k].append(try evals[k].bound.evaluate(buffer.values).recordValue())
                    } catch {
                        failures.append((row, fields[k].expression.recordError(error, field: fields[k].name)))
                        failed = true
                        outputs[k].appendNull()
                    }
                }
                if !failed { kept.append(row) }
            }
            while next < c.physicalCount {
                for k in outputs.indices { outputs[k].appendNull() }
                next += 1
            }
            // Two expressions for one field: the last one's column is the field's value.
            for k in outputs.indices { c.columns[targets[k]] = outputs[k].finish() }
            c.selection = kept
        }
        batch.schema = Schema(names)
        for f in failures { batch.reject(ordinal: f.row, stage: name, error: f.error) }
        if !drop.isEmpty {
            let removed = Set(drop)
            let keep = names.indices.filter { !removed.contains(names[$0]) }
            batch.remap(to: Schema(keep.map { names[$0] }), mapping: keep.map { $0 })
        }
    }
}
