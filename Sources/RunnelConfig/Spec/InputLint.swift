public import RunnelCore

extension PipelineSpec {
    /// What `validate` checks against the input itself, where that needs no server (files):
    /// the path matches files; the cursor, the fields the stages read (rename, select, drop,
    /// cast, set/default, null_if, trim…, filter conditions, field rules) and the loader's key
    /// are among the input's fields or made by an earlier stage (with a did-you-mean); a cast's
    /// timestamp format matches at least one of the first values.
    ///
    /// Returns the lines `validate` prints and the problems found (a config error each). A stage
    /// whose fields cannot be known before a run (an expression, an extension's own stage) ends
    /// the name checks after it: what it makes is not known.
    public func checkInput() async throws -> (lines: [String], problems: [String]) {
        let preview: InputPreview?
        do {
            preview = try await pipeline.extractor.inputPreview()
        } catch let e as RunnelError where e.code == .config {
            return ([], [(locations["extract"].map { "\($0): " } ?? "") + e.message])
        }
        guard let preview else {
            let kind = types["extract"] ?? "this"
            return (["input: not read (\(kind) needs a connection, which validate does not open; the run checks the source when it opens it)"], [])
        }
        var lines = ["input: \(preview.resolved): \(preview.inputs.count) file\(preview.inputs.count == 1 ? "" : "s")"]
        guard let fields = preview.fields else {
            lines.append("input: the first file has no records; field names not checked")
            return (lines, [])
        }
        lines.append("input fields (\(preview.fieldsSource)): \(fields.joined(separator: ", "))")
        var problems: [String] = []
        var known = fields
        func check(_ name: String, _ place: String, at section: String) {
            guard !known.contains(name) else { return }
            var message = (locations[section].map { "\($0): " } ?? "") + "\(place): no field '\(name)' in \(preview.fieldsSource)"
            if let s = suggestion(for: name, in: known) { message += " (did you mean '\(s)'?)" }
            problems.append(message)
        }
        func add(_ name: String) { if !known.contains(name) { known.append(name) } }
        if let cursor = preview.cursor { check(cursor, "extract.cursor", at: "extract") }
        var opaque = false
        stages: for (i, t) in pipeline.transformers.enumerated() {
            let place = "transform[\(i)] (\(t.name))"
            let checkHere = { (name: String, place: String) in check(name, place, at: "transform[\(i)]") }
            switch t {
            case let r as RenameTransformer:
                for (from, to) in r.renames {
                    checkHere(from, place)
                    known.removeAll { $0 == from }
                    add(to)
                }
            case let s as SelectTransformer:
                for f in s.fields { checkHere(f, place) }
                known = s.fields
            case let d as DropTransformer:
                known.removeAll { d.fields.contains($0) }
            case let s as SetTransformer:
                for (f, _) in s.values { add(f) }
            case let m as MapTransformer:
                for f in m.fields ?? [] { checkHere(f, place) }
            case let n as NullIfTransformer:
                for f in n.fields ?? [] { checkHere(f, place) }
            case let f as FilterTransformer:
                for name in f.condition.fields { checkHere(name, place) }
            case let c as CastTransformer:
                for (field, target) in c.casts {
                    checkHere(field, place)
                    if case .timestamp(let format) = target, fields.contains(field),
                        let problem = Self.formatProblem(format, field: field, samples: preview.samples, place: place)
                    {
                        problems.append((locations["transform[\(i)]"].map { "\($0): " } ?? "") + problem)
                    }
                }
            default:
                // An expression stage or an extension's own: what it makes is not known here.
                opaque = true
                break stages
            }
        }
        if !opaque {
            for v in pipeline.validators {
                if let rule = v as? FieldRules { check(rule.field, "validate.rules (\(rule.field))", at: "validate") }
            }
            for k in pipeline.loader.key { check(k, "load.key", at: "load") }
        }
        if !preview.declared {
            // Records that describe themselves may leave a field out of the first few: a name
            // not seen there is worth a warning, not a failed validate.
            let (names, formats) = (problems.filter { $0.contains(": no field '") }, problems.filter { !$0.contains(": no field '") })
            lines += names.map { "warning: \($0) (a field those records lack reads as null)" }
            return (lines, formats)
        }
        return (lines, problems)
    }

    /// A timestamp format that none of the first non-empty values of the field matches.
    static func formatProblem(_ format: TimestampFormat, field: String, samples: [Object], place: String) -> String? {
        let sentinels: Set<String> = ["", "NA", "N/A", "null", "NULL"]
        let values = samples.compactMap { o -> String? in
            guard case .string(let s)? = o[field] else { return nil }
            let t = s.trimmingWhitespace()
            return sentinels.contains(t) ? nil : t
        }
        guard let example = values.first, !values.contains(where: { format.parse($0) != nil }) else { return nil }
        return "\(place): timestamp format '\(format)' matches none of the first \(values.count) values of '\(field)' (e.g. '\(example)')"
    }
}
