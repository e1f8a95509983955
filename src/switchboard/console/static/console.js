// The live view: one server-sent snapshot per change (rooms, participants, dispatches,
// the rule decisions, the timeline and the call's waterfall); read-only.
const $ = (id) => document.getElementById(id);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const time = (iso) => el("time", { dateTime: iso }, new Date(iso).toLocaleTimeString([], { hour12: false }));

function table(headers, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows));
}

function participants(room) {
  if (!room.participants.length) return el("p", { class: "muted" }, "nobody");
  return table(["Identity", "Kind", "Agent / number", "State"], room.participants.map((p) =>
    el("tr", { "data-identity": p.identity, "data-kind": p.kind },
      el("td", {}, p.name && p.name !== p.identity ? `${p.name} (${p.identity})` : p.identity),
      el("td", {}, el("span", { class: `kind ${p.kind}` }, p.kind)),
      el("td", {}, p.agent_name || p.sip_number), el("td", {}, p.state))));
}

function dispatches(room) {
  if (!room.dispatches.length) return el("p", {}, "no dispatch");
  return table(["Agent", "Dispatch"], room.dispatches.map((d) =>
    el("tr", { "data-agent": d.agent_name }, el("td", {}, d.agent_name || "(unnamed)"), el("td", {}, d.id))));
}

function decisions(room) {
  if (!room.decisions.length) return el("p", {}, "no decision recorded by the service");
  return el("div", {}, ...room.decisions.map((d) => el("details", { "data-rule": d.rule },
    el("summary", {}, `rule ${d.rule} → ${d.agents.join(", ") || "no agent"} (${d.event_id})`),
    el("pre", { class: "explain" }, d.explanation))));
}

function timeline(room) {
  return el("ol", { class: "timeline" }, ...room.timeline.map((entry) =>
    el("li", { "data-kind": entry.kind }, time(entry.at), el("span", { class: "tag" }, entry.kind), entry.summary)));
}

const seconds = (ms) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
let selected = null; // {room, lane, index}: the bar whose details are open, kept across updates

function barDetail(trace, bar, lane) {
  const rows = [["Step", bar.step], ["Lane", lane.title], ["Room", bar.room],
    ["Start", `+${seconds(bar.offset_ms)} (${bar.start})`],
    ["Duration", `${seconds(bar.duration_ms)}${bar.running ? " (running)" : ""}`]];
  if (bar.status) rows.push(["Status", bar.status]);
  if (bar.rule) rows.push(["Rule", bar.rule]);
  const marks = trace.marks.filter((m) => m.lane === lane.key && m.step === bar.step);
  return el("div", { class: "bar-detail", "data-step": bar.step },
    el("h4", {}, bar.label),
    el("dl", {}, ...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { "data-field": k.toLowerCase() }, v)])),
    bar.why ? el("pre", { class: "explain why" }, bar.why) : null,
    ...marks.map((m) => el("p", { class: "mark" }, `✖ ${m.problem}. Fix: ${m.fix}`)));
}

function waterfall(room) {
  const trace = room.trace;
  if (!trace || !trace.lanes.length) return el("p", { class: "muted" }, "nothing recorded in the store yet");
  const total = Math.max(trace.duration_ms, 1);
  const marked = new Set(trace.marks.map((m) => `${m.lane} ${m.step}`));
  const detail = el("div", { class: "detail-slot" });
  const rows = [];
  for (const lane of trace.lanes) {
    rows.push(el("div", { class: "lane-title", "data-role": lane.role }, lane.title));
    lane.bars.forEach((bar, index) => {
      const left = (100 * bar.offset_ms) / total;
      const width = Math.max((100 * bar.duration_ms) / total, 0.4);
      const bad = marked.has(`${lane.key} ${bar.step}`);
      const button = el("button", {
        class: `bar${bar.running ? " running" : ""}${bad ? " bad" : ""}${bar.rule ? " ruled" : ""}`,
        "data-step": bar.step, title: `${bar.label}: ${seconds(bar.duration_ms)} ${bar.status}`,
        onclick: () => {
          selected = { room: room.name, lane: lane.key, index };
          detail.replaceChildren(barDetail(trace, bar, lane));
        },
      });
      button.style.left = `${Math.min(left, 99.6)}%`;
      button.style.width = `${Math.min(width, 100 - Math.min(left, 99.6))}%`;
      rows.push(el("div", { class: "wf-row", "data-lane": lane.key, "data-role": lane.role, "data-step": bar.step },
        el("span", { class: "wf-label" }, bar.label),
        el("span", { class: "wf-track" }, button),
        el("span", { class: "wf-time" }, `${seconds(bar.duration_ms)}${bar.running ? "…" : ""}`),
        el("span", { class: "wf-status" }, bar.rule ? `rule ${bar.rule}` : bar.status)));
      if (selected && selected.room === room.name && selected.lane === lane.key && selected.index === index)
        detail.replaceChildren(barDetail(trace, bar, lane));
    });
  }
  return el("div", { class: "waterfall", "data-live": String(trace.live) },
    el("div", { class: "wf-axis" }, el("span", {}, "0 s"),
      el("span", {}, `${seconds(trace.duration_ms)}${trace.live ? " · live" : ""}`)),
    ...rows,
    trace.marks.length ? el("ul", { class: "marks" }, ...trace.marks.map((m) =>
      el("li", { "data-lane": m.lane, "data-step": m.step },
        el("strong", {}, `✖ ${m.problem}`), ` at +${seconds(m.offset_ms)} (${m.step}). Fix: ${m.fix}`))) : null,
    detail);
}

function queueLine(room) {
  // Under a rule's limit: served (holds a slot) or waiting, with the place in line.
  const q = room.queue;
  if (!q) return null;
  const text = q.status === "waiting"
    ? `Queue: waiting, number ${q.position} in line for ${q.agents.join(", ")} (${q.key})`
    : `Queue: served by ${q.agents.join(", ")}, one of the slots of ${q.key}`;
  return el("p", { class: "queue", "data-queue": q.status, "data-position": String(q.position) }, text);
}

function render(snapshot) {
  $("empty").classList.toggle("hidden", snapshot.rooms.length > 0);
  $("rooms").replaceChildren(...snapshot.rooms.map((room) =>
    el("section", { class: `card room${room.open ? "" : " closed"}`, "data-room": room.name },
      el("h2", {}, `${room.name} `, el("span", { class: "sid" }, `${room.sid} · ${room.open ? "open" : "closed"}`)),
      queueLine(room),
      el("h3", {}, "Waterfall"), waterfall(room),
      el("div", { class: "grid" },
        el("div", {}, el("h3", {}, "Participants"), participants(room),
          el("h3", {}, "Dispatches"), dispatches(room), el("h3", {}, "Rule decisions"), decisions(room)),
        el("div", {}, el("h3", {}, "Timeline"), timeline(room))))));
}

const source = new EventSource("/console/api/events");
source.addEventListener("snapshot", (event) => {
  render(JSON.parse(event.data));
  $("status").textContent = `live · updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
  $("status").classList.add("connected");
  document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
});
source.addEventListener("error", () => {
  $("status").textContent = "reconnecting…";
  $("status").classList.remove("connected");
});
