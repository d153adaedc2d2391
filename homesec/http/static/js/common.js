// What every page's script shares: calls to homesec's own REST API (the session cookie goes
// with them; the browser never holds an API key) and the error line.

export function showError(text) {
  const line = document.getElementById("error");
  line.textContent = text;
  line.hidden = !text;
}

export async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new Error("the session ended: log in again");
  }
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new Error(`${response.status}: ${detail}`);
  }
  return response.status === 204 ? null : response.json();
}

// Run an action; on failure say so on the error line (and in the returned promise's value).
export async function attempt(what, action) {
  try {
    const result = await action();
    showError("");
    return result;
  } catch (error) {
    showError(`Could not ${what}: ${error.message}`);
    return undefined;
  }
}
