/// Writes a batch as the bytes of one part file, for a format that the part-file loaders (files,
/// S3) do not know themselves: `parquet` comes from RunnelParquet, behind the Parquet trait, so
/// that the light build links no codec library. An encoder may keep state across batches (the
/// Parquet schema of the first batch); the loaders hold one instance for all their copies.
public protocol PartEncoder: Sendable {
    func encode(_ batch: Batch) throws -> [UInt8]
    /// Takes out of `batch` the records the encoder will not write (a schema drift policy's dead
    /// letters), with their reasons, before `encode`. Default: none.
    func refuse(_ batch: inout Batch) throws -> [(ordinal: Int, error: RecordError)]
}

extension PartEncoder {
    public func refuse(_ batch: inout Batch) throws -> [(ordinal: Int, error: RecordError)] { [] }
}
