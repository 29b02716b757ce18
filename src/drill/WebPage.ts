/**
 * The web live view's page, script and style (served by `Web`): no framework, no inline
 * script (the page's Content-Security-Policy forbids it), a DOM whose size is bounded by the
 * runbook (notes are capped), updated in place from server-sent events.
 *
 * @since 0.1.0
 */

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The HTML shell. @since 0.1.0 */
export const PAGE = (title: string): string =>
  `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} — faultline drill</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/app.css"><link rel="icon" href="data:,"></head>
<body><header><h1 id="title">${esc(title)}</h1><div id="status"></div></header>
<section id="facts"><div>RTO clock <b id="rto">—</b> <span id="rto-objective"></span></div><div>Faults open: <span id="faults">none</span></div><div>Hypotheses: <span id="hypotheses">none</span></div></section>
<section id="now"><h2>Now</h2><div id="now-title"></div><div id="now-prose"></div><form id="actions"></form><div id="message" role="status"></div></section>
<section><h2>Timeline</h2><div id="timeline"></div></section>
<section><h2>Steps</h2><table id="steps"><thead><tr><th>#</th><th>step</th><th>kind</th><th>status</th><th>actual / planned</th><th>who</th></tr></thead><tbody></tbody></table></section>
<section><h2>Notes</h2><form id="note-form"><input id="note-text" placeholder="a note for the journal" maxlength="2000"><button type="submit">Add note</button></form><ul id="notes"></ul></section>
<footer><label>Your name <input id="name" maxlength="80" autocomplete="name"></label> <button id="abort" type="button">Abort drill</button></footer>
<script src="/app.js"></script></body></html>`

/** The style. @since 0.1.0 */
export const APP_CSS = `body{font:14px system-ui,sans-serif;margin:1em auto;max-width:960px;padding:0 1em}
header{display:flex;justify-content:space-between;align-items:baseline}#facts{display:flex;gap:2em;flex-wrap:wrap}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:2px 6px;text-align:left}
tr.running{background:#ddf4ff}tr.refused,tr.failed,tr.aborted{background:#ffebe9}#now{border:2px solid #1f6feb;padding:.5em 1em;border-radius:6px}
#message{color:#8250df;min-height:1.2em}.timeline{width:100%;height:auto}#abort{color:#fff;background:#cf222e;border:0;padding:4px 10px}`

