import Crypto
public import RunnelCore

/// AWS Signature Version 4 for requests signed in the `Authorization` header.
///
/// The signer is a pure function of the request, the credentials, the region, the service and
/// the time, so that it can be checked against AWS's published examples. The S3 client sends
/// exactly the path and query this signer encodes (`SigV4.encode`), so the bytes on the wire and
/// the bytes signed can never differ.
///
/// S3 signs the path as sent (encoded once, never normalized); the generic services' double
/// encoding and dot-segment normalization are not implemented, because nothing here calls them
/// with a path (STS is called at `/`).
public enum SigV4 {
    /// What a request is signed with.
    public struct Credentials: Sendable, Hashable {
        public var accessKeyID: String
        public var secretAccessKey: String
        /// Present for temporary credentials (STS, web identity); sent as `x-amz-security-token`.
        public var sessionToken: String?

        public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }
    }

    /// The parts of a request that are signed.
    public struct Request: Sendable {
        public var method: String
        /// `host` or `host:port`, as sent in the Host header.
        public var host: String
        /// The path, not yet percent-encoded (`/bucket/a b.csv`).
        public var path: String
        /// Query parameters, not yet encoded; a parameter without a value has an empty value.
        public var query: [(String, String)]
        /// Headers to sign besides `host` (and the `x-amz-*` headers the signer adds).
        public var headers: [(String, String)]
        /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
        public var payloadHash: String

        public init(
            method: String, host: String, path: String, query: [(String, String)] = [],
            headers: [(String, String)] = [], payloadHash: String = SigV4.emptyPayloadHash
        ) {
            self.method = method
            self.host = host
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// The result: headers to send (including `Authorization`) and the intermediate texts,
    /// which tests compare with the published ones.
    public struct Signed: Sendable {
        public var headers: [(String, String)]
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        /// The encoded path and query exactly as they must be sent.
        public var encodedPath: String
        public var encodedQuery: String
    }

    /// SHA-256 of the empty string.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Signs `request`. `x-amz-date` is always added; `x-amz-content-sha256` when
    /// `addContentHash` (S3 requires it; the generic test suite does not send it); the session
    /// token when the credentials carry one.
    public static func sign(
        _ request: Request, credentials: Credentials, region: String, service: String, time: Timestamp,
        addContentHash: Bool = true
    ) -> Signed {
        let amzDate = basicISO8601(time)
        let day = String(amzDate.prefix(8))
        var headers = request.headers
        headers.append(("x-amz-date", amzDate))
        if addContentHash { headers.append(("x-amz-content-sha256", request.payloadHash)) }
        if let token = credentials.sessionToken { headers.append(("x-amz-security-token", token)) }

        // Canonical headers: lower-case names, values trimmed with inner runs of spaces folded,
        // repeated names joined by commas, sorted by name.
        var byName: [String: [String]] = ["host": [request.host]]
        for (name, value) in headers { byName[name.lowercased(), default: []].append(foldSpaces(value)) }
        let names = byName.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(byName[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")

        let encodedPath = encode(request.path, keepSlash: true)
        let encodedQuery = request.query
            .map { (encode($0.0, keepSlash: false), encode($0.1, keepSlash: false)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")

        let canonicalRequest = [
            request.method, encodedPath, encodedQuery, canonicalHeaders, signedHeaders, request.payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, hexSHA256(Array(canonicalRequest.utf8))]
            .joined(separator: "\n")
        let key = signingKey(secret: credentials.secretAccessKey, day: day, region: region, service: service)
        let signature = hex(hmac(key: key, Array(stringToSign.utf8)))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        headers.append(("Authorization", authorization))
        return Signed(
            headers: headers, canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            encodedPath: encodedPath, encodedQuery: encodedQuery)
    }

    /// The key derived from the secret for one day, region and service.
    public static func signingKey(secret: String, day: String, region: String, service: String) -> [UInt8] {
        var key = hmac(key: Array("AWS4\(secret)".utf8), Array(day.utf8))
        key = hmac(key: key, Array(region.utf8))
        key = hmac(key: key, Array(service.utf8))
        return hmac(key: key, Array("aws4_request".utf8))
    }

    /// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters stay, every other byte
    /// of the UTF-8 form becomes `%XX` (upper-case hex); `/` stays only in paths.
    public static func encode(_ text: String, keepSlash: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let digits = Array("0123456789ABCDEF".utf8)
        for b in text.utf8 {
            let unreserved =
                (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
                || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
            if unreserved || (keepSlash && b == 0x2F) {
                out.append(b)
            } else {
                out.append(0x25)
                out.append(digits[Int(b >> 4)])
                out.append(digits[Int(b & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Hex SHA-256 of `bytes`, for `x-amz-content-sha256`.
    public static func hexSHA256(_ bytes: some Collection<UInt8>) -> String {
        var hasher = Crypto.SHA256()
        hasher.update(data: Array(bytes))
        return hex(Array(hasher.finalize()))
    }

    /// `20150830T123600Z`.
    static func basicISO8601(_ t: Timestamp) -> String {
        let c = t.components
        let s = Int(c.secondOfDay)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(c.year)\(two(c.month))\(two(c.day))T\(two(s / 3600))\(two(s / 60 % 60))\(two(s % 60))Z"
    }

    private static func foldSpaces(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for ch in value.trimmingSpaces {
            if ch == " " {
                pendingSpace = true
                continue
            }
            if pendingSpace { out.append(" ") }
            pendingSpace = false
            out.append(ch)
        }
        return out
    }

    private static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<Crypto.SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    static func hex(_ bytes: [UInt8]) -> String { Hex.lowercase(bytes) }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
