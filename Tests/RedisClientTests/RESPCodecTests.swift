#if Redis
import NIOCore
import Testing

@testable import RedisClient

/// The wire format, without a server.
struct RESPCodecTests {
    static let sampleValues: [RESPValue] = [
        .simpleString("OK"),
        .simpleString(""),
        .error("WRONGTYPE Operation against a key holding the wrong kind of value"),
        .integer(0),
        .integer(-42),
        .integer(.max),
        .integer(.min),
        .bulkString([]),
        .bulkString(Array("hello".utf8)),
        .bulkString([0, 13, 10, 255, 36, 42, 13]),  // NUL, CRLF and RESP type bytes inside a payload
        .null,
        .array([]),
        .array([.integer(1), .bulkString(Array("two".utf8)), .null, .array([.simpleString("nested")])]),
        .map([
            .init(key: .simpleString("server"), value: .bulkString(Array("redis".utf8))),
            .init(key: .simpleString("proto"), value: .integer(3)),
            .init(key: .simpleString("modules"), value: .array([])),
        ]),
        .set([.bulkString(Array("a".utf8)), .bulkString(Array("b".utf8))]),
        .double(3.25),
        .double(-0.5),
        .double(.infinity),
        .double(-.infinity),
        .boolean(true),
        .boolean(false),
        .bigNumber("3492890328409238509324850943850943825024385"),
        .bigNumber("-12"),
        .verbatimString(format: "txt", text: Array("Some string".utf8)),
    ]

    @Test("a command is an array of bulk strings; integers and bytes are written as is")
    func encodesCommands() {
        let command = RedisCommand("SET", ["key", .bytes([0, 13, 10]), 42, -7, .integer(Int.min)])
        let expected =
            "*6\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\n\u{0}\r\n\r\n$2\r\n42\r\n$2\r\n-7\r\n"
            + "$20\r\n-9223372036854775808\r\n"
        #expect(RESPEncoder.bytes(of: command) == Array(expected.utf8))
        #expect(RESPEncoder.bytes(of: ["PING"]) == Array("*1\r\n$4\r\nPING\r\n".utf8))
        // Multi-byte UTF-8: the length is in bytes, not characters.
        #expect(RESPEncoder.bytes(of: ["ECHO", "été"]) == Array("*2\r\n$4\r\nECHO\r\n$5\r\nété\r\n".utf8))
    }

    @Test(
        "decimal writer agrees with String(_:)",
        arguments: [0, 1, 9, 10, 99, 100, -1, -10, 1_000_000_007, Int.max, Int.min])
    func decimals(value: Int) {
        #expect(RESPEncoder.decimalLength(value) == String(value).utf8.count)
        #expect(RESPEncoder.bytes(of: RESPValue.integer(Int64(value))) == Array(":\(value)\r\n".utf8))
    }

    @Test("every value survives encode then decode", arguments: sampleValues)
    func roundTrip(value: RESPValue) throws {
        var decoder = RESPChunkDecoder()
        #expect(try decoder.feed(RESPEncoder.bytes(of: value)) == [value])
    }

    @Test("a reply split at any byte decodes once, when its last byte arrives", arguments: sampleValues)
    func partialFrames(value: RESPValue) throws {
        let bytes = RESPEncoder.bytes(of: value)
        for split in 1..<bytes.count {
            var decoder = RESPChunkDecoder()
            #expect(try decoder.feed(Array(bytes[..<split])) == [])
            #expect(try decoder.feed(Array(bytes[split...])) == [value])
        }
        var byteByByte = RESPChunkDecoder()
        var decoded: [RESPValue] = []
        for byte in bytes { decoded += try byteByByte.feed([byte]) }
        #expect(decoded == [value])
    }

    @Test("many replies in arbitrary chunks come out complete and in order")
    func streamOfReplies() throws {
        let values = Self.sampleValues + Self.sampleValues.reversed()
        let bytes = values.flatMap { RESPEncoder.bytes(of: $0) }
        for chunkSize in [1, 2, 3, 7, 64, 1000] {
            var decoder = RESPChunkDecoder()
            var decoded: [RESPValue] = []
            for start in stride(from: 0, to: bytes.count, by: chunkSize) {
                decoded += try decoder.feed(Array(bytes[start..<min(start + chunkSize, bytes.count)]))
            }
            #expect(decoded == values, "chunk size \(chunkSize)")
        }
    }

