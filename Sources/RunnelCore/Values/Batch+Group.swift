/// Appending one batch to another, for group commit: micro-batches that wait for the target
/// while it commits the previous group are committed together, in one transaction.
extension Batch {
    /// Appends `later` (read right after this batch, its stages applied) so that both commit as
    /// one. Returns false, changing nothing, when the two do not line up: a schema that differs
    /// other than by fields `later` adds at the end (the union schema of self-describing records
    /// only grows), or a declared schema on one side only.
    public mutating func append(_ later: Batch) -> Bool {
        guard closedSchema == later.closedSchema,
            later.schema.fields.starts(with: schema.fields) || schema.fields.starts(with: later.schema.fields),
            later.sourceSchema.fields.starts(with: sourceSchema.fields)
                || sourceSchema.fields.starts(with: later.sourceSchema.fields)
        else { return false }
        let offset = readCount
        let timesAligned = sourceTimes.count == offset
        var later = later
        makeRows()
        later.makeRows()
        let width = max(schema.count, later.schema.count)
        var merged = records
        layout = .rows([])
        merged.reserveCapacity(merged.count + later.recordCount)
        if width > schema.count {
            let pad = [Value](repeating: .null, count: width - schema.count)
            for i in merged.indices { merged[i].values += pad }
        }
        let laterPad = [Value](repeating: .null, count: width - later.schema.count)
        for var r in later.records {
            r.ordinal += offset
            if !laterPad.isEmpty { r.values += laterPad }
            merged.append(r)
        }
        layout = .rows(merged)
        if later.schema.count > schema.count { schema = later.schema }
        // Sources keep the width they were read with: a dead letter takes as many fields of
        // `sourceSchema` as its values hold.
        var sources = self.sources
        sources += later.sources
        input = .rows(sources)
        if later.sourceSchema.count > sourceSchema.count { sourceSchema = later.sourceSchema }
        rejections += later.rejections.map { Rejection(ordinal: $0.ordinal + offset, stage: $0.stage, error: $0.error) }
        byteCount += later.byteCount
        progress = later.progress ?? progress
        // Times are by ordinal: kept only while every record so far has one.
        if timesAligned, later.sourceTimes.count == later.readCount { sourceTimes += later.sourceTimes } else { sourceTimes = [] }
        superseded += later.superseded
        supersededWritten += later.supersededWritten
        for link in later.trace.links { trace.link(link) }
        return true
    }
}

extension BatchCommit {
    /// Commits `later` (the next batch read) together with this one: the positions after
    /// `later`, the fence positions the group was read from (the first batch's, per part), and
    /// every acknowledgement in reading order.
    public mutating func append(_ later: BatchCommit) {
        checkpoint = later.checkpoint ?? checkpoint
        parts.merge(later.parts) { _, newer in newer }
        partReplaces.merge(later.partReplaces) { older, _ in older }
        switch (acknowledgement, later.acknowledgement) {
        case (nil, let b): acknowledgement = b
        case (_, nil): break
        case (let a?, let b?):
            let earlier = (a as? GroupAcknowledgement)?.parts ?? [a]
            acknowledgement = GroupAcknowledgement(parts: earlier + [b])
        }
    }
}

/// The acknowledgements of a group of batches, sent in reading order after the group is stored.
public struct GroupAcknowledgement: Acknowledgement {
    public let parts: [any Acknowledgement]
    public func acknowledge() async throws {
        for part in parts { try await part.acknowledge() }
    }
}
