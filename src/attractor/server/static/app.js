// Attractor dashboard: plain JavaScript over the server's JSON API and SSE stream (no build step).
// The runs page polls GET /pipelines; the run page follows GET /pipelines/{id}/events and, after
// each burst of entries, re-reads GET /pipelines/{id} (a fold done once on the server) to colour
// the graph, list the stages and show the questions. Text from runs is always set as textContent.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
}

async function api(method, url, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new Error((data && data.detail) || response.statusText);
    error.problem = data;
    throw error;
  }
  return data;
}

function badge(status) {
  return el("span", { class: `badge st-${status}` }, status);
}

function seconds(s) {
  return s === null || s === undefined ? "" : `${Number(s).toFixed(1)}s`;
}

// ---------------------------------------------------------------------------------- runs page

const runsState = { offset: 0, limit: 50, status: "" };

function dollars(cost) {
  return cost === null || cost === undefined ? "" : `$${cost.toFixed(4)}`;
}

function renderRuns(page) {
  const body = $("runs-body");
  body.replaceChildren(
    ...page.items.map((r) =>
      el("tr", { "data-id": r.id },
        el("td", {}, el("a", { href: `/runs/${encodeURIComponent(r.id)}` }, r.id)),
        el("td", {}, r.name), el("td", {}, badge(r.status)),
        el("td", {}, r.started_at.slice(0, 19).replace("T", " ")),
        el("td", {}, seconds(r.duration_s)), el("td", {}, r.current.join(", ")),
        el("td", {}, r.tokens || ""), el("td", {}, dollars(r.cost_usd)))));
  const last = Math.min(page.offset + page.items.length, page.total);
  $("page-info").textContent = page.total ? `${page.offset + 1}–${last} of ${page.total}` : "no runs yet";
  $("prev-page").disabled = page.offset === 0;
  $("next-page").disabled = page.next_offset === null;
}

async function refreshRuns() {
  const q = new URLSearchParams({ limit: runsState.limit, offset: runsState.offset });
  if (runsState.status) q.set("status", runsState.status);
  try {
    renderRuns(await api("GET", `/pipelines?${q}`));
  } catch (e) {
    $("page-info").textContent = e.message;
  }
}

function startRequest(withRunFields) {
  const kind = document.querySelector("input[name=kind]:checked").value;
  const req = kind === "path" ? { path: $("dot-path").value.trim() } : { source: $("dot-source").value };
  if (!withRunFields) return req;
  const backend = $("backend").value;
  req.backend = backend === "scripted" ? `scripted:${$("script").value.trim()}` : backend;
  if ($("goal").value.trim()) req.goal = $("goal").value.trim();
  req.auto_approve = $("auto-approve").checked;
  return req;
}

function showDiagnostics(text, ok) {
  const box = $("diagnostics");
  box.hidden = !text;
  box.textContent = text;
  box.classList.toggle("ok", !!ok);
}

function problemText(problem) {
  if (!problem) return "";
  if (problem.syntax_error) return problem.syntax_error.rendered;
  const lines = [problem.detail];
  for (const d of problem.diagnostics || []) lines.push(`${d.file}:${d.line}:${d.column}: ${d.severity}[${d.rule}]: ${d.message}${d.fix ? `\n  hint: ${d.fix}` : ""}`);
  for (const e of problem.errors || []) lines.push(`${e.source || ""} ${e.key || ""}: ${e.message}`);
  if (problem.hint) lines.push(`hint: ${problem.hint}`);
  return lines.join("\n");
}

async function validateForm() {
  try {
    const v = await api("POST", "/validate", startRequest(false));
    const summary = v.valid ? `valid: ${v.warnings} warning(s)` : `not valid: ${v.errors} error(s), ${v.warnings} warning(s)`;
    showDiagnostics([summary, v.rendered].filter(Boolean).join("\n\n"), v.valid);
    return v.valid;
  } catch (e) {
    showDiagnostics(problemText(e.problem) || e.message, false);
    return false;
  }
}

