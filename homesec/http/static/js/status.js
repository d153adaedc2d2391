// The header's health badge on every page: /ws/system's status (healthy, degraded,
// unhealthy), its first problem on the badge and all of them in its tooltip.
import { connectWithBackoff } from "./live.js";

const badge = document.getElementById("health");
connectWithBackoff("/ws/system", {
  onMessage: (message) => {
    if (message.type !== "system_status") return;
    const { status, problems } = message.data;
    badge.textContent = status;
    badge.title = (problems || []).join("\n");
    badge.className = `badge status-${status}`;
  },
  onState: (open) => {
    if (!open) { badge.textContent = "no contact"; badge.className = "badge status-unhealthy"; }
  },
});
