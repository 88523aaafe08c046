import Dispatch
import RunnelCore

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 client for `http://` URLs over a POSIX socket: one request per connection
/// (`Connection: close`), for the metrics push and the trace export (Tracing trait).
///
/// Why not async-http-client or NIO: the push is a handful of small PUTs per run, and the
/// quickstart build (no traits) must not pull in SwiftNIO for it. Inside a cluster the
/// Pushgateway is reached through its Service on plain HTTP, so TLS is left out on purpose.
/// The blocking socket calls run on a Dispatch thread, never on Swift's cooperative pool
/// (two threads on a 2-core pod: a slow gateway must not stall the pipeline).
struct PlainHTTPClient: Sendable {
    struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        var host: String
        var port: Int
        /// The path prefix, without a trailing `/` ("" for none).
        var basePath: String

        /// Parses `http://host[:port][/prefix]`; nil for anything else (https included).
        init?(url: String) {
            guard url.hasPrefix("http://") else { return nil }
            var rest = Substring(url.dropFirst("http://".count))
            var path = ""
            if let slash = rest.firstIndex(of: "/") {
                path = String(rest[slash...])
                rest = rest[..<slash]
            }
            while path.hasSuffix("/") { path.removeLast() }
            guard !rest.isEmpty, !rest.contains("@") else { return nil }
            var host = String(rest)
            var port = 80
            if host.hasPrefix("[") {  // [::1]:9091
                guard let close = host.firstIndex(of: "]") else { return nil }
                let after = host[host.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()), (1...65_535).contains(p) else { return nil }
                    port = p
                } else if !after.isEmpty {
                    return nil
                }
                host = String(host[host.index(after: host.startIndex)..<close])
            } else if let colon = host.lastIndex(of: ":") {
                guard let p = Int(host[host.index(after: colon)...]), (1...65_535).contains(p) else { return nil }
                port = p
                host = String(host[..<colon])
            }
            guard !host.isEmpty else { return nil }
            self.host = host
            self.port = port
            self.basePath = path
        }

        var description: String {
            let h = host.contains(":") ? "[\(host)]" : host
            return "http://\(h):\(port)\(basePath)"
        }
    }

    struct Response: Sendable {
        var status: Int
        var body: String
    }

    let endpoint: Endpoint
    /// For the connection, and again for the whole exchange once connected.
    var timeout: Duration = .seconds(5)

    /// Sends one request; throws a transient `RunnelError` for any failure below HTTP.
    func send(
        method: String, path: String, body: [UInt8] = [], contentType: String? = nil, headers: [(String, String)] = []
    ) async throws -> Response {
        let endpoint = self.endpoint
        let timeout = self.timeout
        let result: Result<Response, RunnelError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    returning: Result {
                        try Self.exchange(
                            endpoint, method: method, path: endpoint.basePath + path, body: body,
                            contentType: contentType, headers: headers, timeout: timeout)
                    }.mapError { RunnelError.classify($0) })
            }
        }
        return try result.get()
    }

    /// The same exchange on the calling thread (a thread of its own, never a cooperative one).
    func sendBlocking(method: String, path: String) throws(RunnelError) -> Response {
        try Self.exchange(
            endpoint, method: method, path: endpoint.basePath + path, body: [], contentType: nil, headers: [],
            timeout: timeout)
    }

    private static func exchange(
        _ endpoint: Endpoint, method: String, path: String, body: [UInt8], contentType: String?,
        headers: [(String, String)], timeout: Duration
    ) throws(RunnelError) -> Response {
        let fd = try connect(endpoint, timeout: timeout)
        defer { close(fd) }
        let hostHeader = (endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host) + ":\(endpoint.port)"
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: runnel/\(Runnel.version)\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        // Names and values with a CR or LF would split the request: such a header is left out.
        for (name, value) in headers where !(name + value).utf8.contains(where: { $0 == 13 || $0 == 10 }) {
            head += "\(name): \(value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try writeAll(fd, Array(head.utf8) + body, what: "\(method) \(endpoint)\(path)")

        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while received.count < 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RunnelError.transient(
                    "\(method) \(endpoint)\(path): no answer within \(timeout) (\(String(cString: strerror(errno))))")
            }
            if n == 0 { break }
            received += chunk[0..<n]
        }
        // "HTTP/1.1 202 Accepted\r\n…\r\n\r\nbody"
        var headEnd = received.count
        if received.count >= 4 {
            for i in 0...(received.count - 4)
            where received[i] == 13 && received[i + 1] == 10 && received[i + 2] == 13 && received[i + 3] == 10 {
                headEnd = i
                break
            }
        }
        let text = String(decoding: received[..<headEnd], as: UTF8.self)
        let statusLine = text.prefix(while: { $0 != "\r" && $0 != "\n" })
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw RunnelError.transient("\(method) \(endpoint)\(path): not an HTTP response: \(statusLine.prefix(80))")
        }
        var body = headEnd + 4 <= received.count ? Array(received[(headEnd + 4)...]) : []
        let chunked = text.lowercased().split(separator: "\r\n").contains {
            $0.hasPrefix("transfer-encoding:") && $0.contains("chunked")
        }
        if chunked { body = dechunk(body) }
        return Response(status: status, body: String(decoding: body, as: UTF8.self))
    }

    /// The payload of a `Transfer-Encoding: chunked` body (as much of it as is well formed).
    static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            var lineEnd = i
            while lineEnd + 1 < bytes.count, !(bytes[lineEnd] == 13 && bytes[lineEnd + 1] == 10) { lineEnd += 1 }
            guard lineEnd + 1 < bytes.count else { break }
            let sizeText = String(decoding: bytes[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(String(sizeText.filter { $0 != " " && $0 != "\t" }), radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            guard start + size <= bytes.count else { break }
            out += bytes[start..<(start + size)]
            i = start + size + 2
        }
        return out
    }

    private static func connect(_ endpoint: Endpoint, timeout: Duration) throws(RunnelError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard rc == 0, let first = list else {
            throw RunnelError.transient(
                "\(endpoint): cannot resolve \(endpoint.host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let ai = next {
            next = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            if fd < 0 { continue }
            if connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen, timeout: timeout, error: &lastError) {
                // `struct timeval` on 64-bit Linux: two longs (seconds, microseconds). Spelled as a
                // tuple because timeval's initializers are not visible in every build configuration
                // (the static-stdlib release build resolves it to SwiftOverlayShims under
                // MemberImportVisibility).
                var tv: (Int, Int) = (Int(timeout.components.seconds), Int(timeout.components.attoseconds / 1_000_000_000_000))
                _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<(Int, Int)>.size))
                _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<(Int, Int)>.size))
                return fd
            }
            close(fd)
        }
        throw RunnelError.transient("\(endpoint): cannot connect: \(lastError)")
    }

    /// A connect bounded by `timeout` (a blocking connect to a dropped SYN waits minutes).
    private static func connect(
        _ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t, timeout: Duration,
        error: inout String
    ) -> Bool {
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        if Glibc.connect(fd, address, length) == 0 { return true }
        guard errno == EINPROGRESS else {
            error = String(cString: strerror(errno))
            return false
        }
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ms = Int32(
            clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let ready = poll(&p, 1, ms)
        guard ready > 0 else {
            error = ready == 0 ? "timed out after \(timeout)" : String(cString: strerror(errno))
            return false
        }
        var soError: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
        guard soError == 0 else {
            error = String(cString: strerror(soError))
            return false
        }
        return true
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws(RunnelError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw RunnelError.transient("\(what): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }
}
