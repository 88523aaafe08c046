import RunnelRuntime

#if canImport(Glibc)
    import Glibc
#endif

// One binary for the image: it is `runnel-batch` or `runnel-stream` by the name it is called
// with (the image links both names to it), or `runnel batch …` / `runnel stream …`. Two fully
// static Swift binaries would carry the same runtime, Foundation and NIO twice (110 MB each).

let arguments = Array(CommandLine.arguments.dropFirst())
let name = CommandLine.arguments.first?.split(separator: "/").last.map(String.init) ?? "runnel"
switch (name, arguments.first) {
case ("runnel-stream", _):
    await CommandEntry.main(RunnelStream.self, arguments: arguments)
case ("runnel-batch", _):
    await CommandEntry.main(RunnelBatch.self, arguments: arguments)
case (_, "stream"?):
    await CommandEntry.main(RunnelStream.self, arguments: Array(arguments.dropFirst()))
case (_, "batch"?):
    await CommandEntry.main(RunnelBatch.self, arguments: Array(arguments.dropFirst()))
default:
    print(
        """
        usage: runnel batch …   (the same as runnel-batch …)
               runnel stream …  (the same as runnel-stream …)
        """)
    exit(arguments.isEmpty || arguments.first == "--help" || arguments.first == "-h" ? 0 : 2)
}
