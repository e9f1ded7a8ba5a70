// The trial page: a phone in the browser, on the real LiveKit stack.
//
// Call asks this page's server for a fresh trial room (the router is dispatched into
// it as for a phone call) and joins it with livekit-client. Keys go out as DTMF
// (`publishDtmf`), reaching the router as `sip_dtmf_received`, exactly like a phone's.
// The router's events arrive on the data topic `router.events`; its transfer requests
// arrive as the RPC `router.transfer`, answered here. docs/trying-menus.md has it all.

import { Room, RoomEvent, Track, DisconnectReason } from "/vendor/livekit-client.mjs";
import { MenuGraph } from "/static/graph.js";

const TOPIC = "router.events";
const TRANSFER_METHOD = "router.transfer";
const AUTO_ANSWER_S = 5;
const ROUTER_WAIT_S = 20;
const DTMF_CODES = { "*": 10, "#": 11, A: 12, B: 13, C: 14, D: 15 };

const $ = (id) => document.getElementById(id);
const graph = new MenuGraph($("graph"));
const state = {
  room: null,
  menus: null, // what /api/menus said last
  callVersion: null,
  roomName: null,
  audio: null, // {context, analyser, timer}
  peak: 0, // the loudest level heard since the last reset (for tests and the meter)
  events: [],
  transfer: null, // {resolve, timer, ringer}
  ended: false,
};
window.trialPage = {
  state,
  graph,
  peak: () => state.peak,
  resetPeak: () => { state.peak = 0; },
};

// --- the menu file ---------------------------------------------------------------------------

async function refreshMenus() {
  let body;
  try {
    body = await (await fetch("/api/menus")).json();
  } catch {
    return;
  }
  $("file").textContent = body.file ?? "";
  const problems = $("problems");
  problems.hidden = !body.problems?.length;
  problems.textContent = body.problems?.length
    ? `The menu file on disk has errors; the last good version is shown and used:\n${body.problems.join("\n")}`
    : "";
  if (!body.version) return;
  const changed = body.version !== state.menus?.version;
  state.menus = body;
  if (!changed) return;
  $("version").textContent = `version ${body.version}`;
  const select = $("number");
  const chosen = select.value;
  select.replaceChildren(...body.numbers.map((n) => new Option(n === "default" ? "default (any other number)" : n, n)));
  if (body.numbers.includes(chosen)) select.value = chosen;
  $("zones").replaceChildren(...body.timezones.map((z) => new Option(z)));
  if (!$("timezone").value && body.timezones.length) $("timezone").value = body.timezones[0];
  if (!state.room) await graph.show(body.version, body.graph);
}

// --- calling -------------------------------------------------------------------------------

function setState(name, words) {
  const el = $("state");
  el.dataset.state = name;
  el.textContent = words;
  $("call").textContent = state.room ? "Hang up" : "Call";
  $("call").classList.toggle("hangup", !!state.room);
  for (const b of $("pad").querySelectorAll("button")) b.disabled = !state.room;
}

