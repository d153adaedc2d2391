// The labels of the boxes drawn on a frame, placed so that no two overlap: each where it first
// fits of above its box, inside its top, below it, inside its bottom, then shifted up or down
// in steps of its height, then anywhere in the image. Positions are in the image's own pixels
// (the SVG's viewBox), so they hold at any width the picture is shown. The labels are drawn
// last, each on a dark plate, so that no box's line crosses a label's text.

const SVG = "http://www.w3.org/2000/svg";

function overlaps(a, b, margin) {
  return a.x < b.x + b.w + margin && b.x < a.x + a.w + margin &&
    a.y < b.y + b.h + margin && b.y < a.y + a.h + margin;
}

function* spots(box, w, h, gap, width, height) {
  const above = box.y - h - gap;
  yield [box.x, above];
  yield [box.x + gap, box.y + gap];
  yield [box.x, box.y + box.h + gap];
  yield [box.x + gap, box.y + box.h - h - gap];
  const step = h + gap;
  for (let n = 1; n * step < height + step; n += 1) {
    yield [box.x, above + n * step];
    yield [box.x, above - n * step];
  }
  for (let y = 0; y + h <= height; y += step / 2) {
    for (let x = 0; x + w <= width; x += Math.max(w / 4, 1)) yield [x, y];
  }
}

export function placeLabels(svg) {
  const view = svg.viewBox.baseVal;
  const gap = Number(svg.dataset.stroke) || 2;
  const pad = gap;  // between a label's text and the edge of its plate
  const placed = [];
  const layer = document.createElementNS(SVG, "g");
  layer.setAttribute("class", "labels");
  svg.append(layer);
  for (const group of svg.querySelectorAll("g.box")) {
    const rect = group.querySelector("rect");
    const text = group.querySelector("text");
    if (!rect || !text) continue;
    const box = {
      x: rect.x.baseVal.value, y: rect.y.baseVal.value,
      w: rect.width.baseVal.value, h: rect.height.baseVal.value,
    };
    const measured = text.getBBox();
    const [baseX, baseY] = [Number(text.getAttribute("x")), Number(text.getAttribute("y"))];
    const [w, h] = [measured.width + 2 * pad, measured.height + 2 * pad];
    let found = null;
    for (const [x, y] of spots(box, w, h, gap, view.width, view.height)) {
      const spot = {
        x: Math.min(Math.max(x, 0), Math.max(view.width - w, 0)),
        y: Math.min(Math.max(y, 0), Math.max(view.height - h, 0)),
        w, h,
      };
      if (!placed.some((other) => overlaps(other, spot, gap))) { found = spot; break; }
    }
    if (found === null) {  // no room left on the picture: the box keeps its label as a tooltip
      text.classList.add("unplaced");
      const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
      title.textContent = text.textContent;
      group.append(title);
      continue;
    }
    text.setAttribute("x", String(found.x + pad + (baseX - measured.x)));
    text.setAttribute("y", String(found.y + pad + (baseY - measured.y)));
    const plate = document.createElementNS(SVG, "path");
    plate.setAttribute("class", "plate");
    plate.setAttribute("d", `M${found.x} ${found.y}h${w}v${h}h${-w}z`);
    layer.append(plate, text);
    placed.push(found);
  }
  svg.dataset.labelsPlaced = "true";
}

export function placeAllLabels(root = document) {
  for (const svg of root.querySelectorAll("svg.boxes")) placeLabels(svg);
}
