// The Cameras page: rename, the role the scoring uses, and analyse or not, through
// PATCH /api/cameras/{id}.
import { api, attempt } from "./common.js";

for (const card of document.querySelectorAll("li.camera-card")) {
  const id = card.dataset.id;
  const saved = card.querySelector(".saved");
  const update = async (changes, what) => {
    const done = await attempt(`save the camera's ${what}`, () =>
      api("PATCH", `/api/cameras/${encodeURIComponent(id)}`, changes));
    if (!done) return;
    card.querySelector(".camera-name").textContent = done.name;
    card.classList.toggle("disabled", !done.enabled);
    saved.textContent = `${what} saved`;
  };
  card.querySelector("form.rename").addEventListener("submit", (submit) => {
    submit.preventDefault();
    update({ name: submit.target.elements.name.value.trim() }, "name");
  });
  card.querySelector("select.role").addEventListener("change", (change) => {
    const role = change.target.value || null; // none: guessed from the name again
    update({ role }, role ? `role ${role}` : "role (guessed from the name)");
  });
  card.querySelector("input.enabled").addEventListener("change", (change) =>
    update({ enabled: change.target.checked }, change.target.checked ? "analysis on" : "analysis off"));
}
