import Foundation
import SluiceAdmin
import SluiceCore

/// Who a dashboard session is for: an operator who logged in with an admin key, or a tenant
/// who came through a portal link.
public enum SessionPrincipal: Sendable, Equatable {
    /// The presented admin key, checked again on every request (a revoked key ends the session).
    case admin(key: String)
    case tenant(String, readOnly: Bool)

    /// What the session's requests may see.
    public var scope: AccessScope {
        switch self {
        case .admin: return .admin
        case .tenant(let tenant, _): return .tenant(tenant)
        }
    }

    public var isAdmin: Bool {
        if case .admin = self { return true }
        return false
    }

    public var readOnly: Bool {
        if case .tenant(_, let readOnly) = self { return readOnly }
        return false
    }
}

/// One logged-in browser: an unguessable token (the cookie), a CSRF token for its forms, and
/// an expiry.
public struct DashboardSession: Sendable, Equatable {
    public var token: String
    public var csrf: String
    public var principal: SessionPrincipal
    public var expiresAt: Date

    /// True when `presented` is this session's CSRF token (constant time).
    public func checks(csrf presented: String?) -> Bool {
        guard let presented else { return false }
        return ConstantTime.equal(Array(presented.utf8), Array(csrf.utf8))
    }
}

/// The dashboard's sessions, in this process (a restart logs everyone out; behind a load
/// balancer, route a browser to one replica).
///
/// Invariant: a token is 260 random bits; an expired or removed session is never returned;
/// at most ``capacity`` sessions are kept (the soonest to expire dropped first).
///
/// ```swift
/// let sessions = SessionStore()
/// let session = sessions.create(.tenant("acme", readOnly: true), ttl: .seconds(3600))
/// sessions.session(token: session.token)?.principal   // .tenant("acme", readOnly: true)
/// ```
public final class SessionStore: Sendable {
    public static let capacity = 10_000
    /// How long an operator's login lasts.
    public static let adminTTL: Duration = .seconds(12 * 3600)
    private let sessions = Locked<[String: DashboardSession]>([:])
    private let flashes = Locked<[String: Flash]>([:])

    public init() {}

    public func create(_ principal: SessionPrincipal, ttl: Duration, now: Date = Date()) -> DashboardSession {
        let session = DashboardSession(
            token: RandomID.make(length: 52), csrf: RandomID.make(length: 32), principal: principal,
            expiresAt: now.addingTimeInterval(TimeInterval(ttl.components.seconds)))
        sessions.withLock { all in
            if all.count >= Self.capacity {
                all = all.filter { $0.value.expiresAt > now }
                if all.count >= Self.capacity, let first = all.values.min(by: { $0.expiresAt < $1.expiresAt }) { all[first.token] = nil }
                let live = Set(all.keys)
                flashes.withLock { $0 = $0.filter { live.contains($0.key) } }
            }
            all[session.token] = session
        }
        return session
    }

    /// The live session of `token`, if any.
    public func session(token: String?, now: Date = Date()) -> DashboardSession? {
        guard let token, token.utf8.count <= 128 else { return nil }
        return sessions.withLock { all in
            guard let session = all[token] else { return nil }
            guard session.expiresAt > now else {
                all[token] = nil
                return nil
            }
            return session
        }
    }

    public func remove(token: String) {
        sessions.withLock { $0[token] = nil }
        flashes.withLock { $0[token] = nil }
    }

    /// Keeps `flash` for the session's next page.
    public func setFlash(_ flash: Flash, token: String) {
        guard session(token: token) != nil else { return }
        flashes.withLock { $0[token] = flash }
    }

    /// The flash kept for the session, removed as it is taken.
    public func takeFlash(token: String) -> Flash? {
        flashes.withLock { $0.removeValue(forKey: token) }
    }
}
