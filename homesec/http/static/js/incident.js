// An incident's page (visits on different cameras close in time): the review of the incident,
// which reviews its visits too; their lines follow.
import { api, attempt } from "./common.js";

const article = document.querySelector("article.incident-detail");
const reviewed = document.getElementById("incident-reviewed");

reviewed.addEventListener("change", async () => {
  const done = await attempt("save the review", () =>
    api("PATCH", `/api/incidents/${article.dataset.incident}`, { reviewed: reviewed.checked }));
  if (!done) return;
  reviewed.checked = done.reviewed;
  for (const row of document.querySelectorAll("#visits li.event")) {
    row.classList.toggle("reviewed", done.reviewed);
    const button = row.querySelector("button.review");
    button.setAttribute("aria-pressed", String(done.reviewed));
    button.textContent = done.reviewed ? "Reviewed" : "Review";
  }
});

// A visit's own review button, as on the events list.
document.getElementById("visits").addEventListener("click", async (click) => {
  const button = click.target.closest("button.review");
  if (!button) return;
  const row = button.closest("li.event");
  const wanted = button.getAttribute("aria-pressed") !== "true";
  const done = await attempt("save the review", () =>
    api("PATCH", `/api/events/${row.dataset.id}`, { reviewed: wanted }));
  if (!done) return;
  row.classList.toggle("reviewed", done.reviewed);
  button.setAttribute("aria-pressed", String(done.reviewed));
  button.textContent = done.reviewed ? "Reviewed" : "Review";
});
