public import ArgumentParser
import RunnelCore

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a root command with Runnel's exit codes: usage errors exit 2 (not ArgumentParser's 64),
/// `RunnelError`s exit with their code's number, help and version exit 0.
public enum CommandEntry {
    public static func main(_ root: any AsyncParsableCommand.Type, arguments: [String]? = nil) async -> Never {
        HTTPEndpoints.bootstrapMetrics()
        do {
            var command = try root.parseAsRoot(arguments)
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch let e as RunnelError {
            StandardError.clearProgressLine()
            StandardError.write(Array("error: \(e.description)\n".utf8))
            exit(e.code.exitCode)
        } catch let e as ExitCode {
            exit(e.rawValue)
        } catch {
            let code = root.exitCode(for: error)
            let message = root.fullMessage(for: error)
            if code == .success {
                print(message)
                exit(0)
            }
            StandardError.write(Array((message + "\n").utf8))
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