async function startRun(event) {
  event.preventDefault();
  $("start-status").textContent = "validating…";
  if (!(await validateForm())) {
    $("start-status").textContent = "fix the errors above first";
    return;
  }
  $("start-status").textContent = "starting…";
  try {
    const started = await api("POST", "/pipelines", startRequest(true));
    window.location.href = `/runs/${encodeURIComponent(started.id)}`;
  } catch (e) {
    $("start-status").textContent = "";
    showDiagnostics(problemText(e.problem) || e.message, false);
  }
}

function initRunsPage() {
  for (const radio of document.querySelectorAll("input[name=kind]")) {
    radio.addEventListener("change", () => {
      const pasted = radio.value === "source" && radio.checked;
      $("dot-source").hidden = !pasted;
      $("dot-path").hidden = pasted;
    });
  }
  $("backend").addEventListener("change", () => { $("script").hidden = $("backend").value !== "scripted"; });
  $("validate-btn").addEventListener("click", validateForm);
  $("start-form").addEventListener("submit", startRun);
  $("status-filter").addEventListener("change", () => { runsState.status = $("status-filter").value; runsState.offset = 0; refreshRuns(); });
  $("prev-page").addEventListener("click", () => { runsState.offset = Math.max(0, runsState.offset - runsState.limit); refreshRuns(); });
  $("next-page").addEventListener("click", () => { runsState.offset += runsState.limit; refreshRuns(); });
  refreshRuns();
  setInterval(refreshRuns, 2000);
}

// ----------------------------------------------------------------------------------- run page

const run = { id: "", status: null, lastSeq: 0, travelling: false, selected: "", types: new Set(), streams: new Set(), refreshTimer: 0, source: null };

function nodeGroups() {
  const groups = new Map();
  for (const g of document.querySelectorAll("#graph g.node")) {
    const title = g.querySelector("title");
    if (title) groups.set(title.textContent, g);
  }
  return groups;
}

function colourGraph(nodes, current) {
  const now = new Set(current);
  for (const [id, g] of nodeGroups()) {
    const status = nodes[id] || "pending";
    g.setAttribute("class", `node st-${status}${now.has(id) ? " current" : ""}`);
    g.dataset.status = status;
  }
}

async function loadGraph() {
  try {
    const response = await fetch(`/pipelines/${run.id}/graph`);
    if (!response.ok) throw new Error((await response.json()).detail);
    $("graph").innerHTML = await response.text();  // Graphviz output of ids, labels and shapes only
    for (const [id, g] of nodeGroups()) g.addEventListener("click", () => showStage(id));
    if (run.status) colourGraph(run.status.nodes, run.status.current);
  } catch (e) {
    $("graph").textContent = `the graph cannot be drawn: ${e.message}`;
  }
}

function renderButtons(s) {
  const st = s.status;
  $("pause-btn").disabled = !(s.driven_here && st === "running");
  $("unpause-btn").disabled = st !== "paused";
  $("resume-btn").disabled = !["stopped", "cancelled", "paused"].includes(st);
  $("cancel-btn").disabled = !s.driven_here;
}

function renderQuestions(s) {
  const box = $("questions");
  $("questions-card").hidden = s.pending_questions.length === 0;
  box.replaceChildren(...s.pending_questions.map((q) => {
    const form = el("div", { class: "question", "data-qid": q.id },
      el("p", { class: "q-text" }, q.text), el("p", { class: "muted" }, `${q.node} · ${q.id}`));
    const send = async (answer) => {
      try {
        await api("POST", q.answer_url, { answer });
        scheduleRefresh();
      } catch (e) {
        showError(e.message);
      }
    };
    if (!q.answerable) form.append(el("p", { class: "muted" }, "this run is not running here: resume it to answer"));
    for (const o of q.options) {
      form.append(el("button", { type: "button", class: "option", "data-key": o.key, onclick: () => send(o.key) }, o.label));
    }
    if (q.kind === "freeform" || q.options.length === 0) {
      const input = el("input", { type: "text", class: "answer-text", placeholder: "your answer" });
      form.append(input, el("button", { type: "button", onclick: () => send(input.value) }, "Send"));
    }
    if (!q.answerable) for (const b of form.querySelectorAll("button")) b.disabled = true;
    return form;
  }));
}

