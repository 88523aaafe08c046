import Foundation
import RunnelTesting
import Synchronization
import Testing

/// nginx (Debian's, unpacked by scripts/test) serving pages over HTTPS with HTTP/2 and gzip: a
/// real web server's TLS, ALPN and compression rather than the Python test server's HTTP/1.1.
final class NginxServer: @unchecked Sendable {
    // @unchecked: the process and paths are set once.
    let dir: String
    let port: Int
    private let running: CommandRunner.Running

    static var binary: String {
        ProcessInfo.processInfo.environment["RUNNEL_TEST_NGINX"] ?? "/usr/sbin/nginx"
    }

    /// Serves `pages` (path → body) from a fresh folder with a certificate for 127.0.0.1 signed
    /// by a throwaway CA (`ca.pem` in `dir`, `TestCertificates`).
    init(pages: [String: String]) throws {
        dir = try CommandRunner.temporaryDirectory("runnel-nginx")
        for (path, body) in pages {
            let file = dir + "/www" + path
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try body.write(toFile: file, atomically: true, encoding: .utf8)
        }
        try TestCertificates.make(in: dir)
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        port = nextPort.add(1, ordering: .relaxed).oldValue
        // One process (no workers, so it runs as whoever runs the test), in the foreground.
        let conf = """
            daemon off;
            master_process off;
            pid \(dir)/nginx.pid;
            error_log \(dir)/error.log warn;
            events {}
            http {
                types { application/json json; }
                log_format runnel '$request_uri $server_protocol $status $sent_http_content_encoding';
                access_log \(dir)/access.log runnel;
                client_body_temp_path \(dir)/tmp/body;
                proxy_temp_path \(dir)/tmp/proxy;
                fastcgi_temp_path \(dir)/tmp/fastcgi;
                uwsgi_temp_path \(dir)/tmp/uwsgi;
                scgi_temp_path \(dir)/tmp/scgi;
                gzip on;
                gzip_types application/json;
                gzip_min_length 0;
                server {
                    listen 127.0.0.1:\(port) ssl http2;
                    ssl_certificate \(dir)/server.pem;
                    ssl_certificate_key \(dir)/server.key;
                    root \(dir)/www;
                }
            }
            """
        try conf.write(toFile: dir + "/nginx.conf", atomically: true, encoding: .utf8)
        running = try CommandRunner.start(Self.binary, ["-p", dir, "-c", dir + "/nginx.conf", "-e", dir + "/error.log"])
        // Listening once a TLS request is answered; nginx exits at once on a bad config or a taken port.
        let deadline = ContinuousClock.now + .seconds(10)
        while (try? CommandRunner.run("/usr/bin/curl", ["-sf", "--cacert", dir + "/ca.pem", base + "/"]).exitCode) != 22 {
            guard running.process.isRunning, ContinuousClock.now < deadline else {
                let log = (try? String(contentsOfFile: dir + "/error.log", encoding: .utf8)) ?? ""
                stop()
                throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "nginx did not start: \(log)"])
            }
            usleep(50_000)
        }
    }

    var base: String { "https://127.0.0.1:\(port)" }

    func stop() {
        running.kill(SIGKILL)
        _ = running.wait()
    }

    /// `(uri, protocol, status, content encoding)` of every request served but the start-up probe's.
    func requests() throws -> [[String]] {
        try String(contentsOfFile: dir + "/access.log", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: " ").map(String.init) }.filter { $0.first != "/" }
    }
}

@Suite struct HTTPSTests {
    static let pages = 12
    static let perPage = 40

    /// `/items/1.json` … each with `perPage` records and a relative link to the next page.
    static var site: [String: String] {
        var pages: [String: String] = [:]
        for p in 1...Self.pages {
            let records = (1...perPage).map { i -> String in
                let id = (p - 1) * perPage + i
                return #"{"id": \#(id), "name": "item-\#(id)", "note": "\#(String(repeating: "compressible ", count: 8))"}"#
            }
            let next = p < Self.pages ? "\"/items/\(p + 1).json\"" : "null"
            pages["/items/\(p).json"] = #"{"data": [\#(records.joined(separator: ","))], "links": {"next": \#(next)}}"#
        }
        return pages
    }

    func spec(_ server: NginxServer, tls: String) throws -> String {
        let dir = try CommandRunner.temporaryDirectory("runnel-https")
        try """
        pipeline: https-e2e
        extract:
          type: http
          url: \(server.base)/items/1.json
          records: data
          pagination: {type: next_url, field: links.next}
          retry: {max_attempts: 2, base_delay: 10ms}
        \(tls)
        load: {type: sqlite, path: out/items.db, table: items, key: [id]}
        dead_letter: {type: sqlite}
        """.write(toFile: dir + "/pipeline.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func pagesComeOverHTTP2WithTLSAndGzipAndLoadExactly() throws {
        let server = try NginxServer(pages: Self.site)
        defer { server.stop() }
        let dir = try spec(server, tls: "  tls: {ca: \(server.dir)/ca.pem}")
        let run = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--no-progress"])
        #expect(run.exitCode == 0, "\(run.stderr)")
        let total = Self.pages * Self.perPage
        #expect(try dump(dir + "/out/items.db", "SELECT count(*), count(DISTINCT id), min(id), max(id) FROM items")
            == [[String(total), String(total), "1", String(total)]])
        #expect(try dump(dir + "/out/items.db", "SELECT name FROM items WHERE id = 77") == [["item-77"]])
        // Every page once, over HTTP/2, gzip-compressed by the server.
        let served = try server.requests()
        #expect(served.count == Self.pages)
        #expect(served.allSatisfy { $0.count == 4 && $0[1] == "HTTP/2.0" && $0[2] == "200" && $0[3] == "gzip" }, "\(served)")
    }

    @Test func aServerCertificateFromAnUnknownCAIsAConfigErrorNamingTheSetting() throws {
        let server = try NginxServer(pages: Self.site)
        defer { server.stop() }
        let dir = try spec(server, tls: "")
        let run = try CommandRunner.run(batchBinary, ["run", dir + "/pipeline.yaml", "--no-progress"])
        #expect(run.exitCode == 2, "\(run.stderr)")
        #expect(run.stderr.contains("\(server.base)/items/1.json"), "\(run.stderr)")
        #expect(run.stderr.contains("tls.ca"), "\(run.stderr)")
        // Not retried: one handshake, no request served.
        #expect(try server.requests().isEmpty)
    }

    @Test func aMissingCAFileIsASpecProblemAtValidate() throws {
        let server = try NginxServer(pages: [:])
        defer { server.stop() }
        let dir = try spec(server, tls: "  tls: {ca: no-such-ca.pem}")
        let run = try CommandRunner.run(batchBinary, ["validate", dir + "/pipeline.yaml"])
        #expect(run.exitCode == 2)
        #expect((run.stdout + run.stderr).contains("pipeline.yaml:8"), "\(run.stdout + run.stderr)")
        #expect((run.stdout + run.stderr).contains("no-such-ca.pem"), "\(run.stdout + run.stderr)")
    }
}
