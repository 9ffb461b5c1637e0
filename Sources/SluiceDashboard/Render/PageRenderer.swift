import Foundation
import Mustache

/// Renders the dashboard's pages: a page template into the layout, with the session's
/// navigation, flash message and CSRF token.
///
/// Invariant: every template is parsed once, at start (a template error fails the server's
/// start, not a request); the layout gets the page as `content`, the only HTML it embeds
/// unescaped.
///
/// ```swift
/// let renderer = try PageRenderer()
/// let html = renderer.page("overview", ["tiles": []], chrome: Chrome(title: "Overview", session: session, active: "overview"))
/// ```
public struct PageRenderer: Sendable {
    let library: MustacheLibrary

    public init() throws {
        var library = MustacheLibrary()
        for (name, text) in LayoutTemplates.all.merging(PageTemplates.all, uniquingKeysWith: { a, _ in a })
            .merging(DetailTemplates.all, uniquingKeysWith: { a, _ in a })
        {
            try library.register(text, named: name)
        }
        self.library = library
    }

    /// What the frame around a page shows.
    public struct Chrome: Sendable {
        public var title: String
        public var session: DashboardSession
        /// The `nav` entry to highlight.
        public var active: String
        public var flash: Flash?
        /// Seconds until the page reloads itself (live pages); nil: never.
        public var refresh: Int?

        public init(title: String, session: DashboardSession, active: String, flash: Flash? = nil, refresh: Int? = nil) {
            (self.title, self.session, self.active, self.flash, self.refresh) = (title, session, active, flash, refresh)
        }
    }

    /// The sections of the navigation: (key, label, path); portal-link management is for operators.
    static func navigation(for principal: SessionPrincipal) -> [(String, String, String)] {
        var items = [
            ("overview", "Overview", "/ui/"), ("endpoints", "Endpoints", "/ui/endpoints"), ("events", "Events", "/ui/events"),
            ("dead-letters", "Dead letters", "/ui/dead-letters"), ("ops", "Ops events", "/ui/ops"),
        ]
        if principal.isAdmin { items.append(("portal", "Portal links", "/ui/portal-links")) }
        return items
    }

    /// The page `template` rendered with `data`, inside the layout.
    public func page(_ template: String, _ data: [String: Any], chrome: Chrome) -> String {
        let session = chrome.session
        var pageData = data
        pageData["csrf"] = session.csrf
        pageData["canWrite"] = !session.principal.readOnly
        pageData["isAdmin"] = session.principal.isAdmin
        let content = library.render(pageData, withTemplate: template) ?? ""
        let who: String
        switch session.principal {
        case .admin: who = "operator"
        case .tenant(let tenant, let readOnly): who = "tenant \(tenant)" + (readOnly ? " (read-only)" : "")
        }
        var layout: [String: Any] = [
            "title": chrome.title, "csrf": session.csrf, "who": who, "content": content,
            "nav": Self.navigation(for: session.principal).map { ["href": $0.2, "label": $0.1, "active": $0.0 == chrome.active] },
        ]
        if let flash = chrome.flash { layout["flash"] = flash.context }
        if let refresh = chrome.refresh { layout["refresh"] = refresh }
        return library.render(layout, withTemplate: "layout") ?? ""
    }

    /// A template rendered on its own (login and error pages, which have no session).
    public func standalone(_ template: String, _ data: [String: Any]) -> String {
        library.render(data, withTemplate: template) ?? ""
    }
}
