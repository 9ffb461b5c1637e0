/// Sluice's version, as sent in `user-agent: Sluice/<version>` and printed by `sluice version`.
public enum SluiceVersion {
    public static let current = "0.1.0"
}
