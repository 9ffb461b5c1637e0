/// A one-line message above a page: what an action did, or why it failed; kept in the
/// session across the redirect after a form (post, redirect, get) and shown once.
///
/// ```swift
/// Flash(.ok, "Secret rotated; the old one is accepted for 24 h.", secret: "whsec_…")
/// ```
public struct Flash: Sendable, Equatable {
    public enum Kind: String, Sendable { case ok, error, info }
    public var kind: Kind
    public var text: String
    /// A secret to show once (rotate, create), with a copy button.
    public var secret: String?
    public var link: (href: String, label: String)?

    public init(_ kind: Kind, _ text: String, secret: String? = nil, link: (href: String, label: String)? = nil) {
        (self.kind, self.text, self.secret, self.link) = (kind, text, secret, link)
    }

    public static func == (a: Flash, b: Flash) -> Bool {
        a.kind == b.kind && a.text == b.text && a.secret == b.secret && a.link?.href == b.link?.href && a.link?.label == b.link?.label
    }

    var context: [String: Any] {
        var out: [String: Any] = ["kind": kind.rawValue, "text": text]
        if let secret { out["secret"] = secret }
        if let link { out["link"] = ["href": link.href, "label": link.label] }
        return out
    }
}
