import Testing
@testable import RunnelCore

/// `CheckpointCommit.verify`: the compare-and-set a loader runs in its transaction before it
/// writes a batch whose part positions carry preconditions (Kafka partitions).
@Suite struct CheckpointFenceTests {
    private func commit(_ parts: [(String, String, StoredPosition?)]) -> CheckpointCommit {
        CheckpointCommit(entries: parts.map { .init(key: "p#\($0.0)", checkpoint: Checkpoint($0.1), replaces: $0.2) })
    }

    @Test func positionsStillAsReadAreWritten() throws {
        let c = commit([("t/0", "50", .absent), ("t/1", "80", .position(Checkpoint("40")))])
        #expect(c.guardedKeys == ["p#t/0", "p#t/1"])
        #expect(try c.verify(stored: ["p#t/1": Checkpoint("40")]) == .write)
    }

    @Test func aLostReplyOfThisVeryLoadIsNotWrittenAgain() throws {
        let c = commit([("t/0", "50", .absent), ("t/1", "80", .position(Checkpoint("40")))])
        #expect(try c.verify(stored: ["p#t/0": Checkpoint("50"), "p#t/1": Checkpoint("80")]) == .alreadyStored)
    }

    @Test func aPositionMovedByAnotherWorkerFencesTheBatchOffAndNamesThePart() throws {
        let c = commit([("t/0", "50", .absent), ("t/1", "80", .position(Checkpoint("40")))])
        let error = #expect(throws: RunnelError.self) { try c.verify(stored: ["p#t/1": Checkpoint("120")]) }
        #expect(error?.code == .fenced)
        #expect(error?.code.exitCode == 1)
        #expect(error?.message.contains("'p#t/1' is at 120, this batch was read from 40") == true)
        // A position that is gone (reset) while the batch expected one is a move too.
        #expect(throws: RunnelError.self) { try c.verify(stored: [:]) }
    }

    @Test func entriesWithoutAPreconditionAreNotChecked() throws {
        let c = commit([("t/0", "50", nil)])
        #expect(c.guardedKeys.isEmpty)
        #expect(try c.verify(stored: ["p#t/0": Checkpoint("999")]) == .write)
    }
}
