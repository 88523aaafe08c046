import NIOSSL
public import RunnelCore

/// `tls:` of an `http` section: the CA that signs the server's certificate (an internal API's
/// private CA) and, for mutual TLS, the client's certificate and key. The server's certificate
/// and host name are always verified; without `ca` the system's roots are used.
public struct HTTPTLS: Sendable, Hashable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// Reads the files now, so that a missing or unreadable one is a problem `validate` reports
    /// (naming the setting), not a handshake failure later.
    func configuration() throws(RunnelError) -> TLSConfiguration {
        var c = TLSConfiguration.makeClientConfiguration()
        do {
            if let caFile {
                c.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            }
        } catch {
            throw RunnelError.config("tls.ca: cannot read the certificates in \(caFile ?? ""): \(error)")
        }
        if let certificateFile, let keyFile {
            do {
                c.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            } catch {
                throw RunnelError.config("tls.cert: cannot read the certificate in \(certificateFile): \(error)")
            }
            do {
                c.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            } catch {
                throw RunnelError.config("tls.key: cannot read the private key in \(keyFile): \(error)")
            }
        }
        return c
    }
}
