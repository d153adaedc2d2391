// The Alerts page: channels (add, send a test, remove after a confirmation; a test message to every
// channel), rules (create, edit, enable, delete after a confirmation, test against recent events),
// acknowledge an alert; all through /api/alerts. A channel's URL is sent once, when it is added,
// and never comes back: the page shows its label (service and host) and a masked form.
import { api, attempt, showError } from "./common.js";

const page = document.getElementById("alerts-page");
const zone = page.dataset.zone || undefined; // the house's zone; undefined: the browser's
const cameraNames = JSON.parse(page.dataset.cameras || "{}");
const timeFormat = new Intl.DateTimeFormat("en-GB", {
  timeZone: zone, weekday: "short", day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit",
});
const localTime = (iso) => timeFormat.format(new Date(iso)).replace(",", "");

function element(tag, attributes = {}, ...children) {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  made.append(...children);
  return made;
}

// --- the rule editor -----------------------------------------------------------------------------
const editor = document.getElementById("rule-editor");
const form = document.getElementById("rule-form");
const formError = form.querySelector(".form-error");
let editing = null; // the rule's id, or null for a new rule

function sayFormError(text) {
  formError.textContent = text;
  formError.hidden = !text;
  if (text) formError.scrollIntoView({ block: "nearest" });
}

function openEditor(rule) {
  editing = rule ? rule.id : null;
  document.getElementById("editor-title").textContent = rule ? `Edit "${rule.name}"` : "New rule";
  const fields = form.elements;
  fields.name.value = rule ? rule.name : "";
  fields.enabled.checked = rule ? rule.enabled : true;
  fields.min_risk_level.value = rule?.min_risk_level ?? "";
  fields.min_risk_score.value = rule?.min_risk_score ?? "";
  fields.object_types.value = rule ? rule.object_types.join(", ") : "";
  fields.zones.value = rule ? (rule.zones || []).join(", ") : "";
  fields.min_confidence.value = rule?.min_confidence != null ? Math.round(rule.min_confidence * 100) : "";
  fields.time_ranges.value = rule ? rule.time_ranges.join(", ") : "";
  fields.fast_path.value = rule?.fast_path == null ? "" : String(rule.fast_path);
  fields.cooldown_seconds.value = rule ? rule.cooldown_seconds : 300;
  // A camera the rule names but homesec no longer knows keeps a box of its own, so saving the
  // rule does not drop it unseen.
  const cameraBoxes = form.querySelector("fieldset.cameras");
  for (const camera of rule ? rule.camera_ids : []) {
    if (cameraBoxes.querySelector(`input[value="${CSS.escape(camera)}"]`)) continue;
    cameraBoxes.append(element("label", { class: "check" },
      element("input", { type: "checkbox", name: "camera_ids", value: camera }),
      ` ${camera} (unknown camera)`));
  }
  for (const name of ["camera_ids", "days", "channels", "modes"]) {
    const chosen = new Set((rule ? rule[name] : []).map(String));
    for (const box of form.querySelectorAll(`input[name="${name}"]`)) box.checked = chosen.has(box.value);
  }
  sayFormError("");
  editor.hidden = false;
  editor.scrollIntoView({ block: "start" });
  fields.name.focus({ preventScroll: true });
}

const list = (text) => text.split(",").map((part) => part.trim()).filter(Boolean);
const ticked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);

// Every field of the form as the API takes it (a PATCH with all of them: null clears one).
// Throws with a sentence naming the field when one cannot be read.
function formRule() {
  const fields = form.elements;
  const number = (field, label, low, high) => {
    const text = fields[field].value.trim();
    if (text === "") return null;
    const value = Number(text);
    if (!Number.isFinite(value) || value < low || value > high) {
      throw new Error(`${label} must be a number from ${low} to ${high}, not "${text}"`);
    }
    return value;
  };
  const name = fields.name.value.trim();
  if (!name) throw new Error("the rule needs a name");
  const cooldown = number("cooldown_seconds", "Cooldown", 0, 604800);
  const confidence = number("min_confidence", "Minimum confidence", 0, 100);
  const score = number("min_risk_score", "Minimum score", 0, 100);
  const ranges = list(fields.time_ranges.value);
  const bad = ranges.find((range) => !/^\d{2}:\d{2}-\d{2}:\d{2}$/.test(range));
  if (bad) throw new Error(`time range "${bad}" is not HH:MM-HH:MM (for example 22:00-06:00)`);
  return {
    name,
    enabled: fields.enabled.checked,
    min_risk_level: fields.min_risk_level.value || null,
    min_risk_score: score === null ? null : Math.round(score),
    camera_ids: ticked("camera_ids"),
    object_types: list(fields.object_types.value),
    zones: list(fields.zones.value),
    min_confidence: confidence === null ? null : confidence / 100,
    days: ticked("days").map(Number),
    time_ranges: ranges,
    fast_path: fields.fast_path.value === "" ? null : fields.fast_path.value === "true",
    cooldown_seconds: cooldown === null ? 300 : Math.round(cooldown),
    channels: ticked("channels"),
    modes: ticked("modes"),
  };
}

