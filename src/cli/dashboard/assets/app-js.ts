/**
 * The dashboard's script, an ES module the browser loads as it is. It builds the DOM with
 * `textContent` only (job data never becomes markup) and polls the JSON API every two seconds.
 * Kept free of backticks and `${` so that it can live in this template literal.
 */
export const APP_JS = String.raw`const STATES = ["ready", "delayed", "running", "dead"];
// The queue table's counts: "limited" (due, but waiting for a limit of their actor) is no state
// of its own to list, so it has no link.
const COUNTS = ["ready", "limited", "delayed", "running", "dead"];
const PRIORITIES = ["high", "medium", "low"];
const view = { queue: undefined, state: "ready", extraPages: false, next: undefined, job: undefined };
const $ = (id) => document.getElementById(id);

async function api(path, body) {
  const init = body === undefined ? undefined : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const res = await fetch("api/" + path, init);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const error = new Error(data.error || res.statusText);
    error.data = data;
    throw error;
  }
  return data;
}

function h(tag, attrs, ...children) {
  const svg = tag === "svg" || tag === "polyline";
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
  return el;
}

const q = (s) => encodeURIComponent(s);
const when = (ms) => (ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "");
const say = (text, error) => { $("status").textContent = text; $("status").className = error ? "error" : ""; };

async function act(label, fn) {
  try {
    await fn();
    say(label);
  } catch (error) {
    say(label + " failed: " + error.message, true);
  }
  await refresh();
}

function backlog(counts) { return counts.ready + (counts.limited || 0) + counts.delayed + counts.running; }

function sparkline(history) {
  const values = history.map((s) => backlog(s.counts));
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? 160 / (values.length - 1) : 0;
  const points = values.map((v, i) => (i * step).toFixed(1) + "," + (27 - (v / max) * 25).toFixed(1)).join(" ");
  return h("svg", { class: "spark", viewBox: "0 0 160 28", role: "img", "aria-label": "backlog over time" },
    h("polyline", { points }));
}

function rate(history) {
  const last = history[history.length - 1];
  if (!last) return "";
  const first = history.find((s) => s.at >= last.at - 60000) || last;
  if (first === last) return "";
  const perMin = ((backlog(last.counts) - backlog(first.counts)) * 60000) / (last.at - first.at);
  return (perMin >= 0 ? "+" : "") + perMin.toFixed(1) + "/min";
}

function total(counts) { return STATES.reduce((sum, state) => sum + counts[state], 0); }

// The first view: the queue with the most messages (ties by name), in its state with the most
// (ties in tab order), so that it opens on something rather than on an empty tab.
function firstView(queues) {
  const busiest = queues.reduce((best, queue) =>
    total(queue.counts) > total(best.counts) || (total(queue.counts) === total(best.counts) && queue.name < best.name) ? queue : best);
  const state = STATES.reduce((best, state) => (busiest.counts[state] > busiest.counts[best] ? state : best), STATES[0]);
  return { queue: busiest.name, state };
}

async function refreshQueues() {
  const { queues } = await api("queues");
  if (!view.queue && queues.length) Object.assign(view, firstView(queues));
  $("queue-rows").replaceChildren(...queues.map((queue) => h("tr", { "data-queue": queue.name },
    h("td", {}, h("div", { class: "name-cell" },
      h("a", { href: "#", class: "queue-link", title: queue.name, onclick: (e) => { e.preventDefault(); select(queue.name, "ready"); } }, queue.name),
      queue.paused ? h("span", { class: "paused" }, "paused") : null,
      queue.problem ? h("span", { class: "paused", title: queue.problem }, "broken data") : null)),
    COUNTS.map((state) => state === "limited" ? limitedCell(queue.counts) : h("td", { class: "n", "data-count": state },
      h("a", { href: "#", onclick: (e) => { e.preventDefault(); select(queue.name, state); } }, queue.counts[state]))),
    h("td", {}, sparkline(queue.history), h("span", { class: "rate" }, rate(queue.history))),
    h("td", {}, h("div", { class: "buttons" }, queue.paused
      ? h("button", { onclick: () => act("resumed " + queue.name, () => api("queues/" + q(queue.name) + "/resume", {})) }, "Resume")
      : h("button", { onclick: () => act("paused " + queue.name, () => api("queues/" + q(queue.name) + "/pause", {})) }, "Pause"))))));
}

function limitedCell(counts) {
  const by = Object.entries(counts.limitedBy || {}).map(([actor, n]) => actor + ": " + n).join(", ");
  return h("td", { class: "n", "data-count": "limited", title: by ? "waiting for a limit: " + by : "none waits for a limit" }, counts.limited || 0);
}

function select(queue, state) {
  view.queue = queue;
  view.state = state;
  view.extraPages = false;
  refreshJobs();
}

function jobRow(job) {
  const m = job.message;
  const base = "queues/" + q(m.queue) + "/";
  const buttons = [];
  if (job.state === "dead") {
    buttons.push(h("button", { onclick: () => act("replayed " + m.id, () => api(base + "replay", { ids: [m.id] })) }, "Replay"));
    buttons.push(h("button", { class: "danger", onclick: () => act("deleted " + m.id, () => api(base + "delete-dead", { ids: [m.id] })) }, "Delete"));
  } else if (job.cancelling) {
    buttons.push(h("span", {}, "cancelling…"));
  } else {
    buttons.push(h("button", { class: "danger", onclick: () => act("cancel " + m.id, () => api(base + "jobs/" + q(m.id) + "/cancel", { mode: "dead" })) }, "Cancel"));
  }
  const error = job.error ? h("div", { class: "err" },
    h("div", { class: "err-text", title: errorLine(job.error) }, errorLine(job.error)),
    job.error.stack ? h("details", {}, h("summary", {}, "stack"), h("pre", {}, job.error.stack)) : null) : "";
  const at = job.state === "delayed" ? m.executeAt : job.state === "running" ? job.leaseUntil : job.state === "dead" ? job.failedAt : m.enqueuedAt;
  const open = h("a", { href: "#", class: "job-link", title: "open job " + m.id, onclick: (e) => { e.preventDefault(); openJob(m.id, m.queue); } }, m.id);
  return h("tr", { "data-job": m.id, "data-state": job.state },
    h("td", {}, open), h("td", { class: "clip", title: m.topic }, m.topic),
    h("td", { class: "n" }, m.attempt), h("td", {}, when(at)),
    h("td", { class: "error" }, error), h("td", {}, h("div", { class: "buttons" }, buttons)));
}

async function refreshJobs(more) {
  if (!view.queue) return;
  $("jobs-queue").textContent = view.queue;
  $("state-tabs").replaceChildren(...STATES.map((state) =>
    h("button", { "aria-pressed": String(state === view.state), onclick: () => select(view.queue, state) }, state)));
  const base = "queues/" + q(view.queue) + "/";
  $("jobs-actions").replaceChildren(...(view.state === "dead" ? [
    h("button", { onclick: () => act("replayed all of " + view.queue, () => api(base + "replay", { all: true })) }, "Replay all"),
    h("button", { class: "danger", onclick: () => act("deleted the dead letters of " + view.queue, () => api(base + "delete-dead", { all: true })) }, "Delete all"),
  ] : []));
  if (view.extraPages && !more) return;
  const cursor = more && view.next ? "&cursor=" + q(view.next) : "";
  const asked = JSON.stringify([view.queue, view.state]);
  const page = await api(base + "jobs?state=" + view.state + "&limit=50" + cursor);
  // Another queue or state was chosen while this page was on its way: it is not what to show.
  if (JSON.stringify([view.queue, view.state]) !== asked) return;
  const rows = page.items.map(jobRow);
  if (more) $("job-rows").append(...rows);
  else $("job-rows").replaceChildren(...rows);
  view.next = page.next;
  $("more").hidden = !page.next;
}

async function refreshSchedules() {
  const schedules = await api("schedules");
  $("schedule-rows").replaceChildren(...schedules.map((s) => h("tr", { "data-schedule": s.id },
    h("td", { class: "clip", title: s.id }, s.id), h("td", { class: "clip", title: s.queue }, s.queue),
    h("td", { class: "clip", title: s.topic }, s.topic),
    h("td", {}, s.schedule.cron ? "cron " + s.schedule.cron : "every " + s.schedule.everyMs + " ms"),
    h("td", {}, when(s.nextRunAt)),
    h("td", {}, h("div", { class: "buttons" }, h("button", { class: "danger", onclick: () => act("removed schedule " + s.id, () => api("queues/" + q(s.queue) + "/schedules/" + q(s.id) + "/remove", {})) }, "Remove"))))));
}

// One job in full, built from text nodes only: what the job itself holds, then its error and
// its stored result. view.job says which job is shown; refresh() shows it again when it changed.
function errorLine(error) {
  return (error.code ? "[" + error.code + "] " : "") + error.name + ": " + error.message;
}

function pretty(json) {
  try { return JSON.stringify(JSON.parse(json), null, 2); } catch { return json; }
}

// Which limit holds a waiting job, as the CLI says it: concurrency limit 2 for key "acc-1".
function heldByText(held) {
  const limit = held.limit === "concurrency" ? "concurrency limit " + held.max : "rate limit " + held.max + " per window";
  return held.key === "" ? limit : limit + " for key " + JSON.stringify(held.key);
}

// A step's place in its flow, as the CLI says it: f1 step 0.2 (its job id is f1~0.2).
function flowText(flow) {
  return flow.id + " step " + flow.stage + (flow.branch === undefined ? "" : "." + flow.branch);
}

// The steps a flow step knows of, as the CLI says them: 0.0 resize running, 1 zip_files pending.
function stepsText(steps) {
  return steps.map(function (s) {
    return s.stage + (s.branch === undefined ? "" : "." + s.branch) + " " + s.actor + " " + s.state;
  }).join(", ");
}

function field(label, value, cls) {
  return h("div", {}, h("dt", {}, label), h("dd", { class: cls }, value));
}

function resultFields(result) {
  if (!result) return [];
  if (result.ok) {
    return [field("finished", when(result.finishedAt)),
      field("result", result.value === undefined ? "(no value)" : h("pre", { class: "result" }, pretty(result.value)))];
  }
  return [field("finished", when(result.finishedAt)),
    field("outcome", "failed after " + result.attempts + " attempt(s)"),
    field("final error", errorLine(result.error), "error"),
    result.error.stack ? field("final stack", h("pre", { class: "stack" }, result.error.stack)) : null];
}

function jobFields(job) {
  if (job.state === "finished") {
    return [field("id", job.id), field("state", "finished"), ...resultFields(job.result)];
  }
  const m = job.message;
  const headers = Object.entries(m.headers || {});
  const s = m.schedule;
  return [
    field("id", m.id),
    field("queue", m.queue),
    field("actor", m.topic),
    field("state", job.cancelling ? "running (cancelling)" : job.state),
    job.heldBy ? field("held by", heldByText(job.heldBy), "held-by") : null,
    field("attempt", m.attempt + " of " + (m.retries + 1) + " (retries: " + m.retries + ")"),
    job.progress !== undefined ? field("progress", JSON.stringify(job.progress), "progress") : null,
    job.flow ? field("flow", flowText(job.flow), "flow") : null,
    job.flow && job.flow.steps ? field("steps", stepsText(job.flow.steps), "flow-steps") : null,
    field("priority", (PRIORITIES[m.priority] || "") + " (" + m.priority + ")"),
    field("timeout", m.timeoutMs + " ms"),
    field("enqueued", when(m.enqueuedAt)),
    m.executeAt ? field("runs at", when(m.executeAt)) : null,
    job.leaseUntil ? field("lease until", when(job.leaseUntil)) : null,
    job.failedAt ? field("failed at", when(job.failedAt)) : null,
    s ? field("schedule", s.cron ? "cron " + s.cron : "every " + s.everyMs + " ms") : null,
    m.stalls ? field("stalls", m.stalls) : null,
    m.resultTtlMs ? field("keeps its result", m.resultTtlMs + " ms") : null,
    field("arguments", m.payload === undefined ? "(none)" : h("pre", { class: "args" }, pretty(m.payload))),
    field("headers", headers.length ? h("ul", {}, headers.map(([k, v]) => h("li", {}, k + ": " + v))) : "(none)"),
    job.error ? field(job.state === "dead" ? "error" : "last attempt's error", errorLine(job.error), "error") : null,
    job.error && job.error.stack ? field("stack", h("pre", { class: "stack" }, job.error.stack)) : null,
    ...resultFields(job.result),
  ];
}

function showJob(id, content) {
  const out = $("job-view");
  if (id === undefined) out.removeAttribute("data-job");
  else out.setAttribute("data-job", id);
  out.replaceChildren(...content);
}

function closeJob() {
  view.job = undefined;
  showJob(undefined, []);
}

async function refreshJob() {
  const shown = view.job;
  if (!shown) return;
  let job;
  try {
    job = await api("jobs/" + q(shown.id) + (shown.queue ? "?queue=" + q(shown.queue) : ""));
  } catch (error) {
    if (view.job !== shown) return;
    const key = "error " + error.message;
    if (shown.key === key) return;
    shown.key = key;
    showJob(undefined, [h("p", { class: "err" }, error.message)]);
    return;
  }
  const key = JSON.stringify(job);
  // Another job was opened meanwhile, or nothing changed (a rebuilt view loses the reader's place).
  if (view.job !== shown || shown.key === key) return;
  shown.key = key;
  const id = job.state === "finished" ? job.id : job.message.id;
  showJob(id, [
    h("div", { class: "job-title" }, h("h3", {}, "Job " + id), h("button", { id: "job-close", onclick: closeJob }, "Close")),
    h("dl", { class: "fields" }, jobFields(job)),
  ]);
}

async function openJob(id, queue) {
  view.job = { id, queue };
  await refreshJob();
  $("job").scrollIntoView({ block: "nearest" });
}

function lookup(event) {
  event.preventDefault();
  if ($("lookup-id").value.trim() === "") return;
  openJob($("lookup-id").value.trim(), $("lookup-queue").value.trim() || undefined);
}

// A small check of the JSON Schema (types, required, enums) before sending; the server's zod
// schema decides.
function check(schema, value, path, problems) {
  if (!schema || typeof schema !== "object") return problems;
  const at = path || "(root)";
  if (schema.anyOf) {
    if (!schema.anyOf.some((s) => check(s, value, path, []).length === 0)) problems.push(at + ": matches none of its alternatives");
    return problems;
  }
  if (schema.enum && !schema.enum.includes(value)) problems.push(at + ": one of " + schema.enum.join(", "));
  const type = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
  const types = [].concat(schema.type || []);
  const ok = types.length === 0 || types.includes(type) || (type === "number" && types.includes("integer") && Number.isInteger(value));
  if (!ok) { problems.push(at + ": expected " + types.join(" or ")); return problems; }
  if (type === "object") {
    for (const key of schema.required || []) if (!(key in value)) problems.push((path ? path + "." : "") + key + ": required");
    for (const [key, sub] of Object.entries(schema.properties || {})) if (key in value) check(sub, value[key], (path ? path + "." : "") + key, problems);
  }
  if (type === "array" && schema.items) value.forEach((v, i) => check(schema.items, v, at + "." + i, problems));
  return problems;
}

function skeleton(schema) {
  if (!schema || typeof schema !== "object") return null;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) return skeleton(schema.anyOf[0]);
  const type = [].concat(schema.type || [])[0];
  if (type === "object") {
    const out = {};
    for (const [key, sub] of Object.entries(schema.properties || {})) out[key] = skeleton(sub);
    return out;
  }
  return { array: [], string: "", number: 0, integer: 0, boolean: false }[type] ?? null;
}

async function refreshActors() {
  const actors = await api("actors");
  $("actor-list").replaceChildren(...(actors.length ? actors.map((actor) => {
    const args = h("textarea", { name: "args", "aria-label": "arguments of " + actor.name });
    args.value = JSON.stringify(skeleton(actor.args), null, 2);
    const queue = h("input", { name: "queue", placeholder: actor.queue });
    const out = h("div", { class: "outcome" });
    const send = async (event) => {
      event.preventDefault();
      let value;
      try { value = args.value.trim() === "" ? undefined : JSON.parse(args.value); }
      catch (error) { out.replaceChildren(h("p", { class: "err" }, "not JSON: " + error.message)); return; }
      const problems = value === undefined ? [] : check(actor.args, value, "", []);
      if (problems.length) { out.replaceChildren(h("ul", { class: "err" }, problems.map((p) => h("li", {}, p)))); return; }
      try {
        const done = await api("actors/" + q(actor.name) + "/enqueue", { args: value, queue: queue.value.trim() || undefined });
        out.replaceChildren(h("p", { "data-enqueued": done.id }, "enqueued " + done.id + " on " + done.queue));
        await refresh();
      } catch (error) {
        const issues = (error.data && error.data.issues) || [];
        out.replaceChildren(h("p", { class: "err" }, error.message.split("\n")[0]),
          h("ul", { class: "err" }, issues.map((i) => h("li", {}, (i.path.join(".") || "(root)") + ": " + i.message))));
      }
    };
    return h("div", { class: "actor", "data-actor": actor.name },
      h("h3", {}, actor.name + " → " + actor.queue),
      h("details", {}, h("summary", {}, "argument schema"), h("pre", {}, JSON.stringify(actor.args, null, 2))),
      h("form", { onsubmit: send }, args, queue, h("button", {}, "Enqueue")), out);
  }) : [h("p", {}, "Start the dashboard with --registry to see actors and enqueue jobs.")]));
}

async function refresh() {
  try {
    await refreshQueues();
    await refreshJobs();
    await refreshSchedules();
    await refreshJob();
    if ($("status").className !== "error") say("updated " + new Date().toLocaleTimeString());
  } catch (error) {
    say(error.message, true);
  }
}

$("lookup-form").addEventListener("submit", lookup);
$("more").addEventListener("click", () => { view.extraPages = true; refreshJobs(true); });
refreshActors().catch((error) => say(error.message, true));
refresh();
setInterval(refresh, 2000);
`;
