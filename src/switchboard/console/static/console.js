// The live view: one server-sent snapshot per change (rooms, participants, dispatches,
// the rule decisions and the timeline); read-only.
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

function render(snapshot) {
  $("empty").classList.toggle("hidden", snapshot.rooms.length > 0);
  $("rooms").replaceChildren(...snapshot.rooms.map((room) =>
    el("section", { class: `card room${room.open ? "" : " closed"}`, "data-room": room.name },
      el("h2", {}, `${room.name} `, el("span", { class: "sid" }, `${room.sid} · ${room.open ? "open" : "closed"}`)),
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
