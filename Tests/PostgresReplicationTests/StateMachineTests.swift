import Testing

@testable import PostgresReplication

/// The protocol state machine without a server: startup under each authentication method, queries,
/// the replication stream, keepalive replies and confirmations.
struct StateMachineTests {
    static let now = PostgresTimestamp(microsecondsSince2000: 1_000)

    static func message(_ type: Unicode.Scalar, _ body: (inout ByteWriter) -> Void = { _ in }) -> BackendMessage {
        var w = ByteWriter()
        body(&w)
        return BackendMessage(type: UInt8(ascii: type), payload: w.bytes)
    }

    static func auth(_ code: UInt32, _ extra: [UInt8] = []) -> BackendMessage {
        message("R") {
            $0.u32(code)
            $0.bytes += extra
        }
    }

    static let ready = message("Z") { $0.tag("I") }

    /// Startup with trust: no password is sent.
    static func connected(password: String? = nil) -> ReplicationStateMachine {
        var m = ReplicationStateMachine(user: "runnel", password: password)
        _ = m.start(database: "runnel", applicationName: "test")
        _ = m.receive(auth(0), now: now)
        _ = m.receive(
            message("S") {
                $0.cString("server_version")
                $0.cString("15.8")
            }, now: now)
        _ = m.receive(
            message("K") {
                $0.u32(1)
                $0.u32(2)
            }, now: now)
        #expect(m.receive(ready, now: now) == .connected)
        return m
    }