async function call() {
  if (state.room) return;
  const when = document.querySelector('input[name="when"]:checked').value;
  const asked = {
    number: $("number").value,
    at: when === "at" ? $("at").value : "",
    timezone: $("timezone").value.trim(),
  };
  startAudio();
  state.events = [];
  state.ended = false;
  $("log").replaceChildren();
  $("dialled").textContent = "";
  setState("ringing", "Calling…");
  let answer;
  try {
    const response = await fetch("/api/call", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(asked),
    });
    answer = await response.json();
    if (!response.ok) throw new Error(answer.error ?? `the page's server answered ${response.status}`);
  } catch (err) {
    setState("idle", "Ready");
    note("bad", `Could not call: ${err.message}`);
    return;
  }
  state.callVersion = answer.version;
  state.roomName = answer.room;
  if (state.menus?.graph && answer.version === state.menus.version) await graph.show(answer.version, state.menus.graph);
  const room = new Room({ adaptiveStream: false, dynacast: false });
  state.room = room;
  room.registerRpcMethod(TRANSFER_METHOD, (data) => askTransfer(JSON.parse(data.payload)));
  room
    .on(RoomEvent.TrackSubscribed, (track) => {
      if (track.kind !== Track.Kind.Audio) return;
      const el = track.attach();
      el.id = "router-audio";
      document.body.appendChild(el);
      listen(track.mediaStreamTrack);
      // the SIP bridge answers once it hears the router: so does this page
      room.localParticipant.setAttributes({ "sip.callStatus": "active" });
      setState("connected", "Connected");
    })
    .on(RoomEvent.DataReceived, (payload, participant, kind, topic) => {
      if (topic !== TOPIC) return;
      try {
        onEvent(JSON.parse(new TextDecoder().decode(payload)));
      } catch (err) {
        console.warn("unreadable router event", err);
      }
    })
    .on(RoomEvent.ParticipantAttributesChanged, (changed, participant) => {
      if (participant === room.localParticipant) return;
      const menu = participant.attributes["router.menu"];
      if (menu) $("menu-now").textContent = `in ${menu}`;
      const version = participant.attributes["router.menuVersion"];
      if (version && version !== state.callVersion) state.callVersion = version;
    })
    .on(RoomEvent.ParticipantDisconnected, (participant) => {
      // the router left: after a transfer that was answered, or when the call is over
      if (participant.identity.startsWith("browser-")) return;
      if (state.room === room) setTimeout(() => hangUp("The router left the call."), 300);
    })
    .on(RoomEvent.Disconnected, (reason) => {
      const why =
        reason === DisconnectReason.PARTICIPANT_REMOVED ? "The menu hung up."
        : reason === DisconnectReason.CLIENT_INITIATED ? "You hung up."
        : reason === DisconnectReason.ROOM_DELETED ? "The call's room was closed."
        : "The connection to LiveKit was lost.";
      ended(why);
    });
  try {
    await room.connect(answer.url, answer.token, { autoSubscribe: true });
    note("", `Joined ${answer.room}; waiting for the router…`);
    setTimeout(() => {
      if (state.room === room && room.remoteParticipants.size === 0) {
        hangUp(`No router came to the call: is one running for trying (router dev, router local or router try) under the agent name ${answer.agent}?`);
      }
    }, ROUTER_WAIT_S * 1000);
  } catch (err) {
    state.room = null;
    setState("idle", "Ready");
    note("bad", `Could not join LiveKit: ${err.message}`);
  }
}

async function hangUp(why) {
  const room = state.room;
  if (!room) return;
  // as livekit-sip does on a caller's BYE: `hangup` first, then leave (else: a dropped call)
  const said = room.localParticipant.setAttributes({ "sip.callStatus": "hangup" }).catch(() => {});
  await Promise.race([said, new Promise((resolve) => setTimeout(resolve, 1000))]);
  await room.disconnect();
  ended(why ?? "You hung up.");
}

function ended(why) {
  if (!state.room) return;
  state.room = null;
  closeTransfer();
  document.getElementById("router-audio")?.remove();
  note(state.ended ? "" : "bad", why);
  setState("ended", "Call ended");
  refreshMenus();
}

async function press(key) {
  const button = $("pad").querySelector(`button[data-key="${CSS.escape(key)}"]`);
  button?.classList.add("pressed");
  setTimeout(() => button?.classList.remove("pressed"), 160);
  if (!state.room) return;
  beep(key);
  $("dialled").textContent = ($("dialled").textContent + key).slice(-16);
  const code = DTMF_CODES[key] ?? Number(key);
  await state.room.localParticipant.publishDtmf(code, key);
}

// --- what the router tells ---------------------------------------------------------------------

function onEvent(event) {
  state.events.push(event);
  graph.on(event);
  const [cls, words] = describe(event);
  if (words) note(cls, words, event.t);
  if (event.type === "menu_entered") {
    $("menu-now").textContent = `in ${event.menu}`;
    $("dialled").textContent = "";
  }
  if (event.type === "call_ended") state.ended = true;
}

