/// The list pages: overview, endpoints, event lookup, dead letters, ops events, replay
/// tasks and portal links. (Escaping rules: see ``LayoutTemplates``.)
enum PageTemplates {
    static let all: [String: String] = [
        "overview": overview, "endpoints": endpoints, "events": events, "dead-letters": deadLetters, "ops": ops, "task": task,
        "portal-links": portalLinks,
    ]

    static let overview = #"""
        <section class="tiles">
        {{#tiles}}<div class="tile"><div class="label">{{label}}</div><div class="value" data-testid="{{testid}}">{{value}}</div><div class="muted">{{note}}</div></div>{{/tiles}}
        </section>
        <h2>Attempts, last hour (per minute; failures in red)</h2>
        <div class="card">{{{throughputSvg}}}</div>
        <div class="grid2">
        <div>
        <h2>Worst endpoints, last 24 h</h2>
        <table data-testid="worst"><tr><th>Endpoint</th><th>Tenant</th><th>Success</th><th>Failed</th></tr>
        {{#worst}}<tr><td><a href="{{href}}" class="mono">{{id}}</a></td><td>{{tenant}}</td><td>{{{rateSvg}}} {{rate}}</td><td>{{failed}} / {{attempts}}</td></tr>{{/worst}}
        {{^worst}}<tr><td colspan="4" class="muted">No attempts in the last 24 hours.</td></tr>{{/worst}}
        </table>
        </div>
        <div>
        <h2>Open circuits</h2>
        <table data-testid="circuits"><tr><th>Endpoint</th><th>Opened</th><th>Why</th></tr>
        {{#circuits}}<tr><td><a href="{{href}}" class="mono">{{endpointID}}</a></td><td>{{at}}</td><td>{{detail}}</td></tr>{{/circuits}}
        {{^circuits}}<tr><td colspan="3" class="muted">None: every endpoint's circuit is closed.</td></tr>{{/circuits}}
        </table>
        <h2>Latest ops events</h2>
        <table>{{#recentOps}}<tr><td class="muted">{{at}}</td><td><span class="badge">{{kind}}</span></td><td class="mono">{{endpointID}}</td><td>{{detail}}</td></tr>{{/recentOps}}
        {{^recentOps}}<tr><td class="muted">None yet.</td></tr>{{/recentOps}}</table>
        </div>
        </div>
        """#

    static let endpoints = #"""
        {{#canWrite}}
        <details class="card"{{#openCreate}} open{{/openCreate}}><summary>New endpoint</summary>
        <form method="post" action="/ui/endpoints" class="filters">{{> csrf}}
          {{#isAdmin}}<label>Tenant <input name="tenant" required data-testid="new-tenant"></label>{{/isAdmin}}
          <label>URL <input name="url" type="url" size="40" required placeholder="https://hooks.example.com/sluice" data-testid="new-url"></label>
          <label>Event types <input name="types" placeholder="order.*, invoice.paid (empty: all)" data-testid="new-types"></label>
          <label>Description <input name="description"></label>
          <button type="submit" data-testid="create-endpoint">Create</button>
        </form></details>
        {{/canWrite}}
        <table data-testid="endpoints">
        <tr><th>Endpoint</th><th>URL</th><th>Tenant</th><th>State</th><th>Success, 24 h</th><th>Attempts, 24 h</th></tr>
        {{#rows}}<tr>
          <td><a href="{{href}}" class="mono" data-testid="endpoint-link">{{id}}</a><div class="muted">{{description}}</div></td>
          <td class="mono">{{url}}</td><td>{{tenant}}</td>
          <td><span class="badge {{stateClass}}" data-testid="state">{{state}}</span></td>
          <td>{{{rateSvg}}} <span data-testid="rate">{{rate}}</span></td>
          <td>{{{sparkSvg}}} <span class="muted">{{attempts}}</span></td>
        </tr>{{/rows}}
        {{^rows}}<tr><td colspan="6" class="muted">No endpoints yet.</td></tr>{{/rows}}
        </table>
        {{> pager}}
        """#

    static let events = #"""
        <form method="get" action="/ui/events" class="filters">
          <label>Event id <input name="id" value="{{query}}" size="40" required data-testid="event-id"></label>
          <button type="submit" data-testid="lookup">Look up</button>
        </form>
        <p class="muted">Find an event's id in an endpoint's attempt log, or in the producer's records.</p>
        """#

    static let deadLetters = #"""
        <form method="get" action="/ui/dead-letters" class="filters">
          <label>Endpoint <input name="endpoint" value="{{filter.endpoint}}"></label>
          {{#isAdmin}}<label>Tenant <input name="tenant" value="{{filter.tenant}}"></label>{{/isAdmin}}
          <label>Event type <input name="type" value="{{filter.type}}" placeholder="order.*"></label>
          <label>Since <input name="since" value="{{filter.since}}" placeholder="2026-01-31T00:00:00Z"></label>
          <label>Until <input name="until" value="{{filter.until}}"></label>
          <button type="submit" class="secondary">Filter</button>
        </form>
        {{#canWrite}}
        <form method="post" action="/ui/dead-letters/replay" class="actions">{{> csrf}}
          <input type="hidden" name="endpoint" value="{{filter.endpoint}}"><input type="hidden" name="tenant" value="{{filter.tenant}}">
          <input type="hidden" name="type" value="{{filter.type}}"><input type="hidden" name="since" value="{{filter.since}}"><input type="hidden" name="until" value="{{filter.until}}">
          <button type="submit" name="mode" value="dry-run" class="secondary" data-testid="dry-run">Preview replay (dry run)</button>
          <button type="submit" name="mode" value="replay" data-testid="replay">Replay {{#filtered}}these{{/filtered}}{{^filtered}}all{{/filtered}} dead letters</button>
        </form>
        {{/canWrite}}
        <table data-testid="dead-letters">
        <tr><th>Parked</th><th>Event</th><th>Type</th><th>Endpoint</th><th>Tenant</th><th>Attempts</th><th>Reason</th></tr>
        {{#rows}}<tr><td class="muted">{{at}}</td><td><a href="{{eventHref}}" class="mono" data-testid="dead-letter-event">{{eventID}}</a></td><td>{{eventType}}</td>
          <td><a href="{{endpointHref}}" class="mono">{{endpointID}}</a></td><td>{{tenant}}</td><td>{{attempts}}</td>
          <td>{{reason}}<div class="muted mono">{{finalError}}</div>{{#replayID}}<div class="muted">replayed before: {{replayID}}</div>{{/replayID}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="7" class="muted">No dead letters match.</td></tr>{{/rows}}
        </table>
        {{> pager}}
        """#

    static let ops = #"""
        <form method="get" action="/ui/ops" class="filters">
          <label>Kind <select name="kind"><option value="">any</option>{{#kinds}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/kinds}}</select></label>
          <label>Endpoint <input name="endpoint" value="{{endpoint}}"></label>
          <button type="submit" class="secondary">Filter</button>
        </form>
        <table data-testid="ops"><tr><th>At</th><th>Kind</th><th>Endpoint</th><th>Tenant</th><th>Detail</th></tr>
        {{#rows}}<tr><td class="muted">{{at}}</td><td><span class="badge {{kindClass}}">{{kind}}</span></td><td><a href="{{endpointHref}}" class="mono">{{endpointID}}</a></td><td>{{tenant}}</td><td>{{detail}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="5" class="muted">No ops events match.</td></tr>{{/rows}}
        </table>
        {{> pager}}
        """#

    static let task = #"""
        <div class="card" data-testid="task">
        <dl class="kv">
          <dt>Task</dt><dd class="mono">{{id}}</dd>
          <dt>State</dt><dd><span class="badge {{stateClass}}" data-testid="task-state">{{state}}</span>{{#dryRun}} <span class="badge">dry run</span>{{/dryRun}}</dd>
          <dt>Replay id</dt><dd class="mono">{{replayID}}</dd>
          <dt>Matched</dt><dd data-testid="task-matched">{{matched}}</dd>
          <dt>To send</dt><dd data-testid="task-to-send">{{toSend}}</dd>
          <dt>Sent</dt><dd data-testid="task-sent">{{sent}}</dd>
          <dt>Sent before (skipped)</dt><dd>{{alreadySent}}</dd>
          <dt>Endpoint gone or disabled</dt><dd>{{endpointUnavailable}}</dd>
          {{#error}}<dt>Error</dt><dd class="flash error">{{error}}</dd>{{/error}}
          {{#summary}}<dt>Summary</dt><dd data-testid="task-summary">{{summary}}</dd>{{/summary}}
        </dl>
        {{{progressSvg}}}
        </div>
        <p class="muted">{{#running}}This page refreshes every second while the task runs.{{/running}} Tasks live in the server that started them, until it restarts.</p>
        """#

    static let portalLinks = #"""
        <p>A portal link lets one tenant see (and, unless read-only, manage) its own endpoints, attempts and dead letters, until it expires. It is signed with a key derived from the master key: every replica with the same master key accepts it.</p>
        <form method="post" action="/ui/portal-links" class="filters">{{> csrf}}
          <label>Tenant <input name="tenant" required data-testid="portal-tenant"></label>
          <label>Valid for <select name="ttl"><option value="1h">1 hour</option><option value="24h">24 hours</option><option value="7d">7 days</option></select></label>
          <label><span><input type="checkbox" name="read_only" value="1" data-testid="portal-read-only"> read-only</span></label>
          <button type="submit" data-testid="portal-create">Make link</button>
        </form>
        {{#link}}<div class="card"><p>Link for tenant <strong>{{tenant}}</strong>{{#readOnly}} (read-only){{/readOnly}}, valid until {{expires}}:</p>
        <pre data-testid="portal-url">{{url}}</pre><button type="button" class="copy" data-copy="{{url}}">Copy</button></div>{{/link}}
        <p class="muted">From a shell: <code>sluice portal-link --tenant acme --ttl 1h --read-only</code>; from a program: <code>POST /ui/portal-links</code> with an admin key (JSON answer).</p>
        """#
}
