/// The page frame, the login page, the error page and the partials every page uses.
///
/// Invariant (every template): data from producers, receivers or requests goes through
/// `{{ }}` (HTML-escaped, quotes too); triple braces take only HTML this module rendered
/// itself: `content` (a rendered page) and `…Svg` (charts from ``SVGChart``, numbers only).
/// A section on a string (`{{#error}}`) shows for "" too: leave an empty value's key out.
enum LayoutTemplates {
    static let all: [String: String] = ["layout": layout, "login": login, "error": error, "csrf": csrf, "flash": flash, "pager": pager]

    static let csrf = #"<input type="hidden" name="_csrf" value="{{csrf}}">"#

    static let flash = #"""
        {{#flash}}<div class="flash {{kind}}" role="status" data-testid="flash">{{text}}{{#secret}} <code class="secret" data-testid="secret">{{secret}}</code> <button type="button" class="copy" data-copy="{{secret}}">Copy</button>{{/secret}}{{#link}} <a href="{{href}}">{{label}}</a>{{/link}}</div>{{/flash}}
        """#

    static let pager = #"""
        <nav class="pager">{{#firstHref}}<a href="{{firstHref}}">« Newest</a>{{/firstHref}}{{#nextHref}}<a href="{{nextHref}}" data-testid="next-page">Older »</a>{{/nextHref}}</nav>
        """#

    static let layout = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        {{#refresh}}<meta http-equiv="refresh" content="{{refresh}}">{{/refresh}}
        <title>{{title}} · Sluice</title>
        <link rel="stylesheet" href="/ui/assets/app.css">
        <script src="/ui/assets/app.js" defer></script>
        </head>
        <body>
        <header class="top">
          <a class="brand" href="/ui/">Sluice</a>
          <nav class="main">{{#nav}}<a href="{{href}}"{{#active}} class="active"{{/active}}>{{label}}</a>{{/nav}}</nav>
          <div class="who">
            <span data-testid="who">{{who}}</span>
            <form method="post" action="/ui/logout" class="inline">{{> csrf}}<button type="submit" class="link" data-testid="logout">Log out</button></form>
          </div>
        </header>
        <main>
        <h1>{{title}}</h1>
        {{> flash}}
        {{{content}}}
        </main>
        </body>
        </html>
        """#

    static let login = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Log in · Sluice</title>
        <link rel="stylesheet" href="/ui/assets/app.css">
        </head>
        <body class="center">
        <form method="post" action="/ui/login" class="card login">
          <h1>Sluice</h1>
          <p class="muted">Operators log in with an admin API key (<code>sluice keys create --admin</code>). Tenants use the portal link their operator gave them.</p>
          {{#message}}<p class="flash error" data-testid="login-error">{{message}}</p>{{/message}}
          {{> csrf}}
          <input type="hidden" name="next" value="{{next}}">
          <label>Admin key <input type="password" name="key" autocomplete="current-password" placeholder="sk_…" required autofocus data-testid="key"></label>
          <button type="submit" data-testid="login">Log in</button>
        </form>
        </body>
        </html>
        """#

    static let error = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>{{title}} · Sluice</title>
        <link rel="stylesheet" href="/ui/assets/app.css">
        </head>
        <body class="center">
        <div class="card">
          <h1 data-testid="error-status">{{status}} {{title}}</h1>
          <p data-testid="error-message">{{message}}</p>
          <p><a href="/ui/">Back to the dashboard</a></p>
        </div>
        </body>
        </html>
        """#
}
