#if Redis
import NIOCore
import RunnelTesting
import Testing

@testable import RedisClient

/// Stream replies read in place, against the same replies decoded as values: both RESP shapes,
/// entries deleted from the stream, attributes between elements, binary field values. (The
/// commands themselves run against a real server in `StreamsTests`.)
struct StreamEntriesTests {
    /// A random entry: 0–4 fields (names may repeat), values with CRLF, NUL and RESP type bytes;
    /// one in eight deleted from the stream.
    private static func randomEntry(_ rng: inout SeededGenerator, id: StreamID) -> StreamEntry {
        if rng.next() % 8 == 0 { return StreamEntry(id: id, fields: [], isDeleted: true) }
        let names = ["payload", "a", "b", "é", ""]
        let alphabet: [UInt8] = Array("ab{}\":,\r\n$*%|_".utf8) + [0, 255]
        let fields = (0..<Int(rng.next() % 5)).map { _ -> (name: String, value: [UInt8]) in
            let value = (0..<Int(rng.next() % 12)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            return (names[Int(rng.next() % UInt64(names.count))], value)
        }
        return StreamEntry(id: id, fields: fields)
    }

    /// The entry list as the server sends it; with `annotate`, an attribute precedes some elements
    /// (attributes do not count as elements).
    private static func wire(_ entries: [StreamEntry], annotate: Bool, rng: inout SeededGenerator) -> [UInt8] {
        var out = Array("*\(entries.count)\r\n".utf8)
        for entry in entries {
            if annotate, rng.next() % 3 == 0 { out += Array("|1\r\n+ttl\r\n:5\r\n".utf8) }
            let fields: RESPValue =
                entry.isDeleted ? .null : .array(entry.fields.flatMap { [.bulkString(Array($0.name.utf8)), .bulkString($0.value)] })
            out += RESPEncoder.bytes(of: .array([.bulkString(Array(entry.id.description.utf8)), fields]))
        }
        return out
    }

    private static func frame(_ bytes: [UInt8]) throws -> RESPFrame {
        var parser = RESPParser()
        var buffer = ByteBuffer(bytes: bytes)
        let frame = try #require(try parser.nextFrame(from: &buffer))
        #expect(buffer.readableBytes == 0)
        return frame
    }

    private static func same(_ a: [StreamEntry], _ b: [StreamEntry]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { x, y in
                x.id == y.id && x.isDeleted == y.isDeleted && x.fields.map(\.name) == y.fields.map(\.name)
                    && x.fields.map(\.value) == y.fields.map(\.value)
            }
    }

    @Test("random XREADGROUP replies, RESP2 and RESP3, read the same in place as built as values")
    func xreadgroupReplies() throws {
        var rng = SeededGenerator(seed: 11)
        for round in 0..<300 {
            let count = Int(rng.next() % 20)
            var id = StreamID(milliseconds: 1_700_000_000_000 + rng.next() % 1000, sequence: 0)
            var entries: [StreamEntry] = []
            for _ in 0..<count {
                id = StreamID(milliseconds: id.milliseconds + rng.next() % 3, sequence: rng.next() % 4)
                entries.append(Self.randomEntry(&rng, id: id))
            }
            let list = Self.wire(entries, annotate: round % 2 == 0, rng: &rng)
            let key = RESPEncoder.bytes(of: .bulkString(Array("orders".utf8)))
            let resp2 = Array("*1\r\n*2\r\n".utf8) + key + list
            let resp3 = Array("%1\r\n".utf8) + key + list
            for reply in [resp2, resp3] {
                let read = try StreamEntries(xreadgroupReply: Self.frame(reply))
                #expect(read.count == entries.count)
                let range = try read.idRange()
                #expect(range?.first == entries.first?.id && range?.last == entries.last?.id)
                #expect(Self.same(try read.entries(), entries), "round \(round)")
                var index = 0
                try read.forEach { view in
                    let expected = entries[index]
                    #expect(view.value(ofField: Array("payload".utf8)).map(Array.init) == expected[field: "payload"])
                    #expect(view.fieldBytes == expected.fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.count })
                    index += 1
                }
                #expect(index == entries.count)
            }
        }
    }

    @Test("nothing arrived: a null reply in either protocol is no entries")
    func nullReplies() throws {
        for reply in ["*-1\r\n", "_\r\n"] {
            let read = try StreamEntries(xreadgroupReply: Self.frame(Array(reply.utf8)))
            #expect(try read.isEmpty && read.idRange() == nil)
        }
    }

    @Test("XAUTOCLAIM: the cursor, the claimed entries (a Redis 6.2 null element passed over) and deleted ids")
    func xautoclaimReplies() throws {
        let reply =
            "*3\r\n$3\r\n7-1\r\n"
            + "*3\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*-1\r\n*2\r\n$3\r\n6-0\r\n*-1\r\n"
            + "*2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n"
        let (next, entries, deleted) = try StreamEntries.xautoclaimReply(Self.frame(Array(reply.utf8)))
        #expect(next == StreamID(milliseconds: 7, sequence: 1))
        #expect(deleted == [StreamID(milliseconds: 1, sequence: 0), StreamID(milliseconds: 2, sequence: 0)])
        #expect(entries.count == 3)  // the null element counts; it is no entry
        let expected = [
            StreamEntry(id: StreamID(milliseconds: 5, sequence: 0), fields: [("a", [49])]),
            StreamEntry(id: StreamID(milliseconds: 6, sequence: 0), fields: [], isDeleted: true),
        ]
        #expect(Self.same(try entries.entries(), expected))
    }

    @Test(
        "replies of another shape are unexpectedReply errors",
        arguments: [
            ":1\r\n",  // not streams
            "*1\r\n:1\r\n",  // a stream that is not [key, entries]
            "*1\r\n*2\r\n$1\r\nk\r\n:3\r\n",  // entries that are not an array
            "*1\r\n*2\r\n$1\r\nk\r\n*1\r\n*1\r\n$3\r\n1-0\r\n",  // an entry without fields
            "*1\r\n*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$3\r\nx-0\r\n*0\r\n",  // an id that is not an id
            "*1\r\n*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*1\r\n$1\r\na\r\n",  // a name without a value
            "*1\r\n*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n:1\r\n",  // a value that is not a string
        ])
    func unexpectedShapes(reply: String) throws {
        let frame = try Self.frame(Array(reply.utf8))
        #expect {
            _ = try StreamEntries(xreadgroupReply: frame).entries()
        } throws: { error in
            (error as? RedisError)?.code == .unexpectedReply
        }
    }
}
#endif
