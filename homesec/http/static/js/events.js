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
  const done = await attempt("save the review", () =>
    api("PATCH", `/api/events/${row.dataset.id}`, { reviewed }));
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

async function addLive(eventId) {
  if (list.dataset.firstPage !== "true" || list.querySelector(`li[data-id="${eventId}"]`)) return;
  const response = await fetch(`/events/${eventId}/row${query ? `?${query}` : ""}`,
    { credentials: "same-origin" });
  if (response.status !== 200) return; // 204: not one this list shows
  const holder = document.createElement("template");
  holder.innerHTML = (await response.text()).trim();
  const row = holder.content.firstElementChild;
  if (list.querySelector(`li[data-id="${eventId}"]`)) return;
  row.classList.add("fresh");
  list.prepend(row);
  if (selected >= 0) selected += 1;
  document.getElementById("empty").hidden = true;
  document.getElementById("mark-all").disabled = false;
}

function setBadge(state) {
  badge.textContent = state === "on" ? "live" : state === "off" ? "disconnected" : state;
  badge.className = `badge ${state}`;
}

connectWithBackoff("/ws/events?types=event", {
  onMessage: (data) => { if (data.type === "event") addLive(data.data.event_id ?? data.data.id); },
  onState: (open) => setBadge(open ? "on" : "off"),
});
