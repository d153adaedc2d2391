// The header's house mode on every page: home, away or night, read from /api/mode and set with
// PUT /api/mode (the session cookie says who). Its tooltip says since when and who set it. Read
// again when the page comes back into view: Home Assistant or the schedule may have changed it.
import { api, attempt } from "./common.js";

const picker = document.getElementById("house-mode");

function show(state) {
  picker.value = state.mode;
  picker.dataset.mode = state.mode;
  picker.title = state.since
    ? `${state.mode} since ${new Date(state.since).toLocaleString()}, set by ${state.changed_by}`
    : `${state.mode} (never changed)`;
}

async function load() {
  const state = await attempt("read the house's mode", () => api("GET", "/api/mode"));
  if (state) show(state);
}

picker.addEventListener("change", async () => {
  const wanted = picker.value;
  picker.disabled = true;
  const state = await attempt(`set the house to ${wanted}`,
    () => api("PUT", "/api/mode", { mode: wanted }));
  picker.disabled = false;
  if (state) show(state); else load();
});

document.addEventListener("visibilitychange", () => { if (!document.hidden) load(); });
load();
