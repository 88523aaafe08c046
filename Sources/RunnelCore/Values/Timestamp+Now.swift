#if canImport(Glibc)
    import Glibc
    // Where `timespec` is defined when another module in the build graph (async-http-client's
    // C shims) makes a release build resolve it there; without it MemberImportVisibility refuses it.
    #if canImport(SwiftOverlayShims)
        import SwiftOverlayShims
    #endif
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
// On Linux `struct timespec` can be owned by the toolchain's SwiftOverlayShims rather than by Glibc:
// whichever module clang loads first defines it, and in a whole-module (release) build that is the
// shim module pulled in by Synchronization. With MemberImportVisibility, `tv_sec` is then visible
// only if that module is imported too, so it is imported here where it exists.
#if canImport(SwiftOverlayShims)
    import SwiftOverlayShims
#endif

extension Timestamp {
    /// The current wall-clock time (CLOCK_REALTIME), without Foundation.
    public static var now: Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(microseconds: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000)
    }
}
