import Parquet
public import RunnelConfig
import RunnelCore
import RunnelFiles

extension ComponentRegistry {
    /// The Parquet trait's components: the `type: parquet` extractor, the `type: parquet`
    /// part-file loader, and the `parquet` part encoder that the S3 loader's `format: parquet` uses.
    public mutating func registerParquet() {
        registerExtractor("parquet", keys: ParquetKeys.extractor) { ctx in
            guard let path = ctx.section.path("path", required: true) else { return nil }
            var c = ParquetExtractor.Configuration(path: path)
            c.cursor = ctx.section.string("cursor")
            return ParquetExtractor(c)
        }
        registerPartDecoder("parquet", ParquetPartDecoder())
        registerPartEncoder("parquet", keys: ParquetKeys.encoder) { ctx in
            ParquetPartEncoder(parquetOptions(ctx.section) ?? ParquetPartOptions())
        }
        registerLoader("parquet", keys: ParquetKeys.loader) { ctx in
            let options = parquetOptions(ctx.section)
            guard let dir = ctx.section.path("path", required: true) else { return nil }
            var c = PartFileLoader.Configuration(directory: dir, format: .parquet)
            if let p = ctx.section.string("prefix") { c.prefix = p }
            c.encoder = ParquetPartEncoder(options ?? ParquetPartOptions())
            return PartFileLoader(c)
        }
    }
}

/// `compression: zstd|snappy|gzip|none` and `row_group_size` of Parquet parts (also the S3 loader's).
public func parquetOptions(_ s: SpecSection) -> ParquetPartOptions? {
    var options = ParquetPartOptions()
    if let name = s.choice("compression", ["zstd", "snappy", "gzip", "none"]), let c = ParquetCompression(name: name) {
        options.compression = c
    }
    if let n = s.int("row_group_size", in: 1...100_000_000) { options.rowGroupSize = n }
    if let drift = s.choice("schema_drift", SchemaDrift.allCases.map(\.rawValue)).flatMap(SchemaDrift.init(rawValue:)) {
        options.schemaDrift = drift
    }
    return options
}
