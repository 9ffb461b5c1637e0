import Foundation
import Hummingbird

/// The dashboard's cookies: the session (`sluice_session`) and the login form's
/// double-submit CSRF cookie (`sluice_login`), both `HttpOnly`, `SameSite=Strict`, path
/// `/ui`, and `Secure` unless the options say plain-http development.
enum SessionCookies {
    static let session = "sluice_session"
    static let login = "sluice_login"

    static func make(_ name: String, value: String, maxAge: Int?, secure: Bool) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/ui", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// A cookie that deletes `name`.
    static func expired(_ name: String, secure: Bool) -> Cookie {
        Cookie(name: name, value: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/ui", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// The value of cookie `name` if it is one we could have set (letters and digits, at most 128).
    static func value(_ name: String, in request: Request) -> String? {
        guard let value = request.cookies[name]?.value, !value.isEmpty, value.utf8.count <= 128,
            value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return nil }
        return value
    }
}
