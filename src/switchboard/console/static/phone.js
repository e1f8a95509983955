// The softphone: join a room with the microphone, talk and type to the agent, dial a phone.
// Unlike the LiveKit starter apps, an agent leaving never ends the session: humans stay.
import { ParticipantKind, Room, RoomEvent, Track } from "/console/static/vendor/livekit-client.esm.mjs";

const $ = (id) => document.getElementById(id);
const KINDS = { [ParticipantKind.STANDARD]: "standard", [ParticipantKind.INGRESS]: "ingress",
  [ParticipantKind.EGRESS]: "egress", [ParticipantKind.SIP]: "sip", [ParticipantKind.AGENT]: "agent" };

let room = null;
let audioContext = null;
const analysers = new Map(); // identity -> AnalyserNode of their audio
const segments = new Map(); // transcription segment id -> line element

async function api(path, body) {
  const response = await fetch(path, { method: body ? "POST" : "GET", credentials: "same-origin",
    headers: body ? { "Content-Type": "application/json" } : {}, body: body && JSON.stringify(body) });
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function kindOf(participant) { return KINDS[participant.kind] ?? "standard"; }

function addLine(text, who, cls = "") {
  const line = document.createElement("div");
  line.className = `line ${cls}`;
  if (who) { const label = document.createElement("span"); label.className = "who"; label.textContent = who; line.append(label); }
  const body = document.createElement("span"); body.className = "text"; body.textContent = text;
  line.append(body);
  $("transcript").append(line);
  $("transcript").scrollTop = $("transcript").scrollHeight;
  return body;
}

function label(identity) {
  const p = room?.remoteParticipants.get(identity);
  if (!p) return identity === room?.localParticipant.identity ? "you" : identity;
  return p.attributes["lk.agent_name"] || p.name || identity;
}

function renderParticipants() {
  const body = $("participants");
  body.replaceChildren();
  if (!room) return;
  const everyone = [room.localParticipant, ...room.remoteParticipants.values()];
  for (const p of everyone) {
    const row = document.createElement("tr");
    const local = p === room.localParticipant;
    const kind = kindOf(p);
    const audio = local ? (p.isMicrophoneEnabled ? "mic on" : "mic off")
      : (analysers.has(p.identity) ? "subscribed" : "");
    row.dataset.identity = p.identity;
    row.dataset.kind = kind;
    row.dataset.audio = audio;
    const cells = [`${p.name || p.identity}${local ? " (you)" : ""}`, kind,
      p.attributes["lk.agent_name"] || p.attributes["sip.phoneNumber"] || ""];
    for (const [i, text] of cells.entries()) {
      const cell = document.createElement("td");
      if (i === 1) { const tag = document.createElement("span"); tag.className = `kind ${kind}`; tag.textContent = text; cell.append(tag); }
      else cell.textContent = text;
      row.append(cell);
    }
    const meterCell = document.createElement("td");
    meterCell.innerHTML = audio === "subscribed" ? '<span class="meter"><span></span></span>' : audio;
    row.append(meterCell);
    body.append(row);
  }
}

function levelOf(identity) {
  const analyser = analysers.get(identity);
  if (!analyser) return 0;
  const samples = new Float32Array(analyser.fftSize);
  analyser.getFloatTimeDomainData(samples);
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

function updateMeters() {
  for (const row of $("participants").rows) {
    const bar = row.querySelector(".meter > span");
    if (!bar) continue;
    const level = levelOf(row.dataset.identity);
    row.dataset.level = level.toFixed(4);
    bar.style.width = `${Math.min(100, level * 400)}%`;
  }
  requestAnimationFrame(updateMeters);
}

function onTrackSubscribed(track, _publication, participant) {
  if (track.kind !== Track.Kind.Audio) return;
  const element = track.attach();
  element.dataset.identity = participant.identity;
  $("audio").append(element);
  if (audioContext) {
    const source = audioContext.createMediaStreamSource(new MediaStream([track.mediaStreamTrack]));
    const analyser = audioContext.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    analysers.set(participant.identity, analyser);
  }
  renderParticipants();
}

function onTrackUnsubscribed(track, _publication, participant) {
  track.detach().forEach((element) => element.remove());
  if (track.kind === Track.Kind.Audio) analysers.delete(participant.identity);
  renderParticipants();
}

function onParticipantDisconnected(participant) {
  analysers.delete(participant.identity);
  if (participant.kind === ParticipantKind.AGENT) {
    // The starter apps end the session here ("Agent left the room unexpectedly"); we stay.
    const name = participant.attributes["lk.agent_name"] || participant.identity;
    $("agent-left").classList.remove("hidden");
    addLine(`The agent left (${name}). You are still connected.`, "", "system agent-left");
  } else {
    addLine(`${participant.name || participant.identity} left.`, "", "system");
  }
  renderParticipants();
}

async function readTranscription(reader, participantInfo) {
  const attributes = reader.info.attributes ?? {};
  const segment = attributes["lk.segment_id"] || reader.info.id;
  let target = segments.get(segment);
  if (!target) {
    target = addLine("", label(participantInfo.identity), "transcription");
    target.parentElement.dataset.from = participantInfo.identity;
    segments.set(segment, target);
  }
  let text = "";
  for await (const chunk of reader) { text += chunk; target.textContent = text; }
}

async function readChat(reader, participantInfo) {
  const text = await reader.readAll();
  addLine(text, label(participantInfo.identity), "chat").parentElement.dataset.from = participantInfo.identity;
}

async function join(event) {
  event.preventDefault();
  $("join-error").textContent = "";
  $("join-button").disabled = true;
  try {
    audioContext = new AudioContext(); // created inside the click, so the browser lets it play
    const grant = await api("/console/api/token", { room: $("room").value.trim(),
      name: $("name").value.trim(), representative: $("representative").checked });
    room = new Room({ adaptiveStream: false, dynacast: false });
    room.on(RoomEvent.ParticipantConnected, (p) => { addLine(`${p.name || p.identity} joined.`, "", "system"); renderParticipants(); })
      .on(RoomEvent.ParticipantDisconnected, onParticipantDisconnected)
      .on(RoomEvent.ParticipantAttributesChanged, renderParticipants)
      .on(RoomEvent.TrackSubscribed, onTrackSubscribed)
      .on(RoomEvent.TrackUnsubscribed, onTrackUnsubscribed)
      .on(RoomEvent.LocalTrackPublished, renderParticipants)
      .on(RoomEvent.Disconnected, onDisconnected);
    room.registerTextStreamHandler("lk.transcription", readTranscription);
    room.registerTextStreamHandler("lk.chat", readChat);
    await room.connect(grant.url, grant.token);
    await room.startAudio();
    await audioContext.resume();
    const agents = grant.agents.length ? `agents: ${grant.agents.join(", ")}` : "no agent dispatched by the rules";
    setConnected(true, `connected to ${room.name} as ${grant.identity} (${agents})`);
    renderParticipants();
    await room.localParticipant.setMicrophoneEnabled(true);
    renderParticipants();
  } catch (error) {
    $("join-error").textContent = error.message;
    $("join-button").disabled = false;
  }
}

function setConnected(connected, text) {
  $("status").textContent = text;
  $("status").classList.toggle("connected", connected);
  document.body.dataset.connected = String(connected);
  for (const id of ["message", "send"]) $(id).disabled = !connected;
  $("leave").classList.toggle("hidden", !connected);
  $("join-button").disabled = connected;
  $("dial").classList.toggle("hidden", !connected || !dialEnabled);
}

function onDisconnected(reason) {
  setConnected(false, `disconnected (${reason ?? "left"})`);
  analysers.clear();
  $("audio").replaceChildren();
  renderParticipants();
}

async function send(event) {
  event.preventDefault();
  const text = $("message").value.trim();
  if (!text || !room) return;
  $("message").value = "";
  addLine(text, "you", "mine");
  await room.localParticipant.sendText(text, { topic: "lk.chat" });
}

async function dialNumber(event) {
  event.preventDefault();
  $("dial-result").textContent = "calling…";
  try {
    const result = await api("/console/api/dial", { room: room.name, number: $("number").value });
    $("dial-result").textContent = `answered: ${result.participant}`;
  } catch (error) {
    $("dial-result").textContent = error.message;
  }
}

let dialEnabled = false;
async function loadRooms() {
  const { rooms, dial } = await api("/console/api/rooms");
  dialEnabled = dial;
  $("rooms").replaceChildren(...rooms.map((name) => Object.assign(document.createElement("option"), { value: name })));
}

$("join").addEventListener("submit", join);
$("chat").addEventListener("submit", send);
$("dial").addEventListener("submit", dialNumber);
$("leave").addEventListener("click", () => room?.disconnect());
const params = new URLSearchParams(location.search);
if (params.get("room")) $("room").value = params.get("room");
if (params.get("name")) $("name").value = params.get("name");
loadRooms().catch((error) => { $("join-error").textContent = error.message; });
updateMeters();
window.switchboardPhone = { get room() { return room; }, levelOf };
