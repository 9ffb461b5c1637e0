/// Which master key may seal a new endpoint secret: the CLI and the admin API refuse to
/// seal under a key the topic's endpoints do not use, since dispatchers still on the old
/// key could not open the secret.
///
/// Invariant: a box is returned only when it can open every sealed secret in use (or the
/// caller re-keys on purpose with `newKey`).
///
/// ```swift
/// let box = try SealingKeyGuard.box(delivery: delivery, keyIDsInUse: registry.sealingKeyIDs, topic: "sluice.endpoints", newKey: false)
/// ```
public enum SealingKeyGuard {
    public static func box(
        delivery: DeliverySettings, keyIDsInUse inUse: Set<String>, topic: String, newKey: Bool
    ) throws(SealingKeyError) -> SecretBox {
        let box: SecretBox
        do { box = try delivery.secretBox() } catch { throw SealingKeyError(description: error.description) }
        guard newKey || box.fits(keyIDsInUse: inUse) else {
            throw SealingKeyError(
                description: "the endpoints on \(topic) are sealed under master key \(inUse.sorted().joined(separator: ", ")), "
                    + "but SLUICE_MASTER_KEY is key \(box.current.id): dispatchers on the old key could not open this secret. "
                    + "Set SLUICE_MASTER_KEY to the key the endpoints use; to move to a new key on purpose, start every stage "
                    + "with the new key, add --new-master-key to `sluice endpoints` and rotate each endpoint's secret")
        }
        return box
    }
}

/// Why no secret can be sealed now (no master key, or another one than the endpoints use).
public struct SealingKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
}
