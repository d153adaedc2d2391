// The Cameras page, all through the REST API: add a camera with its FTP account
// (POST /api/camera-accounts), a new FTP password (POST /api/cameras/{id}/ftp-account), each
// shown once with a copy button; rename, the role the scoring uses and analyse or not
// (PATCH /api/cameras/{id}); remove after a confirmation (DELETE /api/cameras/{id}); unban an
// address the FTP server blocks, after a confirmation (DELETE /api/ftp/bans/{address}); each
// camera's problems and status follow live (/ws/events).
import { api, attempt } from "./common.js";
import { connectWithBackoff } from "./live.js";

const list = document.querySelector("ul.cameras");
const empty = document.getElementById("no-cameras");
const roleNote = document.getElementById("role-note");

// The API's message without its status ("400: name ..." -> "name ..."), for a person to read.
const reason = (error) => error.message.replace(/^\d{3}: /, "");

function showPassword(box, password) {
  box.querySelector("input.password").value = password;
  box.querySelector(".copied").textContent = "";
  box.hidden = false;
}

// The clipboard API needs a secure context (https or this machine); over plain http from
// another machine the selected text is copied the old way.
async function copy(box) {
  const field = box.querySelector("input.password");
  const said = box.querySelector(".copied");
  let copied = false;
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } catch (_) { /* refused: try the old way */ }
  }
  if (!copied) {
    field.focus();
    field.select();
    try { copied = document.execCommand("copy"); } catch (_) { copied = false; }
  }
  said.textContent = copied ? "Copied." : "Could not copy: select it and copy it by hand.";
}

document.addEventListener("click", (click) => {
  const button = click.target.closest("button.copy");
  if (button) copy(button.closest(".secret"));
});

// --- add a camera ----------------------------------------------------------------------------
const addForm = document.getElementById("add-form");
const addError = document.getElementById("add-error");
const newCamera = document.getElementById("new-camera");

function sayAddError(text) {
  addError.textContent = text;
  addError.hidden = !text;
}

function tlsWords(account) {
  if (!account.tls) return "no (plain FTP)";
  const words = "yes: explicit FTPS (FTP over TLS, AUTH TLS)";
  return account.self_signed ? `${words}, self-signed certificate` : words;
}

// The page as the server renders it now: the camera list (the new camera's card among the
// others) or the blocked addresses. Best effort: what was done is done whatever this finds,
// and a reload shows it.
async function freshPage() {
  try {
    const response = await fetch("/cameras", { credentials: "same-origin" });
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    return response.ok ? fresh : null;
  } catch (_) {
    return null; // offline for a moment: the page stays as it was
  }
}

async function refreshList() {
  const cards = (await freshPage())?.querySelector("ul.cameras");
  if (!cards) return; // a login page, say: the session ended
  list.innerHTML = cards.innerHTML;
  empty.hidden = list.children.length > 0;
  roleNote.hidden = list.children.length === 0;
}

addForm.addEventListener("submit", async (submit) => {
  submit.preventDefault();
  const name = addForm.elements.name.value.trim();
  if (!name) {
    sayAddError("Give the camera a name, such as Front Door.");
    return;
  }
  const button = addForm.querySelector("button");
  button.disabled = true;
  try {
    const added = await api("POST", "/api/camera-accounts", { name });
    const account = added.ftp_account;
    sayAddError("");
    addForm.reset();
    const facts = {
      name: added.camera.name, server: account.server, port: account.port,
      username: account.username, folder: account.folder, tls: tlsWords(account),
      passive_ports: account.passive_ports, folder_path: added.camera.folder_path,
    };
    for (const [fact, value] of Object.entries(facts)) {
      for (const shown of newCamera.querySelectorAll(`[data-fact="${fact}"]`)) shown.textContent = value;
    }
    showPassword(newCamera.querySelector(".secret"), account.password);
    newCamera.hidden = false;
    newCamera.scrollIntoView({ block: "nearest" });
    await refreshList();
  } catch (error) {
    sayAddError(`Could not add the camera: ${reason(error)}`);
  } finally {
    button.disabled = false;
  }
});

// Done: the password leaves the page.
document.getElementById("new-camera-done").addEventListener("click", () => {
  newCamera.querySelector("input.password").value = "";
  newCamera.hidden = true;
});

// --- each camera's card ----------------------------------------------------------------------
const cardOf = (target) => target.closest("li.camera-card");

async function update(card, changes, what) {
  const done = await attempt(`save the camera's ${what}`, () =>
    api("PATCH", `/api/cameras/${encodeURIComponent(card.dataset.id)}`, changes));
  if (!done) return;
  card.querySelector(".camera-name").textContent = done.name;
  card.dataset.name = done.name;
  card.classList.toggle("disabled", !done.enabled);
  card.querySelector(".saved").textContent = `${what} saved`;
}