function renderStages(s) {
  $("stages-body").replaceChildren(...s.stages.map((st) =>
    el("tr", { class: "clickable", onclick: () => showStage(st.node) },
      el("td", {}, st.node), el("td", { class: "muted" }, st.stream), el("td", {}, badge(st.status)),
      el("td", {}, st.attempts), el("td", {}, st.retries || ""),
      el("td", {}, st.duration_ms === null ? "" : `${st.duration_ms} ms`), el("td", {}, st.failure_reason))));
}

function renderStatus(s) {
  run.status = s;
  const badgeEl = $("run-status");
  badgeEl.textContent = s.status;
  badgeEl.className = `badge st-${s.status}`;
  const facts = [`${s.event_count} events`, s.duration_s === null ? "" : `${seconds(s.duration_s)}`,
    s.tokens.total_tokens ? `${s.tokens.total_tokens} tokens` : "", dollars(s.cost_usd), s.backend ? `backend ${s.backend}` : "",
    s.forked_from ? `forked from ${s.forked_from}` : "", s.failure_reason ? `reason: ${s.failure_reason}` : "",
    s.error ? `stopped: ${s.error}` : ""];
  $("run-facts").textContent = facts.filter(Boolean).join(" · ");
  renderButtons(s);
  renderQuestions(s);
  renderStages(s);
  const slider = $("seq-slider");
  slider.max = Math.max(1, s.last_seq);
  if (!run.travelling) {
    slider.value = slider.max;
    colourGraph(s.nodes, s.current);
    $("seq-label").textContent = `live · seq ${s.last_seq}`;
  }
}

async function refreshStatus() {
  run.refreshTimer = 0;
  try {
    renderStatus(await api("GET", `/pipelines/${run.id}`));
    if (!run.travelling) $("context").textContent = JSON.stringify((await api("GET", `/pipelines/${run.id}/context`)).context, null, 2);
    if (run.selected) showStage(run.selected, true);
  } catch (e) {
    showError(e.message);
  }
}

function scheduleRefresh() {
  if (!run.refreshTimer) run.refreshTimer = setTimeout(refreshStatus, 120);
}

function showError(message) {
  const box = $("action-error");
  box.hidden = !message;
  box.textContent = message;
}

function field(label, value, pre) {
  if (value === undefined || value === null || value === "") return null;
  return el("div", { class: "field" }, el("h4", {}, label), pre ? el("pre", { class: "output" }, value) : el("p", {}, value));
}

async function showStage(node, quiet) {
  run.selected = node;
  try {
    const stage = await api("GET", `/pipelines/${run.id}/stages/${encodeURIComponent(node)}`);
    $("stage-panel").hidden = false;
    $("stage-title").textContent = `${stage.label} (${stage.node}, ${stage.handler}) — ${stage.status}`;
    const parts = stage.attempts.map((a) => el("div", { class: "attempt" },
      el("h3", {}, `attempt ${a.attempt} · ${a.stream} · `, badge(a.status), a.duration_ms === null ? "" : ` · ${a.duration_ms} ms`),
      ...[field("failure reason", a.failure_reason), field("notes", a.notes), field("question", a.question),
        field("answer", a.answer), field("prompt", a.prompt, true), field("response", a.response, true),
        field("usage", Object.keys(a.usage).length ? JSON.stringify(a.usage) : ""),
        ...a.shell.map((sh) => field(`$ ${sh.command} → exit ${sh.exit_code ?? "?"}${sh.timed_out ? " (timed out)" : ""}`,
          [sh.stdout, sh.stderr, sh.error].filter(Boolean).join("\n--- stderr ---\n") || "(no output)", true))].filter(Boolean)));
    $("stage-body").replaceChildren(...(parts.length ? parts : [el("p", { class: "muted" }, "not started yet")]));
    if (!quiet) $("live-output").textContent = "";
  } catch (e) {
    if (!quiet) showError(e.message);
  }
}

function summary(entry) {
  const skip = new Set(["seq", "at", "stream", "type", "hash", "v"]);
  const parts = [];
  for (const [k, v] of Object.entries(entry)) {
    if (skip.has(k) || k === "dot_source") continue;
    const text = typeof v === "object" ? JSON.stringify(v) : String(v);
    parts.push(`${k}=${text.length > 80 ? `${text.slice(0, 80)}…` : text}`);
  }
  const line = parts.join(" ");
  return line.length > 240 ? `${line.slice(0, 240)}…` : line;
}