    @Test
    func trustStartup() {
        var m = ReplicationStateMachine(user: "runnel", password: nil)
        guard case .write(let startup) = m.start(database: "db", applicationName: "app") else {
            Issue.record()
            return
        }
        let text = String(decoding: startup, as: UTF8.self)
        #expect(
            text.contains("replication\0database\0") && text.contains("user\0runnel\0")
                && text.contains("database\0db\0"))
        let c = Self.connected()
        #expect(c.isReady && c.parameters["server_version"] == "15.8")
    }

    @Test
    func cleartextAndMD5() {
        var m = ReplicationStateMachine(user: "alice", password: "secret")
        _ = m.start(database: "db", applicationName: "app")
        #expect(m.receive(Self.auth(3), now: Self.now) == .write(FrontendMessage.password("secret")))
        var m5 = ReplicationStateMachine(user: "alice", password: "secret")
        _ = m5.start(database: "db", applicationName: "app")
        // md5(md5("secretalice") + salt), as libpq computes it (checked with Python's hashlib).
        #expect(
            m5.receive(Self.auth(5, [1, 2, 3, 4]), now: Self.now)
                == .write(FrontendMessage.password("md598a0412b9c31436fc53776e863350083")))
    }

    @Test
    func missingPasswordOrMethodFailsAsAuthentication() {
        for request in [Self.auth(3), Self.auth(5, [1, 2, 3, 4]), Self.auth(7)] {
            var m = ReplicationStateMachine(user: "alice", password: request.payload[3] == 7 ? "x" : nil)
            _ = m.start(database: "db", applicationName: "app")
            guard case .fail(let error) = m.receive(request, now: Self.now) else {
                Issue.record("no failure")
                continue
            }
            #expect(error.code == .authentication)
        }
        var m = ReplicationStateMachine(user: "alice", password: "wrong")
        _ = m.start(database: "db", applicationName: "app")
        let refused = Self.message("E") {
            $0.tag("S")
            $0.cString("FATAL")
            $0.tag("C")
            $0.cString("28P01")
            $0.tag("M")
            $0.cString("password authentication failed for user \"alice\"")
            $0.bytes.append(0)
        }
        guard case .fail(let error) = m.receive(refused, now: Self.now) else {
            Issue.record()
            return
        }
        #expect(error.code == .authentication && error.sqlState == "28P01")
        #expect(!error.description.contains("wrong"))
    }

    /// RFC 7677's SCRAM-SHA-256 example (user "user", password "pencil").
    @Test
    func scramTestVector() throws {
        var scram = SCRAMSHA256(password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO", username: "user")
        #expect(String(decoding: scram.clientFirst, as: UTF8.self) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let final = try scram.clientFinal(
            serverFirst: Array(
                "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".utf8))
        #expect(
            String(decoding: final, as: UTF8.self)
                == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        )
        try scram.verify(serverFinal: Array("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8))
        #expect(throws: ReplicationError.self) {
            try scram.verify(serverFinal: Array("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8))
        }
    }

    @Test
    func scramExchangeRejectsAForgedServer() {
        var m = ReplicationStateMachine(user: "alice", password: "secret", scramNonce: "abc")
        _ = m.start(database: "db", applicationName: "app")
        var mechanisms = ByteWriter()
        mechanisms.cString("SCRAM-SHA-256-PLUS")
        mechanisms.cString("SCRAM-SHA-256")
        mechanisms.bytes.append(0)
        #expect(
            m.receive(Self.auth(10, mechanisms.bytes), now: Self.now)
                == .write(
                    FrontendMessage.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: Array("n,,n=,r=abc".utf8))))
        // A server nonce that does not extend ours is refused.
        var bad = m
        guard case .fail(let e1) = bad.receive(Self.auth(11, Array("r=xyz,s=QUJD,i=4096".utf8)), now: Self.now) else {
            Issue.record()
            return
        }
        #expect(e1.code == .authentication)
        guard case .write = m.receive(Self.auth(11, Array("r=abcdef,s=QUJD,i=4096".utf8)), now: Self.now) else {
            Issue.record()
            return
        }
        guard case .fail(let e2) = m.receive(Self.auth(12, Array("v=AAAA".utf8)), now: Self.now) else {
            Issue.record()
            return
        }
        #expect(e2.code == .authentication)
    }

    @Test
    func queryRowsAndErrors() {
        var m = Self.connected()
        #expect(m.query("IDENTIFY_SYSTEM") == .write(FrontendMessage.query("IDENTIFY_SYSTEM")))
        _ = m.receive(
            Self.message("T") {
                $0.u16(2)
                for name in ["systemid", "xlogpos"] {
                    $0.cString(name)
                    $0.bytes += [UInt8](repeating: 0, count: 18)
                }
            }, now: Self.now)
        _ = m.receive(
            Self.message("D") {
                $0.u16(2)
                $0.u32(3)
                $0.bytes += Array("123".utf8)
                $0.u32(UInt32(bitPattern: -1))
            }, now: Self.now)
        _ = m.receive(Self.message("C") { $0.cString("IDENTIFY_SYSTEM") }, now: Self.now)
        guard case .queryCompleted(let result) = m.receive(Self.ready, now: Self.now) else {
            Issue.record()
            return
        }
        #expect(
            result.first("systemid") == "123" && result.rows == [["123", nil]] && result.commandTag == "IDENTIFY_SYSTEM"
        )

        _ = m.query("DROP_REPLICATION_SLOT nope")
        _ = m.receive(
            Self.message("E") {
                $0.tag("C")
                $0.cString("42704")
                $0.tag("M")
                $0.cString("no slot")
                $0.bytes.append(0)
            }, now: Self.now)
        guard case .queryFailed(let error) = m.receive(Self.ready, now: Self.now) else {
            Issue.record()
            return
        }
        #expect(error.code == .server && error.sqlState == "42704" && m.isReady)
    }

    @Test
    func streamKeepalivesAndConfirmations() throws {
        var m = Self.connected()
        _ = m.startReplication("START_REPLICATION …", startLSN: LSN(0x100))
        #expect(
            m.receive(
                Self.message("W") {
                    $0.bytes.append(0)
                    $0.u16(0)
                }, now: Self.now) == .replicationStarted)

        let insert = PgOutputMessage.insert(.init(relationOID: 1, new: [.null])).encoded()
        let xlog = Self.message("d") {
            $0.tag("w")
            $0.u64(0x200)
            $0.u64(0x300)
            $0.i64(9)
            $0.bytes += insert
        }
        guard case .walData(let data) = m.receive(xlog, now: Self.now) else {
            Issue.record()
            return
        }
        #expect(data.start == LSN(0x200) && data.data == insert && m.received == LSN(0x200))

        // A keepalive without a reply request: nothing to write. With one: the status update
        // carries the confirmed position (still the start), not what was merely received.
        let quiet = Self.message("d") {
            $0.tag("k")
            $0.u64(0x300)
            $0.i64(10)
            $0.bytes.append(0)
        }
        #expect(
            m.receive(quiet, now: Self.now)
                == .keepalive(
                    .init(walEnd: LSN(0x300), sendTime: .init(microsecondsSince2000: 10), replyRequested: false),
                    reply: nil))
        let ping = Self.message("d") {
            $0.tag("k")
            $0.u64(0x400)
            $0.i64(11)
            $0.bytes.append(1)
        }
        guard case .keepalive(_, let reply?) = m.receive(ping, now: Self.now) else {
            Issue.record()
            return
        }
        let status = try #require(try? ReplicationStreamStatus(reply))
        #expect(status.flushed == LSN(0x100) && status.written == LSN(0x400))

        // Confirmations only move forward.
        guard case .write(let confirm) = m.confirm(LSN(0x250), now: Self.now) else {
            Issue.record()
            return
        }
        #expect(try ReplicationStreamStatus(confirm).flushed == LSN(0x250))
        guard case .write(let back) = m.confirm(LSN(0x150), now: Self.now) else {
            Issue.record()
            return
        }
        #expect(try ReplicationStreamStatus(back).flushed == LSN(0x250))

        // Our CopyDone; data in flight is dropped; the server's CopyDone, CommandComplete, ReadyForQuery.
        #expect(m.stopReplication() == .write(FrontendMessage.copyDone()))
        #expect(m.receive(xlog, now: Self.now) == .wait)
        #expect(m.receive(Self.message("c"), now: Self.now) == .wait)
        #expect(m.receive(Self.message("C") { $0.cString("COPY 0") }, now: Self.now) == .wait)
        #expect(m.receive(Self.ready, now: Self.now) == .replicationEnded)
        #expect(m.isReady)
        #expect(m.confirm(LSN(0x999), now: Self.now) == .wait)
    }

    @Test
    func startReplicationOnAMissingSlotFailsTheCommandOnly() {
        var m = Self.connected()
        _ = m.startReplication("START_REPLICATION SLOT gone …", startLSN: .zero)
        _ = m.receive(
            Self.message("E") {
                $0.tag("C")
                $0.cString("42704")
                $0.tag("M")
                $0.cString("replication slot \"gone\" does not exist")
                $0.bytes.append(0)
            }, now: Self.now)
        guard case .queryFailed(let error) = m.receive(Self.ready, now: Self.now) else {
            Issue.record()
            return
        }
        #expect(error.sqlState == "42704" && m.isReady)
    }

    @Test
    func aCommandCompleteEndsTheStream() {
        var m = Self.connected()
        _ = m.startReplication("START_REPLICATION …", startLSN: .zero)
        _ = m.receive(
            Self.message("W") {
                $0.bytes.append(0)
                $0.u16(0)
            }, now: Self.now)
        #expect(m.receive(Self.message("C") { $0.cString("START_REPLICATION") }, now: Self.now) == .wait)
        #expect(m.receive(Self.ready, now: Self.now) == .replicationEnded)
        #expect(m.isReady && m.hasStreamed)
    }

    @Test
    func garbageFailsTheConnection() {
        var m = Self.connected()
        _ = m.startReplication("START_REPLICATION …", startLSN: .zero)
        _ = m.receive(
            Self.message("W") {
                $0.bytes.append(0)
                $0.u16(0)
            }, now: Self.now)
        guard
            case .fail(let error) = m.receive(
                Self.message("d") {
                    $0.tag("k")
                    $0.u64(1)
                }, now: Self.now)
        else {
            Issue.record()
            return
        }
        #expect(error.code == .protocolViolation)
        guard case .fail = m.query("SELECT 1") else {
            Issue.record()
            return
        }
    }
}

/// A standby status update read back, for the assertions.
struct ReplicationStreamStatus {
    var written: LSN
    var flushed: LSN

    init(_ frame: [UInt8]) throws {
        // 'd', Int32 length, then 'r' and the positions.
        let message = BackendMessage(type: frame[0], payload: Array(frame[5...]))
        let (w, f) = try message.withReader { r throws(PgOutputError) in
            _ = try r.uint8("r")
            return (try r.lsn("written"), try r.lsn("flushed"))
        }
        written = w
        flushed = f
    }
}