    @Test(
        "RESP2 forms and RESP3 extras decode",
        arguments: [
            ("$-1\r\n", RESPValue.null),
            ("*-1\r\n", .null),
            ("_\r\n", .null),
            ("*2\r\n$1\r\na\r\n:1\r\n", .array([.bulkString([97]), .integer(1)])),
            ("!21\r\nSYNTAX invalid syntax\r\n", .error("SYNTAX invalid syntax")),
            (",1.5e3\r\n", .double(1500)),
            (",inf\r\n", .double(.infinity)),
            (":+5\r\n", .integer(5)),
            // A top-level push is out-of-band: skipped, the next reply is returned.
            (">2\r\n+message\r\n+hello\r\n:5\r\n", .integer(5)),
            // Attributes annotate the following value and are dropped, also inside aggregates.
            ("|1\r\n+ttl\r\n:3600\r\n:7\r\n", .integer(7)),
            ("*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n", .array([.integer(1), .integer(2)])),
        ]
    )
    func otherForms(wire: String, expected: RESPValue) throws {
        var decoder = RESPChunkDecoder()
        #expect(try decoder.feed(Array(wire.utf8)) == [expected])
    }

    @Test("a frame is one reply's bytes exactly: pushes and attributes before it are consumed, the next reply left")
    func frames() throws {
        let reply = RESPEncoder.bytes(of: Self.sampleValues[12])
        let wire = Array(">2\r\n+message\r\n+hello\r\n|1\r\n+ttl\r\n:3600\r\n".utf8) + reply + Array("*2\r\n:1".utf8)
        for split in 0...wire.count {
            var parser = RESPParser()
            var buffer = ByteBuffer(bytes: wire[..<split])
            var frame = try parser.nextFrame(from: &buffer)
            buffer.writeBytes(wire[split...])
            if frame == nil { frame = try parser.nextFrame(from: &buffer) }
            #expect(frame.map { Array($0.bytes.readableBytesView) } == reply, "split at \(split)")
            #expect(try frame?.value() == Self.sampleValues[12])
            #expect(Array(buffer.readableBytesView) == Array("*2\r\n:1".utf8))
            #expect(try parser.nextFrame(from: &buffer) == nil)
        }
    }

    @Test("a reply fits an existential's inline buffer, so the pipeline does not box it")
    func valueSize() {
        #expect(MemoryLayout<RESPValue>.size <= 3 * MemoryLayout<Int>.size)
    }

    @Test("NaN doubles decode")
    func nan() throws {
        var decoder = RESPChunkDecoder()
        let values = try decoder.feed(Array(",nan\r\n".utf8))
        guard case .double(let value) = values.first else {
            Issue.record("expected a double, got \(values)")
            return
        }
        #expect(value.isNaN)
    }

    @Test(
        "malformed input is a protocol error, never a crash",
        arguments: [
            "HTTP/1.1 400 Bad Request\r\n",
            "?x\r\n",
            ":12a\r\n",
            ":\r\n",
            ":-\r\n",
            ":99999999999999999999\r\n",
            "$-5\r\n",
            "$abc\r\n",
            "$3\r\nabcXY",
            "$99999999999\r\n",
            "*-2\r\n",
            "%-1\r\n",
            "*9999999999999\r\n",
            "#x\r\n",
            ",abc\r\n",
            "(12a\r\n",
            "(\r\n",
            "=3\r\nabc\r\n",
            "_x\r\n",
            "+ok\rX",
        ]
    )
    func malformed(wire: String) {
        var decoder = RESPChunkDecoder()
        #expect {
            _ = try decoder.feed(Array(wire.utf8))
        } throws: { error in
            (error as? RedisError)?.code == .protocolError
        }
    }

    @Test("nesting and line length are bounded")
    func limits() {
        var deep = RESPChunkDecoder()
        #expect(throws: RedisError.self) {
            _ = try deep.feed(Array(String(repeating: "*1\r\n", count: 100).utf8))
        }
        var long = RESPChunkDecoder()
        #expect(throws: RedisError.self) {
            _ = try long.feed(Array(("+" + String(repeating: "a", count: 70_000)).utf8))
        }
    }

    @Test("random bytes decode or fail with a protocol error")
    func randomInput() {
        // Deterministic generator, biased towards RESP's own bytes so that parsing gets deep.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let alphabet = Array("*$%~>|:+-_#,(=!\r\n0123456789-aZ".utf8)
        var failures = 0
        for _ in 0..<3000 {
            let length = Int(next() % 40)
            let bytes = (0..<length).map { _ in
                next() % 4 == 0 ? UInt8(truncatingIfNeeded: next()) : alphabet[Int(next() % UInt64(alphabet.count))]
            }
            var decoder = RESPChunkDecoder()
            do {
                _ = try decoder.feed(bytes)
            } catch let error as RedisError {
                #expect(error.code == .protocolError)
                failures += 1
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        #expect(failures > 0)  // the generator does reach the error paths
    }
}

#endif
