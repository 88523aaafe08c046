public import Logging
import RunnelCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One JSON object per log line on stderr: `{"time":…,"level":…,"message":…,"pipeline":…}`.
///
/// Metadata keys drop their `runnel.` namespace in the output (`pipeline`, `run_id`, `batch`,
/// `consumer`), so log queries read the same in both binaries.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var o = Object()
        o.set("time", .timestamp(.now))
        o.set("level", .string(event.level.rawValue))
        o.set("message", .string(event.message.description))
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() {
            let name = key.hasPrefix("runnel.") ? String(key.dropFirst(7)) : key
            o.set(name, Self.value(merged[key]!))
        }
        var bytes: [UInt8] = []
        JSONText.write(.object(o), into: &bytes)
        bytes.append(0x0A)
        StandardError.write(bytes)
    }

    static func value(_ m: Logger.Metadata.Value) -> Value {
        switch m {
        case .string(let s):
            if let i = Int64(s) { return .int(i) }
            return .string(s)
        case .stringConvertible(let c): return .string(c.description)
        case .array(let a): return .array(a.map(value))
        case .dictionary(let d): return .object(Object(keys: Array(d.keys.sorted()), values: d.keys.sorted().map { value(d[$0]!) }))
        }
    }
}

/// Plain `level: message key=value` lines on stderr, for people at a terminal.
public struct TerminalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public init(level: Logger.Level) { logLevel = level }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let extras = merged.keys.sorted().filter { $0 != "runnel.pipeline" && $0 != "runnel.run_id" && $0 != "runnel.mode" }
            .map { "\($0.hasPrefix("runnel.") ? String($0.dropFirst(7)) : $0)=\(merged[$0]!)" }
        let line = "\(event.level.rawValue): \(event.message)" + (extras.isEmpty ? "" : " " + extras.joined(separator: " "))
        StandardError.clearProgressLine()
        StandardError.write(Array((line + "\n").utf8))
    }
}

/// Writes to stderr, sharing the line with the live progress display.
public enum StandardError {
    nonisolated(unsafe) private static var progressShown = false

    public static func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(2, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { break }
                done += n
            }
        }
    }

    /// Replaces the progress line (terminal only).
    public static func progress(_ text: String) {
        progressShown = true
        write(Array(("\r\u{1B}[2K" + text).utf8))
    }

    public static func clearProgressLine() {
        if progressShown {
            write(Array("\r\u{1B}[2K".utf8))
            progressShown = false
        }
    }

    public static var isTerminal: Bool { isatty(2) == 1 }
}

/// Sets up swift-log once per process: terminal lines when stderr is a terminal, JSON otherwise.
///
/// swift-log traps on a second `LoggingSystem.bootstrap`, so every caller goes through here and
/// only the first call takes effect (a command that handles several specs, such as `test FOLDER`,
/// may reach it once per spec).
public enum LoggingSetup {
    private static let done = Mutex(false)

    public static func bootstrap(level: Logger.Level, json: Bool? = nil) {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        let useJSON = json ?? !StandardError.isTerminal
        LoggingSystem.bootstrap { label in
            useJSON ? JSONLogHandler(label: label, level: level) as any LogHandler : TerminalLogHandler(level: level)
        }
    }
}
