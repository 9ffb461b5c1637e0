import Foundation
import Testing

@testable import SluiceDashboard

@Suite struct SessionStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aSessionLivesUntilItsExpiry() {
        let store = SessionStore()
        let session = store.create(.tenant("acme", readOnly: true), ttl: .seconds(60), now: now)
        #expect(session.token.count == 52)
        #expect(store.session(token: session.token, now: now.addingTimeInterval(59))?.principal == .tenant("acme", readOnly: true))
        #expect(store.session(token: session.token, now: now.addingTimeInterval(60)) == nil)
        #expect(store.session(token: session.token, now: now) == nil)  // expired sessions are gone for good
    }

    @Test func logoutRemovesIt() {
        let store = SessionStore()
        let session = store.create(.admin(key: "sk_x"), ttl: .seconds(60))
        store.remove(token: session.token)
        #expect(store.session(token: session.token) == nil)
        #expect(store.session(token: nil) == nil)
        #expect(store.session(token: String(repeating: "a", count: 500)) == nil)
    }

    @Test func csrfTokensMatchOnlyTheirSession() {
        let store = SessionStore()
        let a = store.create(.admin(key: "sk_a"), ttl: .seconds(60))
        let b = store.create(.admin(key: "sk_b"), ttl: .seconds(60))
        #expect(a.token != b.token && a.csrf != b.csrf)
        #expect(a.checks(csrf: a.csrf))
        #expect(!a.checks(csrf: b.csrf))
        #expect(!a.checks(csrf: nil))
        #expect(!a.checks(csrf: ""))
    }

    @Test func aFlashIsShownOnce() {
        let store = SessionStore()
        let session = store.create(.admin(key: "sk_a"), ttl: .seconds(60))
        store.setFlash(Flash(.ok, "done"), token: session.token)
        #expect(store.takeFlash(token: session.token) == Flash(.ok, "done"))
        #expect(store.takeFlash(token: session.token) == nil)
        store.setFlash(Flash(.ok, "for nobody"), token: "no-such-session")
        #expect(store.takeFlash(token: "no-such-session") == nil)
    }

    @Test func principalsScopeTheirRequests() {
        #expect(SessionPrincipal.admin(key: "k").scope == .admin)
        #expect(SessionPrincipal.tenant("acme", readOnly: false).scope == .tenant("acme"))
        #expect(SessionPrincipal.tenant("acme", readOnly: true).readOnly)
        #expect(!SessionPrincipal.admin(key: "k").readOnly)
    }
}

@Suite struct SessionCookieTests {
    @Test func sessionCookiesAreHttpOnlyStrictAndSecureUnlessDevelopment() {
        let secure = SessionCookies.make(SessionCookies.session, value: "abc", maxAge: 60, secure: true).description
        #expect(secure.contains("HttpOnly") && secure.contains("SameSite=Strict") && secure.contains("Secure") && secure.contains("Path=/ui"))
        let plain = SessionCookies.make(SessionCookies.session, value: "abc", maxAge: 60, secure: false).description
        #expect(!plain.contains("Secure") && plain.contains("SameSite=Strict"))
        #expect(Dashboard.Options.fromEnvironment([:]).secureCookies)
        #expect(!Dashboard.Options.fromEnvironment(["SLUICE_DASHBOARD_INSECURE_COOKIES": "1"]).secureCookies)
    }
}
