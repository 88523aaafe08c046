public import RunnelConfig
import RunnelCore

#if S3
    import RunnelS3
#endif

/// The component registry the commands build specs with. A custom binary registers its own
/// stages before calling `CommandEntry.main`:
///
///     var registry = ComponentRegistry.standard
///     registry.registerTransformer("geoip") { ctx in GeoIPTransformer(…) }
///     Runnel.registry = registry
///     await CommandEntry.main(RunnelBatch.self)
public enum Runnel {
    private static let current = Locked(ComponentRegistry.standard.addingS3())
    public static var registry: ComponentRegistry {
        get { current.value }
        set { current.withLock { $0 = newValue } }
    }

    /// The version both binaries print.
    public static let version = "0.1.0"
}

extension ComponentRegistry {
    /// `type: s3` where the binary is built with the `S3` trait. Interim, until the standard
    /// bundle of issue #8 holds one line per connector.
    fileprivate func addingS3() -> ComponentRegistry {
        var r = self
        #if S3
            r.registerS3()
        #else
            r.unavailable["s3"] = "S3"
        #endif
        return r
    }
}
