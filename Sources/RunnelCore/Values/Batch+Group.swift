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
        if !appendColumns(later, offset: offset) { appendRows(later, offset: offset) }
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

    /// Both batches by column: each column gets `later`'s rows after its own (a field one side
    /// lacks is null there), the selection and the input as read follow, shifted by `offset`.
    /// False, changing nothing, when either batch is in rows.
    private mutating func appendColumns(_ later: Batch, offset: Int) -> Bool {
        guard case .columns(var mine) = layout, case .columns(let theirs) = later.layout,
            case .columns(var read) = input, case .columns(let theirsRead) = later.input
        else { return false }
        // Out of the enum first, so that the buffers are appended in place, not copied.
        layout = .rows([])
        input = .rows([])
        Self.appendColumns(&mine.columns, rows: mine.physicalCount, theirs.columns, rows: theirs.physicalCount)
        mine.selection += theirs.selection.map { $0 + offset }
        mine.physicalCount += theirs.physicalCount
        Self.appendColumns(&read.columns, rows: read.origins.count, theirsRead.columns, rows: theirsRead.origins.count)
        read.origins += theirsRead.origins
        for (row, raw) in theirsRead.raws { read.raws[row + offset] = raw }
        for row in theirsRead.unreadable { read.unreadable.insert(row + offset) }
        layout = .columns(mine)
        input = .columns(read)
        if later.schema.count > schema.count { schema = later.schema }
        if later.sourceSchema.count > sourceSchema.count { sourceSchema = later.sourceSchema }
        return true
    }

    private static func appendColumns(_ columns: inout [Column], rows: Int, _ more: [Column], rows moreRows: Int) {
        for i in 0..<max(columns.count, more.count) {
            if i == columns.count { columns.append(Column(nulls: rows)) }
            columns[i].append(contentsOf: i < more.count ? more[i] : Column(nulls: moreRows))
        }
    }

    private mutating func appendRows(_ later: Batch, offset: Int) {
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
