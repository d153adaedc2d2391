// A camera's zone editor: the latest snapshot with the zones drawn over it. Pointer events, so
// a mouse, a finger and a pen all draw the same way: "New zone", then a tap or click per
// corner; a tap on the first corner (or "Close the zone") closes it; a corner is dragged to
// move it. The whole list is saved at once (PUT /api/cameras/{id}/zones); a 400 says what is
// wrong with it, and that is shown as it comes.
import { api } from "./common.js";

const editor = document.getElementById("zone-editor");
const url = `/api/cameras/${encodeURIComponent(editor.dataset.camera)}/zones`;
const maxZones = Number(editor.dataset.maxZones);
const maxPoints = Number(editor.dataset.maxPoints);
const stage = document.getElementById("zone-stage");
const svg = document.getElementById("zone-svg");
const list = document.getElementById("zone-list");
const none = document.getElementById("zone-none");
const itemTemplate = document.getElementById("zone-item");
const hint = document.getElementById("zone-hint");
const saved = document.getElementById("zone-saved");
const errorLine = document.getElementById("zone-error");
const buttons = Object.fromEntries(
  ["new", "finish", "undo", "cancel", "save"].map((name) => [name, document.getElementById(`zone-${name}`)]),
);
const SVG = "http://www.w3.org/2000/svg";
// A tap this close (in screen pixels) to the first corner closes the zone: a fingertip's width.
const CLOSE_PX = 22;

// Labels and corner handles are HTML over the picture: inside the stretched SVG a circle or a
// letter would be stretched too.
const marks = document.createElement("div");
marks.className = "zone-marks";
stage.append(marks);

let zones = []; // as the API has them: {name, points: [[x, y], ...], action, objects?}
let drawing = null; // the corners of the zone being drawn, or null
let selected = -1; // the zone whose corners can be dragged
let dragging = null; // {points, index}: the corner under the pointer

function say(text) {
  errorLine.textContent = text;
  errorLine.hidden = !text;
}

// Within this many screen pixels of the picture's edge, a corner goes onto the edge: a zone
// along the frame's border (the street at the bottom) is drawn without pixel-perfect taps.
const EDGE_PX = 8;

// Where a pointer is, as fractions of the picture (what the API stores), kept inside it.
function relative(event) {
  const box = svg.getBoundingClientRect();
  const along = (offset, size) => {
    if (offset <= EDGE_PX) return 0;
    if (offset >= size - EDGE_PX) return 1;
    return Math.round((offset / size) * 10000) / 10000;
  };
  return [along(event.clientX - box.left, box.width), along(event.clientY - box.top, box.height)];
}

function onScreen([x, y]) {
  const box = svg.getBoundingClientRect();
  return [box.left + x * box.width, box.top + y * box.height];
}

function polygon(points, className) {
  const shape = document.createElementNS(SVG, drawing && points === drawing ? "polyline" : "polygon");
  shape.setAttribute("points", points.map(([x, y]) => `${x},${y}`).join(" "));
  shape.setAttribute("class", className);
  shape.setAttribute("vector-effect", "non-scaling-stroke");
  return shape;
}

function mark(className, [x, y], text) {
  const element = document.createElement("span");
  element.className = className;
  element.style.left = `${x * 100}%`;
  element.style.top = `${y * 100}%`;
  if (text !== undefined) element.textContent = text;
  return element;
}

function handles(points, zoneIndex) {
  points.forEach((point, index) => {
    const handle = mark("zone-handle", point);
    handle.dataset.index = index;
    handle.dataset.zone = zoneIndex;
    if (index === 0 && drawing) handle.classList.add("first");
    marks.append(handle);
  });
}

function draw() {
  svg.replaceChildren();
  marks.replaceChildren();
  zones.forEach((zone, index) => {
    const shape = polygon(zone.points, `zone-shape ${zone.action}${index === selected ? " selected" : ""}`);
    shape.dataset.zone = index;
    svg.append(shape);
    marks.append(mark(`zone-label ${zone.action}`, zone.points[0], zone.name || "(no name)"));
  });
  if (drawing) {
    svg.append(polygon(drawing, "zone-shape drawing"));
    handles(drawing, -1);
  } else if (selected >= 0 && zones[selected]) {
    handles(zones[selected].points, selected);
  }
}

function pointsWords(zone) {
  return `${zone.points.length} corners`;
}

// The list below the picture: rebuilt when zones come or go, not while a corner moves.
function fillList() {
  list.replaceChildren();
  zones.forEach((zone, index) => {
    const item = itemTemplate.content.firstElementChild.cloneNode(true);
    item.dataset.zone = index;
    item.classList.toggle("selected", index === selected);
    item.querySelector(".zone-swatch").classList.add(zone.action);
    item.querySelector(".zone-name").value = zone.name;
    item.querySelector(".zone-action").value = zone.action;
    item.querySelector(".zone-objects").value = (zone.objects || []).join(", ");
    item.querySelector(".zone-points").textContent = pointsWords(zone);
    list.append(item);
  });
  none.hidden = zones.length > 0;
}