form.addEventListener("submit", async (submit) => {
  submit.preventDefault();
  let rule;
  try {
    rule = formRule();
  } catch (error) {
    sayFormError(`Not saved: ${error.message}.`);
    return;
  }
  const button = document.getElementById("save-rule");
  button.disabled = true;
  try {
    const saved = editing === null
      ? await api("POST", "/api/alerts/rules", rule)
      : await api("PATCH", `/api/alerts/rules/${editing}`, rule);
    // The list is the server's: show it again (its filter kept), this rule marked as saved.
    const query = new URLSearchParams(location.search);
    query.set("saved", saved.id);
    if (`?${query}` === location.search) location.reload();
    else location.assign(`/alerts?${query}#rule-${saved.id}`);
  } catch (error) {
    sayFormError(`Not saved (what you typed is kept): ${error.message}`);
  } finally {
    button.disabled = false;
  }
});
document.getElementById("new-rule").addEventListener("click", () => openEditor(null));
document.getElementById("cancel-rule").addEventListener("click", () => { editor.hidden = true; });

// --- each rule -----------------------------------------------------------------------------------
function showTrial(box, trial) {
  const rows = trial.events.map((event) => {
    const band = event.risk_level ? `${event.risk_level} ${event.risk_score ?? ""}` : "unscored";
    const outcome = event.would_fire ? "would fire"
      : event.outcome === "suppressed_cooldown" ? "held by cooldown" : "no";
    return element("li", { class: `trial-event ${event.would_fire ? "fires" : "quiet"}` },
      element("span", { class: `badge ${event.would_fire ? "on" : ""}` }, outcome), " ",
      element("a", { href: `/events/${event.event_id}` }, `Event ${event.event_id}`), " ",
      element("span", { class: "camera" }, cameraNames[event.camera_id] || event.camera_id), " ",
      element("time", { class: "muted" }, localTime(event.started_at)), " ",
      element("span", { class: `band-${event.risk_level || "unscored"}` },
        element("b", { class: "band-name" }, band)),
      event.is_fast_path ? element("span", { class: "chip" }, "fast path") : "",
      element("div", { class: "muted reason" }, event.reason));
  });
  box.replaceChildren(
    element("p", { class: "trial-summary" },
      `Would have fired for ${trial.would_fire} of the last ${trial.events_checked} events.`),
    element("ol", { class: "plain trial-events" }, ...rows));
  box.hidden = false;
}

for (const item of document.querySelectorAll("li.rule[data-id]")) {
  const id = item.dataset.id;
  const rule = JSON.parse(item.dataset.rule);
  const status = item.querySelector(".rule-status");
  item.querySelector("button.edit").addEventListener("click", () => openEditor(rule));
  item.querySelector("input.enabled").addEventListener("change", async (change) => {
    const on = change.target.checked;
    const done = await attempt(`turn the rule ${on ? "on" : "off"}`,
      () => api("PATCH", `/api/alerts/rules/${id}`, { enabled: on }));
    if (!done) { change.target.checked = !on; return; }
    rule.enabled = done.enabled;
    item.classList.toggle("disabled", !done.enabled);
    status.textContent = done.enabled ? "rule on" : "rule off";
  });
  item.querySelector("button.delete").addEventListener("click", async () => {
    if (!confirm(`Delete the rule "${rule.name}"? Events will no longer alert through it.`)) return;
    const done = await attempt("delete the rule", () => api("DELETE", `/api/alerts/rules/${id}`));
    if (done === undefined) return;
    item.remove();
    document.getElementById("rules-status").textContent = `Rule "${rule.name}" deleted.`;
  });
  item.querySelector("form.trial").addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const last = Number(submit.target.elements.last.value);
    if (!Number.isInteger(last) || last < 1 || last > 1000) {
      showError("Could not test the rule: the number of events must be from 1 to 1000.");
      return;
    }
    status.textContent = "testing…";
    const trial = await attempt("test the rule",
      () => api("POST", `/api/alerts/rules/${id}/test?last=${last}`));
    status.textContent = "";
    if (trial) showTrial(item.querySelector(".trial-result"), trial);
  });
}

// --- recent alerts -------------------------------------------------------------------------------
const bindAcknowledge = (root) => {
  for (const row of root.querySelectorAll("li.alert[data-id]")) {
    row.querySelector("button.acknowledge")?.addEventListener("click", async () => {
      const done = await attempt("acknowledge the alert",
        () => api("POST", `/api/alerts/${row.dataset.id}/acknowledge`));
      if (!done) return;
      // The API acknowledges the event's alerts on every channel: so does the list.
      const same = row.dataset.event
        ? document.querySelectorAll(`li.alert[data-event="${row.dataset.event}"]`) : [row];
      for (const other of same) {
        other.classList.add("acknowledged");
        other.querySelector("button.acknowledge")?.replaceWith(
          element("span", { class: "badge on ack" }, "acknowledged"));
      }
    });
  }
};
bindAcknowledge(document);

