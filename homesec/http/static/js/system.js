// The System page: requeue or clear a dead-letter queue and preview or run a cleanup, each
// through the REST API and each destructive one after a confirmation.
import { api, attempt } from "./common.js";

for (const row of document.querySelectorAll("div.dlq[data-queue]")) {
  const queue = row.dataset.queue;
  const count = document.querySelector(`td.dlq-count[data-queue="${queue}"]`);
  row.querySelector("button.requeue")?.addEventListener("click", async () => {
    if (!confirm(`Move every dead letter of ${queue} back to its queue?`)) return;
    const done = await attempt("requeue", () => api("POST", `/api/dlq/${queue}/requeue?all=true`));
    if (done) { count.textContent = done.remaining; if (!done.remaining) row.hidden = true; }
  });
  row.querySelector("button.clear")?.addEventListener("click", async () => {
    if (!confirm(`Delete every dead letter of ${queue}? They cannot be retried afterwards.`)) return;
    const done = await attempt("clear", () => api("DELETE", `/api/dlq/${queue}`));
    if (done) { count.textContent = "0"; row.hidden = true; }
  });
}

const result = document.getElementById("cleanup-result");
function show(stats, title) {
  result.hidden = false;
  result.textContent = `${title}: ${stats.events_deleted} events, ${stats.detections_deleted} ` +
    `detections, ${stats.logs_deleted} log lines, ${stats.images_deleted} images, ` +
    `${stats.thumbnails_deleted} thumbnails (${(stats.space_reclaimed / 1e6).toFixed(1)} MB)`;
}
document.getElementById("preview-cleanup")?.addEventListener("click", async () => {
  const stats = await attempt("preview the cleanup", () => api("GET", "/api/system/cleanup"));
  if (stats) show(stats, "A cleanup now would delete");
});
document.getElementById("run-cleanup")?.addEventListener("click", async () => {
  if (!confirm("Delete everything past its retention now?")) return;
  const stats = await attempt("run the cleanup", () => api("POST", "/api/system/cleanup"));
  if (stats) show(stats, "Deleted");
});
