// The header's health badge on every page: /ws/system's status (healthy, degraded,
// unhealthy, or starting until every actor has reported), its problems in its tooltip.
import { connectWithBackoff } from "./live.js";

const badge = document.getElementById("health");
connectWithBackoff("/ws/system", {
  onMessage: (message) => {
    if (message.type !== "system_status") return;
    const { status, problems, starting } = message.data;
    badge.textContent = status;
    const waiting = starting && starting.length ? [`waiting for the first report of ${starting.join(", ")}`] : [];
    badge.title = [...waiting, ...(problems || [])].join("\n");
    badge.className = `badge status-${status}`;
  },
  onState: (open) => {
    if (!open) { badge.textContent = "no contact"; badge.className = "badge status-unhealthy"; }
  },
});
