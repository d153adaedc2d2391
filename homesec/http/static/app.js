// The dashboard: recent events from /api/events, new ones live from /ws/events, system status
// from /ws/system. No build step; the API key (when the server wants one) stays in this browser.
"use strict";

const keyStore = "homesec-api-key";
const rows = document.getElementById("events");
const moreButton = document.getElementById("more");
const errorLine = document.getElementById("error");
let nextCursor = null;

function apiKey() { return localStorage.getItem(keyStore) || ""; }

function showError(text) {
  errorLine.textContent = text;
  errorLine.hidden = !text;
}

async function api(path) {
  const headers = apiKey() ? { "X-API-Key": apiKey() } : {};
  const response = await fetch(path, { headers });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new Error(`${response.status}: ${detail}`);
  }
  return response.json();
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (className) td.className = className;
  return td;
}

function eventRow(event, fresh) {
  const tr = document.createElement("tr");
  if (fresh) tr.className = "fresh";
  tr.append(
    cell(new Date(event.started_at).toLocaleString()),
    cell(event.camera_id),
    cell(event.risk_level ? `${event.risk_level} (${event.risk_score})` : "unscored",
         `risk ${event.risk_level || ""}`),
    cell(event.summary),
    cell(event.reviewed ? "yes" : ""),
  );
  return tr;
}

async function loadEvents() {
  const query = new URLSearchParams({ limit: "50" });
  if (nextCursor) query.set("cursor", nextCursor);
  try {
    const page = await api(`/api/events?${query}`);
    for (const event of page.items) rows.append(eventRow(event, false));
    nextCursor = page.next_cursor;
    moreButton.hidden = !nextCursor;
    showError("");
  } catch (error) {
    showError(`Cannot load events (${error.message}).`);
  }
}

function socketUrl(path) {
  const url = new URL(path, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  if (apiKey()) url.searchParams.set("api_key", apiKey());
  return url;
}

function connect(path, onMessage, onState) {
  const socket = new WebSocket(socketUrl(path));
  socket.onopen = () => onState(true);
  socket.onmessage = (message) => onMessage(JSON.parse(message.data));
  socket.onclose = (closing) => {
    onState(false);
    if (closing.code === 1008) { showError("The server wants an API key: use the API key button."); return; }
    setTimeout(() => connect(path, onMessage, onState), 3000);
  };
}

function badge(id, text, className, reasons = []) {
  const element = document.getElementById(id);
  // The first reason on the badge, all of them in its tooltip: a phone has no hover.
  element.textContent = reasons.length ? `${text}: ${reasons[0].split(" (")[0]}` : text;
  element.title = reasons.join("\n");
  element.className = `badge ${className}`;
}

connect("/ws/events", (message) => {
  if (message.type === "event") rows.prepend(eventRow(message.data, true));
}, (open) => badge("live", open ? "live: on" : "live: off", open ? "on" : ""));

connect("/ws/system", (message) => {
  if (message.type === "system_status") {
    const { status, problems } = message.data;
    badge("system", status, status, problems || []);
  }
}, (open) => { if (!open) badge("system", "disconnected", "unhealthy"); });

document.getElementById("key").onclick = () => {
  const key = prompt("API key (leave empty to send none):", apiKey());
  if (key === null) return;
  localStorage.setItem(keyStore, key.trim());
  location.reload();
};
moreButton.onclick = loadEvents;
loadEvents();
