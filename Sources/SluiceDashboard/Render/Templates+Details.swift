/// The detail pages: one endpoint (settings, actions, stats, attempt log and drawer) and
/// one event (payload, per-endpoint state, resend). (Escaping rules: see ``LayoutTemplates``.)
enum DetailTemplates {
    static let all: [String: String] = ["endpoint": endpoint, "event": event, "attempt-drawer": drawer]

    static let endpoint = #"""
        <div class="actions">
          <span class="badge {{stateClass}}" data-testid="endpoint-state">{{state}}</span>
          {{#canWrite}}
          {{#enabled}}<form method="post" action="{{base}}/disable" class="inline">{{> csrf}}<button type="submit" class="secondary" data-testid="disable">Disable</button></form>{{/enabled}}
          {{^enabled}}<form method="post" action="{{base}}/enable" class="inline">{{> csrf}}<button type="submit" data-testid="enable">Enable</button></form>{{/enabled}}
          <form method="post" action="{{base}}/test" class="inline">{{> csrf}}<button type="submit" data-testid="send-test">Send test event</button></form>
          <form method="post" action="{{base}}/rotate-secret" class="inline">{{> csrf}}<button type="submit" class="secondary" data-testid="rotate">Rotate secret</button></form>
          {{/canWrite}}
        </div>
        <div class="grid2">
        <div class="card"><h2>Settings</h2>
        <dl class="kv" data-testid="settings">
          <dt>URL</dt><dd class="mono" data-testid="endpoint-url">{{url}}</dd>
          <dt>Tenant</dt><dd>{{tenant}}</dd>
          <dt>Event types</dt><dd class="mono">{{types}}</dd>
          <dt>Description</dt><dd>{{description}}</dd>
          {{#disabledReason}}<dt>Disabled because</dt><dd>{{disabledReason}}</dd>{{/disabledReason}}
          <dt>Timeout</dt><dd>{{timeout}}</dd><dt>Schedule</dt><dd class="mono">{{schedule}}</dd>
          <dt>Rate limit</dt><dd>{{rateLimit}}</dd><dt>Concurrency</dt><dd>{{concurrency}}</dd>
          {{#headers}}<dt>Header</dt><dd class="mono">{{name}}: {{value}}</dd>{{/headers}}
          <dt>Secret</dt><dd>{{secretNote}}</dd>
          <dt>Created</dt><dd>{{created}}</dd><dt>Updated</dt><dd>{{updated}} (revision {{revision}})</dd>
        </dl></div>
        <div class="card"><h2>Last 24 hours</h2>
        <dl class="kv"><dt>Attempts</dt><dd data-testid="stat-attempts">{{stats.count}}</dd>
          <dt>Success rate</dt><dd>{{{stats.rateSvg}}} <span data-testid="stat-rate">{{stats.rate}}</span></dd></dl>
        <p class="muted">Attempts per hour (failures in red)</p>{{{stats.sparkSvg}}}
        {{#stats.latencySvg}}<p class="muted">Latency of the newest {{stats.sampled}} attempts (ms)</p>{{{stats.latencySvg}}}
        <p class="muted">Their answers</p>{{{stats.statusSvg}}}{{/stats.latencySvg}}
        </div>
        </div>
        {{#canWrite}}
        <h2>Replay from history</h2>
        <p class="muted">Sends this endpoint its tenant's past events again from <code>sluice.events</code> (kept 7 days), with their original ids, at 500 events/s at most, as <code>sluice events replay</code> does. Times: <code>2h</code> ago, or <code>2026-12-01T10:00:00Z</code>.</p>
        <form method="post" action="{{base}}/replay" class="filters" data-testid="history-replay">{{> csrf}}
          <label>Since <input name="since" required placeholder="24h" data-testid="history-since"></label>
          <label>Until <input name="until" placeholder="now"></label>
          <label>Event types <input name="types" placeholder="the endpoint's own" data-testid="history-types"></label>
          <label><span><input type="checkbox" name="only_missing" value="1" data-testid="history-only-missing"> only what it never received</span></label>
          <button type="submit" name="mode" value="dry-run" class="secondary" data-testid="history-dry-run">Preview (dry run)</button>
          <button type="submit" name="mode" value="send" data-testid="history-send">Replay</button>
        </form>
        {{/canWrite}}
        <h2>Attempt log</h2>
        <form method="get" action="{{base}}" class="filters">
          <label>Outcome <select name="outcome"><option value="">any</option>{{#outcomes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/outcomes}}</select></label>
          <label>Status <select name="status"><option value="">any</option>{{#statusClasses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/statusClasses}}</select></label>
          <label>Event id <input name="event" value="{{filter.event}}"></label>
          <button type="submit" class="secondary" data-testid="filter-attempts">Filter</button>
        </form>
        {{#drawer}}{{> attempt-drawer}}{{/drawer}}
        <table data-testid="attempts">
        <tr><th>At</th><th>Event</th><th>#</th><th>Status</th><th>Outcome</th><th>Latency</th><th>Error</th><th></th></tr>
        {{#attempts}}<tr{{#selected}} class="selected"{{/selected}} data-testid="attempt-row">
          <td class="muted">{{at}}</td><td><a href="{{eventHref}}" class="mono">{{eventID}}</a></td><td>{{number}}</td>
          <td><span class="badge {{statusClass}}" data-testid="attempt-status">{{status}}</span></td><td>{{outcome}}</td><td>{{latency}} ms</td>
          <td class="mono">{{error}}</td><td><a href="{{drawerHref}}" data-testid="open-attempt">details</a></td></tr>{{/attempts}}
        {{^attempts}}<tr><td colspan="8" class="muted">No attempts match.</td></tr>{{/attempts}}
        </table>
        {{> pager}}
        """#

    static let drawer = #"""
        <div class="card drawer" data-testid="drawer">
        <h2>Attempt {{id}} <a href="{{closeHref}}" class="muted">close</a></h2>
        <div class="grid2">
        <div><h3>Request</h3>
        <dl class="kv"><dt>POST</dt><dd class="mono">{{url}}</dd><dt>Event</dt><dd class="mono"><a href="{{eventHref}}">{{eventID}}</a></dd><dt>Attempt</dt><dd>{{number}}{{#replayID}} (replay {{replayID}}){{/replayID}}</dd></dl>
        <pre data-testid="request-headers">{{#requestHeaders}}{{name}}: {{value}}
        {{/requestHeaders}}</pre>
        <p class="muted">The headers as dispatch sends them to this endpoint (the signature is computed per attempt and not kept).</p>
        </div>
        <div><h3>Response</h3>
        <dl class="kv"><dt>Status</dt><dd data-testid="drawer-status">{{status}}</dd><dt>Latency</dt><dd>{{latency}} ms</dd><dt>Outcome</dt><dd>{{outcome}}</dd>
          <dt>Error class</dt><dd>{{errorClass}}</dd>{{#error}}<dt>Error</dt><dd class="mono">{{error}}</dd>{{/error}}
          {{#nextAttempt}}<dt>Next attempt</dt><dd>{{nextAttempt}}</dd>{{/nextAttempt}}</dl>
        <p class="muted">Response body (excerpt)</p>
        <pre data-testid="response-excerpt">{{excerpt}}</pre>
        </div></div></div>
        """#

    static let event = #"""
        <div class="grid2">
        <div class="card"><dl class="kv">
          <dt>Event</dt><dd class="mono" data-testid="event-id">{{id}}</dd><dt>Type</dt><dd class="mono">{{type}}</dd>
          <dt>Tenant</dt><dd>{{tenant}}</dd><dt>Received</dt><dd>{{received}}</dd><dt>Stored at</dt><dd class="mono">{{topic}} [{{partition}}] @ {{offset}}</dd>
        </dl></div>
        <div class="card"><h2>Payload</h2>
        {{#payload}}<pre data-testid="payload">{{payload}}</pre>{{/payload}}{{^payload}}<p class="muted">No longer on its topic (retention removed it).</p>{{/payload}}
        </div></div>
        <h2>Deliveries</h2>
        <table data-testid="deliveries"><tr><th>Endpoint</th><th>State</th><th>Attempts</th><th></th></tr>
        {{#deliveries}}<tr><td><a href="{{endpointHref}}" class="mono">{{endpointID}}</a></td>
          <td><span class="badge {{stateClass}}" data-testid="delivery-state">{{state}}</span>{{#nextAttempt}} <span class="muted">next {{nextAttempt}}</span>{{/nextAttempt}}</td>
          <td>{{#attempts}}<a href="{{drawerHref}}"><span class="badge {{statusClass}}">{{status}}</span></a> {{/attempts}}</td>
          <td>{{#canWrite}}
            <form method="post" action="/ui/events/{{eventPathID}}/resend" class="inline">{{> csrf}}<input type="hidden" name="endpoint_id" value="{{endpointID}}"><button type="submit" class="secondary" data-testid="resend">Resend</button></form>
            {{#dead}}<form method="post" action="/ui/dead-letters/replay" class="inline">{{> csrf}}<input type="hidden" name="endpoint" value="{{endpointID}}"><input type="hidden" name="event" value="{{eventID}}"><button type="submit" name="mode" value="replay" data-testid="replay-dead-letter">Replay dead letter</button></form>{{/dead}}
          {{/canWrite}}</td></tr>{{/deliveries}}
        {{^deliveries}}<tr><td colspan="4" class="muted">No endpoint took this event.</td></tr>{{/deliveries}}
        </table>
        """#
}
