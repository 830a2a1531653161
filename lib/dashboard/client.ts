/**
 * The dashboard's script, run by the browser, never by a node: it polls this node's JSON
 * views (members every second, the ring when its checksum changes, events since the last
 * one, every member's stabilisation every 3 s) and redraws. Written as plain browser
 * JavaScript in a string; ids and events come from the network, so text only, never HTML.
 */
export const CLIENT_SCRIPT = String.raw`
"use strict";
const $ = (id) => document.getElementById(id);
const view = { members: [], ring: null, polls: 0, arcs: [], checksum: "", nodes: new Map(), after: null, explained: null };

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "style") el.style.cssText = v; else if (k.startsWith("on")) el.addEventListener(k.slice(2), v); else el.setAttribute(k, v);
  }
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

async function get(path) {
  const res = await window.fetch(path, { cache: "no-store" });
  if (!res.ok) throw new Error(path + " answered " + res.status);
  return res.json();
}

/** A member's colour: hues spread by the golden angle over the sorted member list, so neighbours differ. */
const hues = new Map();
function colour(id) {
  if (!hues.has(id)) hues.set(id, (hues.size * 137.508) % 360);
  return "hsl(" + hues.get(id) + " 62% 50%)";
}

const ago = (ms) => (ms < 1000 ? "now" : ms < 60000 ? Math.round(ms / 1000) + " s ago" : Math.round(ms / 60000) + " min ago");
const time = (at) => new Date(at).toISOString().slice(11, 23);

function renderMembers() {
  const filter = $("filter").value.trim();
  const counts = {};
  const rows = [];
  for (const m of view.members) {
    counts[m.state] = (counts[m.state] || 0) + 1;
    if (filter && !m.id.includes(filter)) continue;
    const n = view.nodes.get(m.id);
    // Its own ring as of the last /cluster/sync?all (every 3 s): a transition can be a poll ahead.
    const agrees = n && !n.error ? (n.ringChecksum === view.checksum ? "same" : "epoch " + n.epoch) : "-";
    rows.push(h("tr", { "data-member": m.id, "data-state": m.state, onclick: () => explain(m.id) },
      h("td", {}, h("span", { class: "swatch", style: "background:" + colour(m.id) }), m.id),
      h("td", { class: "state" }, m.state + (m.suspicion ? " (by " + m.suspicion.by.length + ")" : "")),
      h("td", {}, n && n.runtime ? n.runtime : "-"),
      h("td", {}, m.incarnation),
      h("td", {}, n && n.awareness !== undefined ? n.awareness : "-"),
      h("td", {}, n && n.liveKeys !== undefined ? n.liveKeys : "-"),
      h("td", { class: "muted" }, m.since ? ago(view.now - m.since) : "-"),
      h("td", {}, agrees)));
  }
  $("members").replaceChildren(...rows);
  $("counts").textContent = Object.entries(counts).map(([s, c]) => c + " " + s).join(", ");
}

/** A ring position (hex) as a fraction of the ring, 0-1. */
const at = (p) => Number(BigInt("0x" + p) >> 11n) / 2 ** 53;

/** Each arc of the ring: where it starts and ends (0-1), its primary owner and its N owners. */
function arcsOf(ring) {
  const v = ring.vnodes;
  return v.map((node, i) => {
    const owners = [];
    for (let j = i; owners.length < ring.quorum.n && j < i + v.length; j++) {
      const m = v[j % v.length].member;
      if (!owners.includes(m)) owners.push(m);
    }
    return { from: at(v[(i - 1 + v.length) % v.length].position), to: at(node.position), member: node.member, owners, moving: node.moving === true };
  });
}

function drawRing() {
  const canvas = $("ring");
  const ctx = canvas.getContext("2d");
  const size = canvas.width, mid = size / 2;
  ctx.clearRect(0, 0, size, size);
  if (!view.ring) return;
  const alive = new Set(view.members.filter((m) => m.state === "alive").map((m) => m.id));
  const need = Math.max(view.ring.quorum.w, view.ring.quorum.r);
  let short = 0;
  const arc = (a, radius, width, style) => {
    const start = a.from * 2 * Math.PI - Math.PI / 2, end = (a.to < a.from ? a.to + 1 : a.to) * 2 * Math.PI - Math.PI / 2;
    ctx.beginPath(); ctx.arc(mid, mid, radius, start, end); ctx.lineWidth = width; ctx.strokeStyle = style; ctx.stroke();
  };
  for (const a of view.arcs) {
    arc(a, mid * 0.86, mid * 0.16, colour(a.member));
    const live = a.owners.filter((o) => alive.has(o)).length;
    if (live < Math.min(need, a.owners.length)) { short++; arc(a, mid * 0.68, mid * 0.1, "#c62828"); }
    else if (a.moving) arc(a, mid * 0.68, mid * 0.1, "#ffb300");
  }
  // Pinned ranges keep their own owners: red when they lost a quorum of them, amber on their way back.
  for (const p of view.ring.pins || []) {
    const a = { from: at(p.lo), to: at(p.hi) };
    arc(a, mid * 0.68, mid * 0.1, p.quorumLost ? "#c62828" : "#ffb300");
  }
  ctx.fillStyle = "#1d2330"; ctx.font = Math.round(size / 16) + "px system-ui"; ctx.textAlign = "center";
  ctx.fillText("epoch " + view.ring.epoch, mid, mid);
  ctx.font = Math.round(size / 28) + "px system-ui";
  ctx.fillText(view.ring.members.length + " members, " + view.ring.vnodes.length + " ranges", mid, mid + size / 18);
  const lost = (view.ring.pins || []).filter((p) => p.quorumLost);
  const dead = [...new Set(lost.flatMap((p) => p.dead))].join(", ");
  $("quorum").textContent = lost.length
    ? lost.length + " ranges lost a quorum of their owners (dead: " + dead + "): their keys answer 503 until those members return or an operator recovers them"
    : short ? short + " ranges have too few live owners for a quorum" : "every range has a quorum of live owners";
  $("quorum").dataset.short = String(short);
  $("quorum").dataset.lost = String(lost.length);
  showRecover(lost.length);
  const next = view.ring.nextChange;
  $("next-change").textContent = next ? "next ring change (driver " + (next.driver || "none") + "): " + next.waitingFor : "";
}

function renderTransfers() {
  const rows = [], rounds = [], hints = [];
  let idle = 0;
  for (const n of view.nodes.values()) {
    if (n.error) { rounds.push(n.id + ": " + n.error); continue; }
    for (const t of n.transfers || []) {
      if (t.keysWanted === 0 && t.keysPushed === 0) { idle++; continue; } // offered, and the peer had it all
      rows.push(h("tr", { "data-transfer": n.id + ">" + t.peer },
        h("td", {}, n.id), h("td", {}, t.peer), h("td", {}, n.progress ? n.progress.pass + " " + n.progress.percent + "%" : "-"),
        h("td", {}, t.keysPushed + " / " + t.keysWanted), h("td", {}, t.keysPerSec), h("td", {}, Math.round(t.bytesPerSec / 1024)),
        h("td", {}, t.etaMs === undefined ? "?" : (t.etaMs / 1000).toFixed(1) + " s")));
    }
    const r = n.lastRound;
    if (r) rounds.push(n.id + ": last round " + Math.round(r.durationMs) + " ms, " + r.keysPushed + " pushed, " + r.keysHandedOff + " handed off" + (n.settled ? ", settled" : ""));
    for (const [peer, count] of Object.entries(n.hints || {})) hints.push(n.id + " holds " + count + " hints for " + peer);
  }
  $("transfers").replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 7, class: "muted" }, "nothing moving"))]));
  if (idle) rounds.unshift(idle + " more offers found nothing missing");
  $("rounds").replaceChildren(...rounds.map((line) => h("div", {}, line)));
  $("hints").textContent = hints.length ? hints.join("; ") : "no hints waiting";
  const sums = new Set([...view.nodes.values()].filter((n) => !n.error).map((n) => n.ringChecksum));
  const agreed = sums.size === 1 && sums.has(view.checksum);
  $("agreement").textContent = agreed ? "every live member on this ring" : "members disagree on the ring (" + sums.size + " rings)";
  $("agreement").className = agreed ? "good" : "bad";
  $("agreement").dataset.agreed = String(agreed);
}

function eventLine(e) {
  const details = Object.entries(e).filter(([k]) => !["at", "id", "event", "by"].includes(k)).map(([k, v]) => k + "=" + (Array.isArray(v) ? v.join(",") : v));
  return time(e.at) + "  " + e.id + "  " + e.event + (e.by ? " by " + e.by : "") + (details.length ? "  " + details.join(" ") : "");
}

async function pollEvents() {
  const data = await get("/cluster/events" + (view.after === null ? "" : "?after=" + view.after));
  const list = $("events");
  for (const e of data.events) {
    view.after = e.at;
    list.prepend(h("li", { "data-event": e.event, "data-member": e.id }, eventLine(e)));
  }
  while (list.children.length > 500) list.lastChild.remove();
}

async function explain(id) {
  view.explained = id;
  const data = await get("/cluster/explain/" + encodeURIComponent(id));
  $("explained").textContent = id + ": " + data.state + ", incarnation " + data.incarnation + (data.inRing ? ", on the ring" : ", not on the ring");
  $("explain").replaceChildren(...data.events.map((e) => h("li", { "data-event": e.event }, eventLine({ ...e, id }))));
}

async function lookup(event) {
  event.preventDefault();
  const key = $("key").value;
  if (!key) return;
  const data = await get("/cluster/locate/" + encodeURIComponent(key) + "?versions");
  $("placement").textContent = "epoch " + data.epoch + ", position " + data.position + ", replicas in order:";
  $("copies").replaceChildren(...data.copies.map((c) => h("li", { "data-replica": c.id }, c.id + "  " + copyLine(c))));
}

/** One owner's copy: its version, whether deleted or expiring, and its Paxos state for conditional writes. */
function copyLine(c) {
  if (c.error) return "no answer: " + c.error;
  let line = c.version === null ? "holds nothing" : c.version + (c.tombstone ? " (deleted)" : "");
  // The node's clock (view.now), not the browser's, says whether it has expired.
  if (c.expires !== undefined) line += (view.now && c.expires <= view.now ? ", expired " : ", expires ") + new Date(c.expires).toISOString();
  if (c.promised) line += ", promised ballot " + c.promised;
  if (c.pending) line += ", accepted (not yet stored) " + c.pending;
  return line;
}

async function pollMembers() {
  const m = await get("/cluster/members");
  view.members = m.members;
  for (const member of m.members) colour(member.id);
  view.now = m.now; // the node's clock, not the browser's: "since" is its own
  $("self").textContent = m.self;
  $("epoch").textContent = m.epoch;
  $("phase").textContent = m.phase === "stable" ? "" : "(" + m.phase + ")";
  $("checksum").textContent = m.checksum;
  // The ring when it changes, and every fifth poll for what its next change waits for.
  if (m.checksum !== view.checksum || ++view.polls % 5 === 0) {
    view.ring = await get("/cluster/ring");
    view.arcs = arcsOf(view.ring);
    view.checksum = m.checksum;
  }
  renderMembers();
  drawRing();
}

async function pollNodes() {
  const all = await get("/cluster/sync?all");
  view.nodes = new Map(all.nodes.map((n) => [n.id, n]));
  renderTransfers();
}

function every(ms, task) {
  const run = async () => {
    try {
      await task();
      $("connection").textContent = "";
    } catch (err) {
      $("connection").textContent = "cannot reach this node: " + err.message;
    }
    window.setTimeout(run, ms);
  };
  run();
}

$("filter").addEventListener("input", renderMembers);
$("lookup").addEventListener("submit", (e) => lookup(e).catch((err) => ($("placement").textContent = err.message)));
every(1000, pollMembers);
every(1000, pollEvents);
every(3000, pollNodes);
every(2000, () => (view.explained ? explain(view.explained) : Promise.resolve()));
`;
