public import RunnelConfig
import RunnelCore

extension ComponentRegistry {
    /// `type: csv` and `jsonl` extractors, `jsonl`/`csv` part-file loaders, the `jsonl` dead
    /// letter queue and the `file` checkpoint store.
    public mutating func registerFiles() {
        registerExtractor("csv", keys: FilesKeys.csv) { ctx in
            let s = ctx.section
            guard let path = s.path("path", required: true) else { return nil }
            var c = CSVExtractor.Configuration(path: path)
            if let d = s.node("delimiter"), let text = d.string {
                if let byte = singleByte(text == "\\t" ? "\t" : text) { c.dialect.delimiter = byte } else {
                    d.problem("delimiter must be one character, found '\(text)'")
                }
            }
            if let q = s.node("quote"), let text = q.string {
                if let byte = singleByte(text) { c.dialect.quote = byte } else { q.problem("quote must be one character, found '\(text)'") }
            }
            c.header = s.bool("header") ?? true
            c.columns = s.strings("columns")
            c.emptyAsNull = s.bool("empty_as_null") ?? true
            c.cursor = s.string("cursor")
            if !c.header && c.columns == nil { s.node.problem("'header: false' needs 'columns' to name the fields") }
            return CSVExtractor(c)
        }
        registerExtractor("jsonl", keys: FilesKeys.jsonl) { ctx in
            guard let path = ctx.section.path("path", required: true) else { return nil }
            var c = JSONLinesExtractor.Configuration(path: path)
            c.cursor = ctx.section.string("cursor")
            return JSONLinesExtractor(c)
        }
        // `parquet` parts: RunnelParquet (the Parquet trait) registers that loader and encoder.
        for format in PartFileLoader.Format.allCases where format != .parquet {
            registerLoader(format.rawValue, keys: FilesKeys.partLoader(format.rawValue)) { ctx in
                guard let dir = ctx.section.path("path", required: true) else { return nil }
                var c = PartFileLoader.Configuration(directory: dir, format: format)
                if let p = ctx.section.string("prefix") { c.prefix = p }
                return PartFileLoader(c)
            }
        }
        registerDeadLetterQueue("jsonl", keys: FilesKeys.deadLetters) { ctx in
            guard let dir = ctx.section.path("path", required: true) else { return nil }
            return FileDeadLetterQueue(directory: dir)
        }
        registerCheckpointStore("file", keys: FilesKeys.checkpoint) { ctx in
            guard let path = ctx.section.path("path", required: true) else { return nil }
            return FileCheckpointStore(directory: path)
        }
    }
}

private func singleByte(_ text: String) -> UInt8? {
    let bytes = Array(text.utf8)
    return bytes.count == 1 ? bytes[0] : nil
}
