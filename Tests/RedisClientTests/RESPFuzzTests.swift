#if Redis
import Foundation
import NIOCore
import RunnelTesting
import Testing

@testable import RedisClient

/// The RESP decoder under mutated input (`scripts/fuzz resp`): it never crashes, reports damage as
/// a protocol error, and decodes the same replies whether the bytes arrive at once or in pieces.
struct RESPFuzzTests {
    /// Replies decoded from `chunks` fed one after the other, and the error that stopped it, if any.
    private func decode(_ chunks: [ArraySlice<UInt8>]) -> ([RESPValue], String?) {
        var parser = RESPParser()
        var buffer = ByteBuffer()
        var values: [RESPValue] = []
        for chunk in chunks {
            buffer.writeBytes(chunk)
            do {
                while let frame = try parser.nextFrame(from: &buffer) {
                    values.append(try Self.check(frame))
                }
            } catch let e as RedisError {
                return (values, "\(e)")
            } catch {
                Issue.record("not a RedisError: \(error)")
                return (values, "\(error)")
            }
        }
        return (values, nil)
    }

    /// What framing accepted, the readers after it take: it has a value, the in-place cursor
    /// passes over it to its last byte, and as a stream reply it reads or is `.unexpectedReply`.
    private static func check(_ frame: RESPFrame) throws -> RESPValue {
        let value: RESPValue
        do { value = try frame.value() } catch {
            Issue.record("a framed reply has no value: \(error), frame \(MutationFuzzer.hex(Array(frame.bytes.readableBytesView)))")
            throw error
        }
        frame.bytes.withUnsafeReadableBytes { bytes in
            var cursor = RESPCursor(bytes)
            cursor.skip()
            #expect(cursor.offset == bytes.count, "frame \(MutationFuzzer.hex(Array(bytes)))")
        }
        do {
            _ = try StreamEntries(xreadgroupReply: frame).entries()
        } catch let error as RedisError where error.code == .unexpectedReply {
        }
        return value
    }

    @Test func mutatedRepliesDecodeTheSameWholeOrInPieces() throws {
        let fuzzer = try MutationFuzzer(seedFolder: repositoryRoot + "/Fuzz/resp/seeds")
        var rng = SeededGenerator(seed: 5)
        let count = fuzzer.run { input in
            let whole = decode([input[...]])
            let cut = input.isEmpty ? 0 : Int(rng.next() % UInt64(input.count))
            let pieces = decode([input[..<cut], input[cut...]])
            if whole.1 == nil && pieces.1 == nil {
                #expect(whole.0 == pieces.0, "input \(MutationFuzzer.hex(input))")
            }
            #expect((whole.1 == nil) == (pieces.1 == nil), "input \(MutationFuzzer.hex(input))")
        }
        print("fuzz resp: \(count) inputs")
        #expect(count >= fuzzer.seeds.count)
    }
}

private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
#endif
