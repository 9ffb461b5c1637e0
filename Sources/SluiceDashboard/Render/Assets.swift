/// The dashboard's stylesheet and its one small script, served from `/ui/assets/`.
///
/// Invariant: pages work without the script: it only makes copy buttons write to the
/// clipboard (live pages refresh through `<meta http-equiv="refresh">`, no script).
enum Assets {
    static let css = #"""
        :root { --fg: #1f2933; --muted: #616e7c; --line: #e4e7eb; --bg: #f5f7fa; --ok: #2f9e44; --bad: #e03131; --warn: #f08c00; --accent: #3b5bdb; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
        body.center { display: flex; align-items: center; justify-content: center; min-height: 100vh; }
        a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
        code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
        pre { background: #fff; border: 1px solid var(--line); padding: 10px; overflow: auto; max-height: 420px; white-space: pre-wrap; word-break: break-all; }
        header.top { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #1f2933; color: #fff; }
        header.top a { color: #cbd2d9; } header.top a.active, header.top a:hover { color: #fff; text-decoration: none; }
        .brand { font-weight: 700; font-size: 16px; color: #fff !important; }
        nav.main { display: flex; gap: 16px; flex: 1; }
        .who { display: flex; gap: 12px; align-items: center; color: #cbd2d9; }
        main { padding: 16px 24px 48px; max-width: 1280px; }
        h1 { font-size: 20px; margin: 4px 0 16px; } h2 { font-size: 16px; margin: 24px 0 8px; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 16px; }
        .card > h2:first-child, .card h3 { margin-top: 0; }
        .login { width: 380px; display: flex; flex-direction: column; gap: 12px; }
        .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 12px; }
        .tile { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; }
        .tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
        .tile .value { font-size: 26px; font-weight: 600; }
        table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
        th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
        td.muted:first-child { white-space: nowrap; }
        .grid2 > * { min-width: 0; }
        th { font-size: 12px; color: var(--muted); font-weight: 600; background: #fafbfc; }
        tr.selected td { background: #edf2ff; }
        .muted { color: var(--muted); }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: var(--line); }
        .badge.ok { background: #d3f9d8; color: #1b6e2c; } .badge.bad { background: #ffe3e3; color: #a61e1e; } .badge.warn { background: #fff3bf; color: #8a5a00; }
        .flash { padding: 8px 12px; border-radius: 4px; margin: 0 0 12px; background: #e7f5ff; border: 1px solid #a5d8ff; }
        .flash.error { background: #fff5f5; border-color: #ffa8a8; } .flash.ok { background: #ebfbee; border-color: #8ce99a; }
        form.inline { display: inline; } form.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 8px 0 12px; }
        label { display: flex; flex-direction: column; gap: 3px; font-size: 12px; color: var(--muted); }
        input, select { font: inherit; padding: 5px 8px; border: 1px solid #cbd2d9; border-radius: 4px; color: var(--fg); background: #fff; }
        button { font: inherit; padding: 5px 12px; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
        button.secondary { background: #fff; color: var(--accent); } button.danger { background: var(--bad); border-color: var(--bad); }
        button.link { background: none; border: none; color: #cbd2d9; padding: 0; }
        .actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 16px; }
        .grid2 { display: grid; grid-template-columns: minmax(300px, 1fr) minmax(300px, 1fr); gap: 16px; }
        dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; } dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; word-break: break-all; }
        .drawer { border-left: 4px solid var(--accent); }
        .pager { display: flex; gap: 16px; margin: 10px 0; }
        svg.chart text { font-size: 10px; fill: var(--muted); }
        .secret { background: #fff; padding: 2px 6px; border: 1px solid var(--line); }
        """#

    static let js = #"""
        // Copy buttons. Pages work without this.
        document.addEventListener("click", function (e) {
          var b = e.target.closest("button.copy");
          if (!b || !navigator.clipboard) return;
          navigator.clipboard.writeText(b.getAttribute("data-copy") || "").then(function () { b.textContent = "Copied"; });
        });
        """#
}
