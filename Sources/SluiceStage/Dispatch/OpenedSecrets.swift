import Foundation
import SluiceCore

/// The signing secrets dispatch has opened, so each endpoint's sealed secret is decrypted
/// once, not once per delivery (AES-GCM with the master key was about 1 % of dispatch's
/// CPU in `make profile-dispatch`).
///
/// Invariant: an entry is keyed by the endpoint id and the sealed text it was opened from,
/// so a rotated secret or a re-keyed endpoint is opened afresh and never signs with a stale
/// key; failures are not kept (an unreadable secret is reported every time). At most
/// `capacity` entries: when full, the cache starts over.
///
/// ```swift
/// let secrets = try opened.signingSecrets(of: endpoint, box: box, now: Date())
/// ```
final class OpenedSecrets: Sendable {
    private struct Key: Hashable {
        var endpointID: String
        var sealed: String
    }

    let capacity: Int
    private let opened = Locked<[Key: Secret]>([:])

    init(capacity: Int = 20_000) { self.capacity = capacity }

    /// ``Endpoint/signingSecrets(box:now:)``, from the cache where it can.
    func signingSecrets(of endpoint: Endpoint, box: SecretBox, now: Date) throws(SecretBoxError) -> [Secret] {
        try endpoint.signingSecrets(now: now) { sealed throws(SecretBoxError) in
            let key = Key(endpointID: endpoint.id, sealed: sealed)
            if let secret = opened.withLock({ $0[key] }) { return secret }
            let secret = try box.open(sealed, endpointID: endpoint.id)
            opened.withLock { cache in
                if cache.count >= capacity { cache = [:] }
                cache[key] = secret
            }
            return secret
        }
    }
}
