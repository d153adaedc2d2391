// An event's page: reviewed, notes and feedback, saved through the REST API; j/k and the
// arrow keys go to the newer and older event, r toggles reviewed.
import { api, attempt } from "./common.js";
import { placeAllLabels } from "./labels.js";

// Measured once the page's font is there, so that each label's size is the one drawn.
document.fonts.ready.then(() => placeAllLabels());

const article = document.querySelector("article.event-detail");
const id = article.dataset.id;
const reviewed = document.getElementById("reviewed");
const notes = document.getElementById("notes");
const saved = document.getElementById("saved");

async function save(changes, what) {
  const done = await attempt(`save the ${what}`, () => api("PATCH", `/api/events/${id}`, changes));
  if (done) {
    saved.textContent = `${what} saved`;
    reviewed.checked = done.reviewed;
  }
}

reviewed.addEventListener("change", () => save({ reviewed: reviewed.checked }, "review"));
document.getElementById("save-notes").addEventListener("click", () =>
  save({ notes: notes.value.trim() || null }, "note"));

const feedbackSaved = document.getElementById("feedback-saved");
async function feedback(body, text) {
  const done = await attempt("save the feedback", () =>
    api("POST", `/api/events/${id}/feedback`, body));
  if (done) feedbackSaved.textContent = `Thanks: recorded as ${text}.`;
}
document.getElementById("false-alarm").addEventListener("click", () =>
  feedback({ feedback: "false_alarm" }, "a false alarm"));
document.getElementById("wrong-severity").addEventListener("click", () => {
  const shouldBe = document.getElementById("should-be").value;
  feedback({ feedback: "wrong_severity", should_be: shouldBe }, `should be ${shouldBe}`);
});

// Keep (hold): retention never deletes a held event or its pictures; the badge says so.
const hold = document.getElementById("hold");
const heldBadge = document.getElementById("held-badge");
const holdState = document.getElementById("hold-state");
const holdNote = document.getElementById("hold-note");
hold.addEventListener("click", async () => {
  const held = hold.getAttribute("aria-pressed") === "true";
  const note = holdNote.value.trim() || null;
  const done = await attempt(held ? "release the hold" : "keep the event", () =>
    api(held ? "DELETE" : "PUT", `/api/events/${id}/hold`, held ? undefined : { note }));
  if (!done) return;
  const now = Boolean(done.held_at);
  hold.setAttribute("aria-pressed", String(now));
  hold.textContent = now ? "Release hold" : "Keep (hold)";
  heldBadge.hidden = !now;
  holdNote.hidden = now;
  const why = done.hold_note ? `: ${done.hold_note}` : "";
  holdState.textContent = now
    ? `Kept since ${new Date(done.held_at).toLocaleString()}${why}. Retention will not delete it or its pictures until released.`
    : "Released: deleted with its pictures after the retention period.";
});

document.addEventListener("keydown", (key) => {
  if (key.target.closest("input, select, textarea") || key.ctrlKey || key.metaKey || key.altKey) {
    return;
  }
  const go = (linkId) => { const link = document.getElementById(linkId); if (link) location.assign(link.href); };
  if (key.key === "k" || key.key === "ArrowLeft") go("newer");
  else if (key.key === "j" || key.key === "ArrowRight") go("older");
  else if (key.key === "r") { reviewed.checked = !reviewed.checked; save({ reviewed: reviewed.checked }, "review"); }
});