/** The script. @since 0.1.0 */
export const APP_JS = `"use strict";
(function () {
  var token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  var $ = function (id) { return document.getElementById(id); };
  var nameInput = $("name");
  try { nameInput.value = localStorage.getItem("faultline.name") || ""; } catch (e) { /* storage may be off */ }
  nameInput.addEventListener("change", function () { try { localStorage.setItem("faultline.name", nameInput.value); } catch (e) { /* ignore */ } });
  var last = null;
  var shownStep = null;
  function clock(ms) {
    if (ms === null || ms === undefined) return "—";
    if (ms < 1000) return Math.round(ms) + " ms";
    var t = Math.round(ms / 1000), h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = String(t % 60).padStart(2, "0");
    return h > 0 ? h + "h " + String(m).padStart(2, "0") + "m " + s + "s" : m + "m " + s + "s";
  }
  function who(a) { return a ? (a.name || a.user || "?") + (a.via === "web" ? " (web)" : "") : ""; }
  function say(text) { $("message").textContent = text; }
  function post(body) {
    body.name = nameInput.value.trim();
    if (body.name === "") { say("Enter your name first (bottom of the page)."); return Promise.resolve(); }
    return fetch("/api/respond", { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer " + token }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { say(r.ok && j.ok ? "recorded" : "refused: " + (j.error || r.status)); }); })
      .catch(function (e) { say("not sent: " + e.message); });
  }
  function button(label, onClick, id) {
    var b = document.createElement("button"); b.type = "button"; b.textContent = label; if (id) b.id = id;
    b.addEventListener("click", onClick); return b;
  }
  function actions(snap) {
    var form = $("actions"), s = snap.state, cur = null;
    for (var i = 0; i < s.steps.length; i++) if (s.steps[i].stepId === s.current) cur = s.steps[i];
    var key = cur ? cur.stepId + ":" + cur.approvals.length : "";
    if (key === shownStep) return;
    shownStep = key;
    form.textContent = "";
    if (!cur) return;
    var st = snap.steps.filter(function (x) { return x.stepId === cur.stepId; })[0] || { evidence: [], approvers: 0 };
    if (cur.kind === "manual") {
      var inputs = st.evidence.map(function (f) {
        var label = document.createElement("label"), input = document.createElement("input");
        input.type = f.type === "checkbox" ? "checkbox" : f.type === "link" ? "url" : "text"; input.name = f.name;
        label.append(f.label || f.name, " ", input); form.append(label, " "); return { f: f, input: input };
      });
      form.append(button("Complete step", function () {
        var ev = {}; inputs.forEach(function (x) { ev[x.f.name] = x.f.type === "checkbox" ? x.input.checked : x.input.value; });
        post({ action: "complete", stepId: cur.stepId, evidence: ev });
      }, "complete"));
    } else if (cur.kind === "approve") {
      var reason = document.createElement("input"); reason.placeholder = "reason (for a refusal)"; reason.id = "reason";
      form.append("Approvals " + cur.approvals.length + " of " + st.approvers + " ", button("Approve", function () { post({ action: "approve", stepId: cur.stepId }); }, "approve"), " ", reason, " ",
        button("Refuse", function () { post({ action: "refuse", stepId: cur.stepId, reason: reason.value }); }, "refuse"));
    } else if (cur.kind === "decision") {
      var why = document.createElement("input"); why.placeholder = "reason"; why.id = "reason";
      form.append(why, " ", button("Go", function () { post({ action: "go", stepId: cur.stepId, reason: why.value }); }, "go"), " ",
        button("No-go", function () { post({ action: "no-go", stepId: cur.stepId, reason: why.value }); }, "no-go"));
    }
  }
  function render(snap) {
    var s = snap.state;
    $("status").textContent = s.status + (s.reason ? " — " + s.reason : "");
    $("rto").textContent = s.rto.startMono === null ? "not started" : clock(snap.rtoMs) + (s.rto.stopMono !== null ? " (stopped)" : "");
    $("rto-objective").textContent = s.objectives.rtoMs === null ? "" : "objective " + clock(s.objectives.rtoMs);
    $("faults").textContent = s.faultsOpen.length ? s.faultsOpen.map(function (f) { return f.fault + " on " + f.target; }).join(", ") : "none";
    var hs = Object.keys(s.hypotheses);
    $("hypotheses").textContent = hs.length ? hs.map(function (n) { var h = s.hypotheses[n]; return n + " " + (h.ok ? "OK" : "FAILING") + " (" + h.good + "/" + h.total + ")"; }).join("; ") : "none declared";
    var body = $("steps").tBodies[0];
    while (body.rows.length < s.steps.length) body.insertRow().innerHTML = "<td></td><td></td><td></td><td></td><td></td><td></td>";
    s.steps.forEach(function (st, i) {
      var row = body.rows[i];
      row.className = st.status; row.dataset.step = st.stepId;
      var actual = st.startedMono === null ? null : (st.endedMono !== null ? st.endedMono : snap.nowMono) - st.startedMono;
      var cells = [String(i + 1), st.title + (st.branch ? " [" + st.branch + "]" : ""), st.kind, st.status, clock(actual) + " / " + clock(st.plannedMs), who(st.actor)];
      for (var c = 0; c < cells.length; c++) if (row.cells[c].textContent !== cells[c]) row.cells[c].textContent = cells[c];
    });
    var cur = s.steps.filter(function (x) { return x.stepId === s.current; })[0];
    $("now-title").textContent = cur ? cur.title + " — " + cur.instructions : (s.status === "running" ? "—" : "ended: " + s.status);
    var prose = cur ? (snap.steps.filter(function (x) { return x.stepId === cur.stepId; })[0] || {}).proseHtml || "" : "";
    if ($("now-prose").dataset.step !== (cur ? cur.stepId : "")) { $("now-prose").innerHTML = prose; $("now-prose").dataset.step = cur ? cur.stepId : ""; }
    $("timeline").innerHTML = snap.timeline;
    var notes = $("notes");
    notes.textContent = "";
    s.notes.slice(-50).forEach(function (n) { var li = document.createElement("li"); li.textContent = who(n.actor) + ": " + n.text; notes.append(li); });
    actions(snap);
    document.body.dataset.entries = String(s.entries);
  }
  $("note-form").addEventListener("submit", function (e) { e.preventDefault(); var t = $("note-text"); post({ action: "note", text: t.value }).then(function () { t.value = ""; }); });
  $("abort").addEventListener("click", function () { if (confirm("Abort the drill? Every fault is reverted.")) post({ action: "abort", reason: "aborted from the web view" }); });
  var source = new EventSource("/events?token=" + encodeURIComponent(token));
  source.addEventListener("state", function (e) { last = JSON.parse(e.data); render(last); });
  source.addEventListener("error", function () { say(last && last.state.status !== "running" ? "the drill has ended" : "reconnecting…"); });
})();
`
