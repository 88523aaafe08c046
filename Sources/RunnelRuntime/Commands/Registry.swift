public import RunnelConfig
import RunnelStandard
import RunnelCore

/// The component registry the commands build specs with. A custom binary registers its own
/// stages before calling `CommandEntry.main`:
///
///     var registry = ComponentRegistry.standard
///     registry.registerTransformer("geoip") { ctx in GeoIPTransformer(…) }
///     Runnel.registry = registry
///     await CommandEntry.main(RunnelBatch.self)
public enum Runnel {
    private static let current = Locked(ComponentRegistry.standard)
    public static var registry: ComponentRegistry {
        get { current.value }
        set { current.withLock { $0 = newValue } }
    }

    /// The version both binaries print.
    public static let version = "0.1.0"
}