function setMode() {
  const isDrawing = drawing !== null;
  buttons.new.hidden = isDrawing;
  buttons.finish.hidden = !isDrawing;
  buttons.undo.hidden = !isDrawing;
  buttons.cancel.hidden = !isDrawing;
  buttons.finish.disabled = isDrawing && drawing.length < 3;
  buttons.undo.disabled = isDrawing && drawing.length === 0;
  stage.classList.toggle("is-drawing", isDrawing);
  if (isDrawing) {
    hint.textContent = drawing.length < 3
      ? `Tap or click the zone's corners on the picture (${drawing.length} so far, at least 3).`
      : `${drawing.length} corners: tap the first corner, or "Close the zone", to finish it.`;
  }
}

function select(index) {
  selected = index;
  draw();
  for (const item of list.children) item.classList.toggle("selected", Number(item.dataset.zone) === index);
}

function finish() {
  if (!drawing || drawing.length < 3) return;
  const used = new Set(zones.map((zone) => zone.name.toLowerCase()));
  let number = zones.length + 1;
  while (used.has(`zone ${number}`)) number += 1;
  zones.push({ name: `zone ${number}`, points: drawing, action: "watch" });
  drawing = null;
  selected = zones.length - 1;
  hint.textContent = "Closed. Name it, choose watch or ignore, then save. Drag a corner to move it.";
  saved.textContent = "";
  setMode();
  fillList();
  draw();
}

buttons.new.addEventListener("click", () => {
  if (zones.length >= maxZones) {
    say(`A camera has at most ${maxZones} zones.`);
    return;
  }
  say("");
  drawing = [];
  selected = -1;
  setMode();
  draw();
});
buttons.finish.addEventListener("click", finish);
buttons.undo.addEventListener("click", () => {
  drawing.pop();
  setMode();
  draw();
});
buttons.cancel.addEventListener("click", () => {
  drawing = null;
  hint.textContent = "Cancelled.";
  setMode();
  draw();
});

stage.addEventListener("pointerdown", (event) => {
  if (event.button !== undefined && event.button > 0) return; // a right click
  const handle = event.target.closest(".zone-handle");
  if (handle) {
    const index = Number(handle.dataset.index);
    if (drawing && index === 0 && drawing.length >= 3) {
      finish();
      return;
    }
    const zoneIndex = Number(handle.dataset.zone);
    dragging = { points: zoneIndex < 0 ? drawing : zones[zoneIndex].points, index };
    stage.setPointerCapture(event.pointerId);
    event.preventDefault();
    return;
  }
  if (drawing) {
    const point = relative(event);
    const [fx, fy] = drawing.length ? onScreen(drawing[0]) : [Infinity, Infinity];
    if (drawing.length >= 3 && Math.hypot(event.clientX - fx, event.clientY - fy) <= CLOSE_PX) {
      finish();
      return;
    }
    if (drawing.length >= maxPoints) {
      say(`A zone has at most ${maxPoints} corners: close it.`);
      return;
    }
    drawing.push(point);
    setMode();
    draw();
    event.preventDefault();
    return;
  }
  const shape = event.target.closest(".zone-shape");
  select(shape ? Number(shape.dataset.zone) : -1);
});

stage.addEventListener("pointermove", (event) => {
  if (!dragging) return;
  dragging.points[dragging.index] = relative(event);
  draw();
});

function endDrag() {
  if (!dragging) return;
  dragging = null;
  saved.textContent = "";
  fillList();
}
stage.addEventListener("pointerup", endDrag);
stage.addEventListener("pointercancel", endDrag);

// The list's fields edit the zones in place.
list.addEventListener("input", (event) => {
  const item = event.target.closest(".zone-item");
  const zone = zones[Number(item.dataset.zone)];
  if (event.target.classList.contains("zone-name")) zone.name = event.target.value;
  if (event.target.classList.contains("zone-action")) {
    zone.action = event.target.value;
    item.querySelector(".zone-swatch").className = `zone-swatch ${zone.action}`;
  }
  if (event.target.classList.contains("zone-objects")) {
    const objects = event.target.value.split(",").map((word) => word.trim()).filter(Boolean);
    if (objects.length) zone.objects = objects;
    else delete zone.objects;
  }
  saved.textContent = "";
  draw();
});
list.addEventListener("click", (event) => {
  const item = event.target.closest(".zone-item");
  if (!item) return;
  const index = Number(item.dataset.zone);
  if (event.target.closest(".zone-delete")) {
    zones.splice(index, 1);
    selected = -1;
    saved.textContent = "";
    fillList();
    draw();
    return;
  }
  if (!drawing) select(index);
});

buttons.save.addEventListener("click", async () => {
  if (drawing) {
    say("Close the zone you are drawing (or cancel it) before saving.");
    return;
  }
  buttons.save.disabled = true;
  try {
    zones = await api("PUT", url, zones);
    say("");
    saved.textContent = zones.length
      ? `Saved ${zones.length} zone${zones.length === 1 ? "" : "s"}: the detector uses them from its next images.`
      : "Saved: no zones, every object counts.";
    selected = Math.min(selected, zones.length - 1);
    fillList();
    draw();
  } catch (error) {
    say(`Not saved: ${error.message.replace(/^\d{3}: /, "")}`);
  } finally {
    buttons.save.disabled = false;
  }
});

async function load() {
  try {
    zones = await api("GET", url);
  } catch (error) {
    say(`Could not read the zones: ${error.message}`);
    zones = [];
  }
  fillList();
  setMode();
  draw();
  editor.dataset.ready = "true";
}

load();