async function newPassword(card, button) {
  const name = card.dataset.name;
  const hasAccount = button.dataset.hasAccount === "true";
  if (hasAccount && !confirm(`Give "${name}" a new FTP password? The old one stops working within `
      + "seconds: the camera uploads nothing until you enter the new one.")) return;
  const account = await attempt(`make a new password for ${name}`, () =>
    api("POST", `/api/cameras/${encodeURIComponent(card.dataset.id)}/ftp-account`));
  if (!account) return;
  if (account.created) { // the settings it now has, and from now on a new password asks first
    card.querySelector(".ftp-user").textContent = account.username;
    card.querySelector("dl.facts").hidden = false;
    card.querySelector(".no-account").hidden = true;
    button.dataset.hasAccount = "true";
    button.textContent = "New password";
  }
  showPassword(card.querySelector(".secret"), account.password);
  card.querySelector(".saved").textContent = account.created ? "FTP account made" : "new password saved";
}

async function remove(card) {
  const name = card.dataset.name;
  if (!confirm(`Remove the camera "${name}"? Its FTP account stops working and its events and `
      + "detections are deleted; its images are kept in the cameras folder's .removed folder.")) return;
  const done = await attempt(`remove ${name}`, async () => {
    await api("DELETE", `/api/cameras/${encodeURIComponent(card.dataset.id)}`);
    return true;
  });
  if (!done) return;
  card.remove();
  empty.hidden = list.children.length > 0;
  roleNote.hidden = list.children.length === 0;
}

list.addEventListener("click", (click) => {
  const card = cardOf(click.target);
  const button = click.target.closest("button");
  if (!card || !button) return;
  if (button.classList.contains("new-password")) newPassword(card, button);
  else if (button.classList.contains("remove")) remove(card);
});

list.addEventListener("submit", (submit) => {
  if (!submit.target.matches("form.rename")) return;
  submit.preventDefault();
  update(cardOf(submit.target), { name: submit.target.elements.name.value.trim() }, "name");
});

list.addEventListener("change", (change) => {
  const card = cardOf(change.target);
  if (change.target.matches("select.role")) {
    const role = change.target.value || null; // none: guessed from the name again
    update(card, { role }, role ? `role ${role}` : "role (guessed from the name)");
  } else if (change.target.matches("input.enabled")) {
    const on = change.target.checked;
    update(card, { enabled: on }, on ? "analysis on" : "analysis off");
  }
});

// --- the addresses the FTP server blocks -----------------------------------------------------
const bans = document.getElementById("ftp-bans");

async function unban(item, button) {
  const address = item.dataset.address;
  if (!confirm(`Unban ${address}? It may log in again at once. If it is one of your cameras, `
      + "give it the right password first, or it is blocked again after a few wrong ones.")) return;
  button.disabled = true;
  const done = await attempt(`unban ${address}`, async () => {
    await api("DELETE", `/api/ftp/bans/${encodeURIComponent(address)}`);
    return true;
  });
  // Lifted, or not banned any more (ended by itself): either way, the list as it is now.
  const fresh = (await freshPage())?.getElementById("ftp-bans");
  if (fresh) {
    bans.hidden = fresh.hidden && !done; // the last one lifted: say so before it goes
    bans.querySelector("ul.bans").innerHTML = fresh.querySelector("ul.bans").innerHTML;
  } else if (done) {
    item.remove();
  }
  button.disabled = false;
  if (done) bans.querySelector(".unbanned").textContent = `${address} may log in again.`;
}

bans.addEventListener("click", (click) => {
  const button = click.target.closest("button.unban");
  if (button) unban(button.closest("li.ban"), button);
});

// A camera's problems and status live: a problem that opens or clears (a covered lens, a
// camera gone silent) or a status change updates that camera's badges from the server's
// rendering, leaving the rest of its card (a password being read, a field being edited) alone.
async function refreshBadges(cameraId) {
  const selector = `li[data-id="${CSS.escape(cameraId)}"] .camera-badges`;
  const fresh = (await freshPage())?.querySelector(selector);
  const shown = list.querySelector(selector);
  if (fresh && shown) shown.innerHTML = fresh.innerHTML;
}

connectWithBackoff("/ws/events?types=camera_problem,camera_status", {
  onMessage: (message) => {
    const cameraId = message.data?.camera_id;
    if (cameraId) refreshBadges(cameraId);
  },
  onState: () => {}, // the header's badge says whether homesec answers
});
