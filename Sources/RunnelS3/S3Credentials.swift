import AsyncHTTPClient
import NIOCore
import NIOHTTP1
public import RunnelCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where S3 requests get their keys: fixed keys (from the spec's `${AWS_…}` values or the
/// environment), or the pod's web identity, exchanged with STS `AssumeRoleWithWebIdentity`
/// for temporary keys that are renewed before they expire (EKS IRSA passes
/// `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN` to every container of a service account).
public final class S3Credentials: Sendable {
    /// How to obtain the keys.
    public struct Source: Sendable, Hashable {
        enum Kind: Sendable, Hashable {
            case fixed(SigV4.Credentials)
            case webIdentity(tokenFile: String, roleARN: String, sessionName: String, stsEndpoint: String, region: String)
        }
        let kind: Kind

        public static func fixed(_ credentials: SigV4.Credentials) -> Source { Source(kind: .fixed(credentials)) }

        /// - Parameters:
        ///   - stsEndpoint: default `https://sts.REGION.amazonaws.com`.
        public static func webIdentity(
            tokenFile: String, roleARN: String, sessionName: String, stsEndpoint: String? = nil, region: String
        ) -> Source {
            Source(
                kind: .webIdentity(
                    tokenFile: tokenFile, roleARN: roleARN, sessionName: sessionName,
                    stsEndpoint: stsEndpoint ?? "https://sts.\(region).amazonaws.com", region: region))
        }
    }

    public let source: Source
    private let cache = Mutex<(credentials: SigV4.Credentials, expires: Timestamp)?>(nil)

    public init(_ source: Source) { self.source = source }

    /// The credentials the environment names: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`
    /// (+ `AWS_SESSION_TOKEN`), else `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`
    /// (+ `AWS_ROLE_SESSION_NAME`; STS at `AWS_ENDPOINT_URL_STS` when set); nil when neither is there.
    public static func fromEnvironment(_ env: [String: String], region: String) -> S3Credentials? {
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let id = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") {
            return S3Credentials(
                .fixed(SigV4.Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))))
        }
        if let file = value("AWS_WEB_IDENTITY_TOKEN_FILE"), let role = value("AWS_ROLE_ARN") {
            let session = value("AWS_ROLE_SESSION_NAME") ?? "runnel-\(getpid())"
            return S3Credentials(
                .webIdentity(tokenFile: file, roleARN: role, sessionName: session, stsEndpoint: value("AWS_ENDPOINT_URL_STS"), region: region))
        }
        return nil
    }

    /// Names where the keys came from, for error messages. Never a secret.
    public var origin: String {
        switch source.kind {
        case .fixed: "access key"
        case .webIdentity(_, let role, _, _, _): "web identity, role \(role)"
        }
    }

    /// Keys valid for at least five more minutes.
    public func current() async throws(RunnelError) -> SigV4.Credentials {
        switch source.kind {
        case .fixed(let c):
            return c
        case .webIdentity(let file, let role, let session, let endpoint, let region):
            let now = Timestamp.now
            if let cached = cache.withLock({ $0 }), cached.expires.microseconds - now.microseconds > 300_000_000 {
                return cached.credentials
            }
            let fresh = try await assumeRole(tokenFile: file, roleARN: role, sessionName: session, endpoint: endpoint, region: region)
            cache.withLock { $0 = fresh }
            return fresh.credentials
        }
    }

    /// STS `AssumeRoleWithWebIdentity`: an unsigned POST carrying the projected token.
    private func assumeRole(tokenFile: String, roleARN: String, sessionName: String, endpoint: String, region: String)
        async throws(RunnelError) -> (credentials: SigV4.Credentials, expires: Timestamp)
    {
        // The kubelet rotates the projected token file; read it at every exchange.
        guard let tokenBytes = LocalFile.read(tokenFile) else {
            throw RunnelError.config("cannot read the web identity token file '\(tokenFile)' (AWS_WEB_IDENTITY_TOKEN_FILE)")
        }
        let token = String(decoding: tokenBytes, as: UTF8.self).trimmingSpaces.trimmingCharacters(in: "\n\r")
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
            ("RoleSessionName", sessionName), ("WebIdentityToken", token),
        ].map { "\(SigV4.encode($0.0, keepSlash: false))=\(SigV4.encode($0.1, keepSlash: false))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: endpoint.hasSuffix("/") ? endpoint : endpoint + "/")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: form))
        let operation = "STS AssumeRoleWithWebIdentity for \(roleARN) at \(endpoint)"
        let status: Int
        let text: Substring
        do {
            let response = try await S3HTTP.client.execute(request, timeout: .seconds(30))
            status = Int(response.status.code)
            let body = try await response.body.collect(upTo: 1 << 20)
            text = Substring(String(buffer: body))
        } catch {
            throw RunnelError.transient("\(operation): cannot reach STS: \(error)", underlying: error)
        }
        guard status == 200 else {
            let code = S3XML.text("Code", in: text) ?? "HTTP \(status)"
            let message = S3XML.text("Message", in: text) ?? ""
            if status >= 500 || status == 429 || code == "IDPCommunicationError" {
                throw RunnelError.transient("\(operation): \(status) \(code) \(message)")
            }
            throw RunnelError.config("\(operation): refused (\(status) \(code)\(message.isEmpty ? "" : ": \(message)"))")
        }
        guard let id = S3XML.text("AccessKeyId", in: text), let secret = S3XML.text("SecretAccessKey", in: text) else {
            throw RunnelError.failure("\(operation): the answer holds no credentials")
        }
        let expires = S3XML.text("Expiration", in: text).flatMap { TimestampFormat.iso8601.parse($0) }
            ?? Timestamp(microseconds: Timestamp.now.microseconds + 900_000_000)
        return (SigV4.Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: S3XML.text("SessionToken", in: text)), expires)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let l = s.last, set.contains(l) { s.removeLast() }
        while let f = s.first, set.contains(f) { s.removeFirst() }
        return String(s)
    }
}

