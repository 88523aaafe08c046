public import Foundation

/// Throwaway certificates for TLS tests, made with the `openssl` command in `dir`: a CA
/// (`ca.pem`, `ca.key`), a server certificate it signed for `serverNames` (subjectAltName
/// entries; default 127.0.0.1 and localhost) (`server.pem`, `server.key`), a client certificate it signed (`client.pem`, `client.key`),
/// and an unrelated CA (`other-ca.pem`) for the "wrong CA" cases. Valid for two days.
public enum TestCertificates {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func make(in dir: String, serverNames: [String] = ["IP:127.0.0.1", "DNS:localhost"]) throws {
        func openssl(_ arguments: [String]) throws {
            let out = try CommandRunner.run("/usr/bin/env", ["openssl"] + arguments, directory: dir)
            guard out.exitCode == 0 else {
                throw Failure(description: "openssl \(arguments.joined(separator: " ")): exit \(out.exitCode): \(out.stderr)")
            }
        }
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for (name, subject) in [("ca", "/CN=runnel-test-ca"), ("other-ca", "/CN=runnel-other-ca")] {
            try openssl(
                ["req", "-x509"] + key + [
                    "-keyout", "\(name).key", "-out", "\(name).pem", "-days", "2", "-subj", subject,
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                ])
        }
        try "subjectAltName=\(serverNames.joined(separator: ","))\nextendedKeyUsage=serverAuth\n".write(
            toFile: dir + "/server.ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: dir + "/client.ext", atomically: true, encoding: .utf8)
        for (serial, name, subject) in [("2", "server", "/CN=127.0.0.1"), ("3", "client", "/CN=runnel-test-client")] {
            try openssl(["req", "-new"] + key + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject])
            try openssl([
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", serial,
                "-days", "2", "-extfile", "\(name).ext", "-out", "\(name).pem",
            ])
        }
    }
}
