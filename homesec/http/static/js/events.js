// The Events page: live events over /ws/events (with a badge and reconnection with backoff),
// j/k/Enter/r keys, review buttons and "mark all shown reviewed". The list itself is rendered
// by the server; a live event's line is fetched from it too, under this page's filters.
import { api, attempt } from "./common.js";
import { connectWithBackoff } from "./live.js";

const list = document.getElementById("events");
const badge = document.getElementById("live");
const form = document.getElementById("filters");
const query = list.dataset.query;
let selected = -1;

function rows() { return [...list.querySelectorAll("li.event")]; }

// Empty fields stay out of the address, so it shows only the filters in use. "Show" defaults
// to Unreviewed, and to All with a search: a Show the address did not give and nobody changed
// is left to that default, so typing a search on the plain list finds reviewed events too.
form.addEventListener("submit", (submit) => {
  submit.preventDefault();
  const params = new URLSearchParams();
  const searching = form.elements.q.value.trim() !== "";
  const reviewed = form.elements.reviewed;
  const chosen = "given" in reviewed.dataset || !reviewed.selectedOptions[0].defaultSelected;
  for (const [name, value] of new FormData(form)) {
    const shown = value.trim();
    if (!shown) continue;
    if (name === "reviewed" && (!chosen || shown === (searching ? "all" : "no"))) continue;
    params.set(name, shown);
  }
  location.assign(params.size ? `/?${params}` : "/");
});
for (const select of form.querySelectorAll("select, input[type=date]")) {
  select.addEventListener("change", () => form.requestSubmit());
}

function markShown(row, reviewed) {
  row.classList.toggle("reviewed", reviewed);
  const button = row.querySelector("button.review");
  button.setAttribute("aria-pressed", String(reviewed));
  button.textContent = reviewed ? "Reviewed" : "Review";
}

async function setReviewed(row, reviewed) {
  // An incident's line reviews the incident, and so every visit of it.
  const path = row.dataset.incident
    ? `/api/incidents/${row.dataset.incident}` : `/api/events/${row.dataset.id}`;
  const done = await attempt("save the review", () => api("PATCH", path, { reviewed }));
  if (done) markShown(row, done.reviewed);
}

list.addEventListener("click", (click) => {
  const button = click.target.closest("button.review");
  if (!button) return;
  const row = button.closest("li.event");
  setReviewed(row, button.getAttribute("aria-pressed") !== "true");
});

document.getElementById("mark-all").addEventListener("click", async () => {
  const pending = rows().filter((row) => !row.classList.contains("reviewed"));
  if (!pending.length) return;
  await Promise.all(pending.map((row) => setReviewed(row, true)));
});

function select(index) {
  const all = rows();
  if (!all.length) return;
  selected = Math.max(0, Math.min(index, all.length - 1));
  all.forEach((row, i) => row.classList.toggle("selected", i === selected));
  all[selected].scrollIntoView({ block: "nearest" });
}

document.addEventListener("keydown", (key) => {
  if (key.target.closest("input, select, textarea") || key.ctrlKey || key.metaKey || key.altKey) {
    return;
  }
  const row = rows()[selected];
  if (key.key === "/") {
    key.preventDefault();
    form.elements.q.focus();
  } else if (key.key === "j") select(selected + 1);
  else if (key.key === "k") select(selected - 1);
  else if (key.key === "r" && row) setReviewed(row, !row.classList.contains("reviewed"));
  else if (key.key === "Enter" && row) location.assign(row.querySelector("a").href);
});

// A visit's final verdict replaces its preliminary (fast-path) line where that stands, as the
// server's list shows one line per visit; an incident's newest visit replaces the incident's
// line (or the lines of its visits shown before they joined it), as the list shows one line
// per incident; any other new event goes on top.
async function addLive(eventId, supersedes, incident) {
  if (list.dataset.firstPage !== "true" || list.querySelector(`li[data-id="${eventId}"]`)) return;
  const response = await fetch(`/events/${eventId}/row${query ? `?${query}` : ""}`,
    { credentials: "same-origin" });
  const preliminary = (incident && list.querySelector(`li[data-incident="${incident}"]`))
    || (supersedes ? list.querySelector(`li[data-id="${supersedes}"]`) : null);
  if (response.status !== 200) { // 204: not one this list shows, and neither is its visit now
    if (preliminary) removeRow(preliminary);
    return;
  }
  const holder = document.createElement("template");
  holder.innerHTML = (await response.text()).trim();
  const row = holder.content.firstElementChild;
  if (list.querySelector(`li[data-id="${eventId}"]`)) return;
  row.classList.add("fresh");
  const folded = [...(row.dataset.members || "").split(" "), supersedes].filter(Boolean);
  for (const member of folded) {
    const old = list.querySelector(`li[data-id="${member}"]`);
    if (old && old !== preliminary) removeRow(old);
  }
  if (preliminary && preliminary.isConnected) {
    preliminary.replaceWith(row);
  } else {
    list.prepend(row);
    if (selected >= 0) selected += 1;
  }
  document.getElementById("empty").hidden = true;
  document.getElementById("mark-all").disabled = false;
}

function removeRow(row) {
  const index = rows().indexOf(row);
  row.remove();
  if (index >= 0 && index < selected) selected -= 1;
  if (!rows().length) {
    document.getElementById("empty").hidden = false;
    document.getElementById("mark-all").disabled = true;
  }
}

function setBadge(state) {
  badge.textContent = state === "on" ? "live" : state === "off" ? "disconnected" : state;
  badge.className = `badge ${state}`;
}

connectWithBackoff("/ws/events?types=event", {
  onMessage: (data) => {
    if (data.type === "event") {
      addLive(data.data.event_id ?? data.data.id, data.data.supersedes_event_id,
        data.data.incident_id);
    }
  },
  onState: (open) => setBadge(open ? "on" : "off"),
});