function describe(e) {
  const of = (n, limit) => (limit ? ` (${n} of ${limit})` : "");
  switch (e.type) {
    case "call_started":
      return ["", `Call to ${e.dialled ?? "the default entry"} at ${formatAt(e.at)}, menu file version ${e.menu_version}`];
    case "menu_entered":
      return ["menu", `Menu ${e.menu}${e.how === "start" ? "" : ` (${e.how})`}`];
    case "prompt":
      return ["prompt", `Playing: “${e.texts.join(" … ")}”`];
    case "key":
      return ["", `Key ${e.key}`];
    case "key_ignored":
      return ["prompt", `Key ${e.key} ignored (the announcement plays to its end)`];
    case "invalid_key":
      return ["bad", `Invalid key ${e.entry}${of(e.count, e.limit)}`];
    case "no_input":
      return ["bad", `No input${of(e.count, e.limit)}`];
    case "limit_reached":
      return ["bad", `Limit reached: ${e.limit.replace("_", " ")}`];
    case "extension_dialled":
      return ["transfer", `Extension ${e.digits} dialled (${e.entry})`];
    case "transfer_requested": {
      const headers = Object.entries(e.headers).map(([k, v]) => `${k}: ${v}`).join(", ");
      return ["transfer", `Transfer requested to ${e.destination ? `${e.destination} ` : ""}<${e.target}>${headers ? ` with ${headers}` : ""}`];
    }
    case "transfer_result":
      return e.result === "succeeded"
        ? ["good", "Transfer answered: the caller has left the menu"]
        : ["bad", `Transfer failed: ${(e.kind ?? "error").replace("_", " ")}${e.sip_status ? ` (SIP ${e.sip_status})` : ""}`];
    case "call_ended":
      return ["", `End: ${e.reason.replace("_", " ")}`];
    default:
      return ["", null];
  }
}

function formatAt(iso) {
  // as the router reads it, in the time zone asked for: "Tue 2026-12-01 10:00 (-05:00)"
  const day = new Date(`${iso.slice(0, 10)}T12:00:00Z`).toLocaleDateString("en", { weekday: "short", timeZone: "UTC" });
  return `${day} ${iso.slice(0, 16).replace("T", " ")} (${iso.slice(19).replace(/^\.\d+/, "") || "UTC"})`;
}

function note(cls, words, t) {
  const li = document.createElement("li");
  if (cls) li.className = cls;
  const time = document.createElement("time");
  time.textContent = t === undefined ? "" : `${t.toFixed(1)} s`;
  const text = document.createElement("span");
  text.textContent = words;
  li.append(time, text);
  $("log").append(li);
  const box = $("log").parentElement;
  box.scrollTop = box.scrollHeight;
}

// --- transfers, answered here ------------------------------------------------------------------

function askTransfer(request) {
  closeTransfer();
  const panel = $("transfer");
  $("t-name").textContent = request.destination ?? request.via ?? request.target;
  $("t-target").textContent = request.target;
  $("t-headers").replaceChildren(
    ...Object.entries(request.headers).map(([k, v]) => {
      const tr = document.createElement("tr");
      tr.innerHTML = "<td></td><td></td>";
      tr.children[0].textContent = `${k}:`;
      tr.children[1].textContent = v;
      return tr;
    }),
  );
  $("t-ringing").textContent = `Rings for up to ${request.ringing_timeout} s${request.play_dialtone ? ", with a ring tone" : ""}.`;
  panel.hidden = false;
  setState("transferring", "Transferring…");
  return new Promise((resolve) => {
    const t = { resolve, left: AUTO_ANSWER_S, ringer: request.play_dialtone ? ringTone() : null };
    state.transfer = t;
    $("countdown").textContent = String(t.left);
    t.timer = setInterval(() => {
      if (!$("auto").checked) return;
      t.left -= 1;
      $("countdown").textContent = String(Math.max(0, t.left));
      if (t.left <= 0) answerTransfer("answered");
    }, 1000);
  });
}

function answerTransfer(outcome, status) {
  const t = state.transfer;
  if (!t) return;
  closeTransfer();
  const answer = { outcome };
  if (status) answer.sip_status = Number(status);
  t.resolve(JSON.stringify(answer));
  if (state.room) setState("connected", outcome === "answered" ? "Transferred" : "Connected");
}