// After a test message the list gains its line: the server renders the section again (one
// place draws an alert line), and this swaps it in, so the owner sees it without a reload.
const refreshRecent = async () => {
  try {
    const page = await fetch(location.href, { credentials: "same-origin" });
    if (!page.ok) return;
    const fresh = new DOMParser().parseFromString(await page.text(), "text/html")
      .getElementById("recent");
    const shown = document.getElementById("recent");
    if (!fresh || !shown) return;
    shown.replaceWith(fresh);
    bindAcknowledge(fresh);
  } catch {
    // The list stays as it was; a reload shows the line.
  }
};

// --- channels -----------------------------------------------------------------------------------
const describeResult = (result) => result.status === "sent" ? "sent: the channel took the test message"
  : result.status === "pending" ? `not sent yet: ${result.error || "is the Notifier running?"}`
  : `${result.status}: ${result.error || "no reason given"}`;

const sendTest = document.getElementById("send-test");
sendTest?.addEventListener("click", async () => {
  const summary = document.getElementById("test-summary");
  const results = document.getElementById("test-results");
  sendTest.disabled = true;
  summary.hidden = false;
  summary.textContent = "Sending… (each channel is waited for)";
  results.replaceChildren();
  const answer = await attempt("send a test message", () => api("POST", "/api/alerts/test"));
  sendTest.disabled = false;
  if (!answer) { summary.hidden = true; return; }
  const failed = answer.results.filter((result) => result.status !== "sent").length;
  summary.textContent = answer.ok ? "Every channel took the test message."
    : `${failed} of ${answer.results.length} channels did not take it: see below, and docs/alerts.md.`;
  results.replaceChildren(...answer.results.map((result) => element("li",
    { class: `channel-result status-${result.status}`, "data-channel": result.channel },
    element("b", {}, result.channel_label), " ",
    element("span", { class: `badge status-${result.status}` }, result.status),
    result.error ? element("div", { class: "error wrap" }, result.error) : "")));
  await refreshRecent();
});

for (const item of document.querySelectorAll("li.channel")) {
  const result = item.querySelector(".channel-result");
  const label = item.dataset.label;
  const testButton = item.querySelector("button.test-channel");
  testButton.addEventListener("click", async () => {
    testButton.disabled = true;
    result.className = "channel-result";
    result.textContent = "sending… (waiting for the channel)";
    const path = item.dataset.id ? `/api/alerts/channels/${item.dataset.id}/test`
      : `/api/alerts/test?channel=${encodeURIComponent(item.dataset.name)}`;
    const answer = await attempt(`send a test to ${label}`, () => api("POST", path));
    testButton.disabled = false;
    if (!answer) { result.textContent = ""; return; }
    const [only] = answer.results;
    result.className = `channel-result status-${only.status}`;
    result.replaceChildren(element("span", { class: `badge status-${only.status}` }, only.status), " ",
      element("span", { class: only.status === "sent" ? "" : "error wrap" }, describeResult(only)));
    await refreshRecent();
  });
  item.querySelector("button.remove-channel")?.addEventListener("click", async () => {
    if (!confirm(`Remove the channel ${label}? Alerts will no longer go to it, and its URL is deleted.`)) return;
    const done = await attempt(`remove ${label}`, () => api("DELETE", `/api/alerts/channels/${item.dataset.id}`));
    if (done === undefined) return;
    item.remove();
    document.getElementById("channels-status").textContent = `Channel ${label} removed.`;
  });
}

const channelForm = document.getElementById("channel-form");
const channelError = channelForm.querySelector(".channel-error");
channelForm.addEventListener("submit", async (submit) => {
  submit.preventDefault();
  const fields = channelForm.elements;
  const url = fields.url.value.trim();
  const sayError = (text) => { channelError.textContent = text; channelError.hidden = !text; };
  if (!url) { sayError("Not added: type the channel's URL."); fields.url.focus(); return; }
  const button = document.getElementById("add-channel");
  button.disabled = true;
  try {
    const added = await api("POST", "/api/alerts/channels", { kind: fields.kind.value, url });
    fields.url.value = ""; // the URL is the server's now, and not shown again
    location.assign(`/alerts?added=${added.id}#channels`);
  } catch (error) {
    sayError(`Not added: ${error.message.replace(/^\d+: /, "")}`);
  } finally {
    button.disabled = false;
  }
});
channelForm.elements.kind.addEventListener("change", () => {
  channelForm.elements.url.placeholder = channelForm.elements.kind.value === "webhook"
    ? "http://192.168.1.5:8123/api/webhook/homesec" : "ntfys://ntfy.sh/my-topic";
});
