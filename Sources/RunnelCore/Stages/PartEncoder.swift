/// Writes a batch as the bytes of one part file, for a format that the part-file loaders (files,
/// S3) do not know themselves: `parquet` comes from RunnelParquet, behind the Parquet trait, so
/// that the light build links no codec library. An encoder may keep state across batches (the
/// Parquet schema of the first batch); the loaders hold one instance for all their copies.
public protocol PartEncoder: Sendable {
    func encode(_ batch: Batch) throws -> [UInt8]
}