function addOption(select, set, value) {
  if (set.has(value)) return;
  set.add(value);
  select.append(el("option", { value }, value));
}

function rowVisible(row) {
  const type = $("type-filter").value;
  const stream = $("stream-filter").value;
  return (!type || row.dataset.type === type) && (!stream || row.dataset.stream === stream);
}

function applyFilters() {
  for (const row of $("events-body").children) row.hidden = !rowVisible(row);
}

function addEntry(entry) {
  run.lastSeq = entry.seq;
  addOption($("type-filter"), run.types, entry.type);
  addOption($("stream-filter"), run.streams, entry.stream);
  const row = el("tr", { "data-type": entry.type, "data-stream": entry.stream, "data-seq": entry.seq },
    el("td", {}, entry.seq), el("td", {}, entry.at.slice(11, 23)), el("td", {}, entry.stream),
    el("td", {}, entry.type), el("td", { class: "details" }, summary(entry)));
  row.hidden = !rowVisible(row);
  $("events-body").append(row);
}

function follow() {
  const source = new EventSource(`/pipelines/${run.id}/events?after=${run.lastSeq}`);
  run.source = source;
  source.addEventListener("entry", (e) => { addEntry(JSON.parse(e.data)); scheduleRefresh(); });
  source.addEventListener("delta", (e) => {
    const d = JSON.parse(e.data);
    if (!run.selected || d.node === run.selected) $("live-output").textContent += d.text;
  });
  source.addEventListener("end", () => { source.close(); scheduleRefresh(); });
}

async function travel() {
  const seq = Number($("seq-slider").value);
  if (run.status && seq >= run.status.last_seq) return goLive();
  run.travelling = true;
  try {
    const then = await api("GET", `/pipelines/${run.id}/state?at=${seq}`);
    if (Number($("seq-slider").value) !== seq) return;  // the slider moved on meanwhile
    colourGraph(then.nodes, then.current);
    $("seq-label").textContent = `seq ${then.seq} · ${then.event_type} · ${then.at.slice(11, 23)} · ${then.status}`;
    $("context-title").textContent = `Context at seq ${then.seq}`;
    $("context").textContent = JSON.stringify(then.context, null, 2);
  } catch (e) {
    showError(e.message);
  }
}

function goLive() {
  run.travelling = false;
  $("context-title").textContent = "Context";
  scheduleRefresh();
}

async function act(verb) {
  showError("");
  try {
    await api("POST", `/pipelines/${run.id}/${verb}`);
    if ((verb === "resume" || verb === "unpause") && run.source && run.source.readyState === 2) follow();
    scheduleRefresh();
  } catch (e) {
    showError(problemText(e.problem) || e.message);
  }
}

async function forkHere() {
  const seq = run.travelling ? Number($("seq-slider").value) : run.status.last_seq;
  try {
    const started = await api("POST", `/pipelines/${run.id}/fork?at=${seq}`);
    window.location.href = `/runs/${encodeURIComponent(started.id)}`;
  } catch (e) {
    showError(problemText(e.problem) || e.message);
  }
}

function initRunPage() {
  run.id = encodeURIComponent(document.body.dataset.run);
  for (const verb of ["pause", "unpause", "resume", "cancel"]) $(`${verb}-btn`).addEventListener("click", () => act(verb));
  $("fork-btn").addEventListener("click", forkHere);
  $("live-btn").addEventListener("click", () => { $("seq-slider").value = $("seq-slider").max; goLive(); });
  $("seq-slider").addEventListener("input", travel);
  $("stage-close").addEventListener("click", () => { run.selected = ""; $("stage-panel").hidden = true; });
  $("type-filter").addEventListener("change", applyFilters);
  $("stream-filter").addEventListener("change", applyFilters);
  refreshStatus().then(loadGraph);
  follow();
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.body.dataset.page === "runs") initRunsPage();
  if (document.body.dataset.page === "run") initRunPage();
});
