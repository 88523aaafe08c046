public import Foundation
import RunnelCore

/// Runs the built binaries from end-to-end tests: the tests look for `runnel-batch` next to
/// the test bundle (SwiftPM builds every product into the same folder).
public enum CommandRunner {
    public struct Output: Sendable {
        public var exitCode: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The path of a built executable, next to the running test binary.
    public static func binary(_ name: String) -> String {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        // Inside `X.xctest` bundles on some platforms the binary sits deeper.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent(name).path
    }

    /// Runs to completion and returns exit code and output.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil
    ) throws -> Output {
        let p = try start(executable, arguments, environment: environment, directory: directory)
        // Both pipes are drained at once: reading one to its end first would deadlock a child
        // that fills the other pipe's buffer (64 KiB) meanwhile.
        let errBox = Locked(Data())
        let drained = DispatchGroup()
        drained.enter()
        DispatchQueue.global().async {
            let data = p.stderrPipe.fileHandleForReading.readDataToEndOfFile()
            errBox.withLock { $0 = data }
            drained.leave()
        }
        let out = p.stdoutPipe.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        let err = errBox.value
        p.process.waitUntilExit()
        return Output(
            exitCode: p.process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self))
    }

    /// A process handed to the deadline's timer, weakly: the timer must not keep a finished
    /// process (and its pipes' descriptors) alive for the whole deadline. Process is thread-safe
    /// but not marked Sendable.
    private final class Watched: @unchecked Sendable {
        weak var process: Process?
        init(process: Process) { self.process = process }
    }

    public final class Running: @unchecked Sendable {
        // @unchecked: Process and Pipe are thread-safe Foundation objects; the fields never change.
        public let process: Process
        public let stdoutPipe: Pipe
        public let stderrPipe: Pipe
        init(process: Process, stdoutPipe: Pipe, stderrPipe: Pipe) {
            self.process = process
            self.stdoutPipe = stdoutPipe
            self.stderrPipe = stderrPipe
        }

        public func kill(_ signal: Int32) { Foundation.kill(process.processIdentifier, signal) }

        /// Waits for exit; returns the exit code (128 + n for a signal n).
        public func wait() -> Int32 {
            process.waitUntilExit()
            return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        }
    }

    /// Starts a process without waiting (for kill tests).
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil
    ) throws -> Running {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        watch(p, arguments: arguments)
        return Running(process: p, stdoutPipe: out, stderrPipe: err)
    }

    /// How long a started binary may live: `RUNNEL_TEST_PROCESS_DEADLINE` seconds, 600 by default.
    /// No test runs a binary for so long; one still running then is hung (a drain that never
    /// ends, a connect retried forever), and is killed so that its test fails with exit 137
    /// instead of holding up the whole suite until CI's own limit.
    static let processDeadline: Double =
        Double(ProcessInfo.processInfo.environment["RUNNEL_TEST_PROCESS_DEADLINE"] ?? "") ?? 600

    private static func watch(_ p: Process, arguments: [String]) {
        let pid = p.processIdentifier
        let watched = Watched(process: p)
        DispatchQueue.global().asyncAfter(deadline: .now() + processDeadline) {
            guard let process = watched.process, process.isRunning else { return }
            FileHandle.standardError.write(
                Data("CommandRunner: killing \(arguments.first ?? "?") (pid \(pid)) after \(Int(processDeadline)) s\n".utf8))
            Foundation.kill(pid, SIGKILL)
        }
    }

    /// A fresh temporary directory.
    public static func temporaryDirectory(_ prefix: String = "runnel-test") throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }
}