function closeTransfer() {
  const t = state.transfer;
  if (t) {
    clearInterval(t.timer);
    t.ringer?.stop();
  }
  state.transfer = null;
  $("transfer").hidden = true;
  $("countdown").textContent = String(AUTO_ANSWER_S);
}

// --- sound: what the router plays, its level, the keypad's tones --------------------------------

function startAudio() {
  if (state.audio) {
    state.audio.context.resume();
    return;
  }
  const context = new AudioContext();
  state.audio = { context, analyser: null };
  setInterval(() => {
    const a = state.audio.analyser;
    let level = 0;
    if (a) {
      const data = new Float32Array(a.fftSize);
      a.getFloatTimeDomainData(data);
      let sum = 0;
      for (const x of data) sum += x * x;
      level = Math.sqrt(sum / data.length);
    }
    state.peak = Math.max(state.peak, level);
    $("level").style.width = `${Math.min(100, level * 400)}%`;
  }, 50);
}

function listen(mediaStreamTrack) {
  const { context } = state.audio;
  const source = context.createMediaStreamSource(new MediaStream([mediaStreamTrack]));
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);
  state.audio.analyser = analyser;
}

const DTMF_FREQ = {
  1: [697, 1209], 2: [697, 1336], 3: [697, 1477], 4: [770, 1209], 5: [770, 1336], 6: [770, 1477],
  7: [852, 1209], 8: [852, 1336], 9: [852, 1477], "*": [941, 1209], 0: [941, 1336], "#": [941, 1477],
};

function beep(key) {
  const context = state.audio?.context;
  if (!context || !DTMF_FREQ[key]) return;
  const gain = context.createGain();
  gain.gain.value = 0.05;
  gain.connect(context.destination);
  for (const f of DTMF_FREQ[key]) {
    const osc = context.createOscillator();
    osc.frequency.value = f;
    osc.connect(gain);
    osc.start();
    osc.stop(context.currentTime + 0.12);
  }
}

function ringTone() {
  // North American ringback: 440 + 480 Hz, 2 s on, 4 s off
  const context = state.audio?.context;
  if (!context) return null;
  const gain = context.createGain();
  gain.gain.value = 0;
  gain.connect(context.destination);
  const oscs = [440, 480].map((f) => {
    const osc = context.createOscillator();
    osc.frequency.value = f;
    osc.connect(gain);
    osc.start();
    return osc;
  });
  const start = context.currentTime;
  for (let i = 0; i < 20; i++) {
    gain.gain.setValueAtTime(0.04, start + i * 6);
    gain.gain.setValueAtTime(0, start + i * 6 + 2);
  }
  return { stop: () => oscs.forEach((o) => o.stop()) };
}

// --- wiring ------------------------------------------------------------------------------------

$("call").addEventListener("click", () => (state.room ? hangUp() : call()));
$("pad").addEventListener("click", (e) => {
  const key = e.target.closest("button")?.dataset.key;
  if (key) press(key);
});
$("transfer").addEventListener("click", (e) => {
  const b = e.target.closest("button[data-outcome]");
  if (b) answerTransfer(b.dataset.outcome, b.dataset.status);
});
$("zoom-in").addEventListener("click", () => graph.zoom((graph.scale ?? 1) * 1.25));
$("zoom-out").addEventListener("click", () => graph.zoom((graph.scale ?? 1) / 1.25));
$("zoom-fit").addEventListener("click", () => graph.zoom("fit"));
$("at").addEventListener("input", () => {
  document.querySelector('input[name="when"][value="at"]').checked = true;
});
document.addEventListener("keydown", (e) => {
  if (e.target.matches("input, select") || e.ctrlKey || e.metaKey || e.altKey) return;
  if (/^[0-9*#]$/.test(e.key)) {
    e.preventDefault();
    press(e.key);
  } else if (e.key === "Enter" && !state.room) {
    e.preventDefault();
    call();
  } else if (e.key === "Escape" && state.room) {
    hangUp();
  }
});

setState("idle", "Ready");
refreshMenus();
setInterval(() => {
  if (!state.room) refreshMenus();
}, 2000);
