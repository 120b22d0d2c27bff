// The board canvas: cards on a free surface that can be dragged, resized, multi-selected,
// edited (notes, headings), deleted, brought to front, zoomed and panned.
//
// The server owns the truth. A gesture moves cards locally and, when it ends, sends ONE
// message with every new position ("move"), so a multi-select drag is one service call
// and one undo step. The server sends the full list of cards when the page opens (or has
// to read the board again) and afterwards one "patch" per change: only the cards that
// changed, the ids removed and the new order; whoever made the change, this page or
// someone else. Cards being dragged at that moment keep their local position; a note
// being edited keeps its editor and says who changed it meanwhile. Every user string is
// set with textContent.
const DRAG_TYPE = "application/x-workbench";
const MIN_W = 60;
const MIN_H = 40;
const CLICK_SLOP = 3;

function h(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = text;
  return node;
}

function button(label, title, onClick, cls = "") {
  const b = h("button", `wb-tool ${cls}`.trim(), label);
  b.type = "button";
  b.title = title;
  b.setAttribute("aria-label", title);
  b.addEventListener("click", (e) => { e.preventDefault(); onClick(); });
  return b;
}

const SAFE_URL = /^https?:\/\//i;
// Colours a card can take (the service layer takes any #rrggbb; '' takes the colour off).
const COLORS = [["red", "#d64541"], ["orange", "#f39c12"], ["yellow", "#f4d03f"], ["green", "#27ae60"],
                ["blue", "#2f6fde"], ["purple", "#8e44ad"], ["grey", "#7f8c8d"], ["none", ""]];

export function render({ model, el }) {
  const root = h("div", "wb-board");
  root.tabIndex = 0;
  root.setAttribute("role", "application");
  root.setAttribute("aria-label", "Board canvas");
  const tools = h("div", "wb-board-tools");
  const viewport = h("div", "wb-viewport");
  const world = h("div", "wb-world");
  const marquee = h("div", "wb-marquee");
  const empty = h("div", "wb-board-empty");
  const peers = h("div", "wb-peers"); // others' cursors, in board coordinates
  const notice = h("div", "wb-live-notice");
  notice.setAttribute("role", "status");
  notice.setAttribute("aria-live", "polite");
  world.appendChild(peers);
  viewport.append(world, marquee, empty, notice);
  root.append(tools, viewport);
  el.appendChild(root);

  const cards = new Map(); // id -> {el, body, item, sig}
  const selected = new Set();
  const view = { x: 40, y: 40, k: 1 };
  let gesture = null;
  let editing = null;
  let fitted = false;
  let nudgeTimer = null;
  let lastDown = { id: null, link: null };
  let noticeTimer = null;
  // What the canvas shows: the last full list (model.items, at model.revision) with the
  // patches of later revisions on top, whichever of the two reached the browser first.
  let current = new Map(); // id -> entry, back to front
  let shownRev = -1;
  let patches = [];
  const PATCHES_KEPT = 500;
  const NUMBERS_KEY = "wb-board-numbers";
  let numbered = true;
  try { numbered = localStorage.getItem(NUMBERS_KEY) !== "0"; } catch (err) { /* private mode */ }

  // -- toolbar ----------------------------------------------------------------------
  const zoomLabel = h("span", "wb-zoom", "100%");
  const palette = h("div", "wb-palette");
  palette.setAttribute("role", "group");
  palette.setAttribute("aria-label", "Card colours");
  for (const [name, color] of COLORS) {
    const swatch = button("", `Colour the selected cards ${name}`, () => {
      sendColor(color);
      palette.classList.remove("open");
    }, "wb-swatch");
    swatch.dataset.color = color;
    swatch.style.setProperty("--wb-swatch", color || "#fff");
    if (!color) swatch.textContent = "×";
    palette.appendChild(swatch);
  }
  const colorTool = button("Colour", "Colour the selected cards", () => {
    if (selected.size) palette.classList.toggle("open");
  }, "wb-color-tool");
  const captionTool = button("Caption", "Write a caption under the selected card (Enter saves)", () => {
    const card = selected.size === 1 ? cards.get([...selected][0]) : null;
    if (card) startCaption(card);
  }, "wb-caption-tool");
  const replaceTool = button("Replace still", "Pick another still from your library for this frame", () => {
    const card = selected.size === 1 ? cards.get([...selected][0]) : null;
    if (card && (card.item.kind === "image" || card.item.placeholder)) model.send_msg({ type: "replace", id: card.item.id });
  }, "wb-replace-tool");
  const numbersTool = button("Numbers", "Show or hide storyboard numbers on the pictures", () => {
    numbered = !numbered;
    try { localStorage.setItem(NUMBERS_KEY, numbered ? "1" : "0"); } catch (err) { /* private mode */ }
    for (const card of cards.values()) { fillBody(card); card.sig = signature(card.item); }
    refreshChrome();
  }, "wb-numbers-tool");
  const colorWrap = h("span", "wb-color-wrap");
  colorWrap.append(colorTool, palette);
  const editTools = [
    colorWrap, captionTool, replaceTool,
    button("Front", "Bring the selection to the front", () => sendIds("front")),
    button("Delete", "Delete the selected cards (Delete key)", () => removeSelected(), "wb-danger"),
    button("Undo", "Undo the last change (Ctrl+Z)", () => model.send_msg({ type: "undo" })),
    button("Redo", "Redo (Ctrl+Shift+Z)", () => model.send_msg({ type: "redo" })),
  ];
  const sep = h("span", "wb-sep");
  tools.append(
    button("−", "Zoom out", () => zoomBy(1 / 1.25)), zoomLabel, button("+", "Zoom in", () => zoomBy(1.25)),
    button("100%", "Actual size", () => { zoomTo(1); }), button("Fit", "Fit the board in view", () => fit()),
    numbersTool, sep, ...editTools,
  );
  const hint = h("span", "wb-board-hint");
  tools.append(hint);
  // Comment markers and the spot-comment form live in canvas_pins.js (joined to this module).
  const pins = commentPins({ model, root, viewport, world, tools, cards, selected: () => [...selected], view,
                             toWorld, applyView, h, button });

  function refreshChrome() {
    const editable = !!model.editable;
    for (const b of editTools) b.style.display = editable ? "" : "none";
    const one = selected.size === 1 ? cards.get([...selected][0]) : null;
    colorTool.disabled = !selected.size;
    captionTool.disabled = !one;
    replaceTool.style.display = editable && model.replaceable && one && (one.item.kind === "image" || one.item.placeholder) ? "" : "none";
    if (!selected.size) palette.classList.remove("open");
    numbersTool.classList.toggle("on", numbered);
    numbersTool.setAttribute("aria-pressed", numbered ? "true" : "false");
    sep.style.display = editable ? "" : "none";
    root.classList.toggle("read-only", !editable);
    hint.textContent = editable
      ? "Drag to move · Shift-drag the background to select · double-click to write a note"
      : "View only";
    empty.textContent = editable
      ? "This board is empty. Drag suggestions or stills here, or double-click to write a note."
      : "This board is empty.";
    empty.style.display = cards.size ? "none" : "block";
  }

  // -- view (zoom and pan) ----------------------------------------------------------
  function applyView() {
    world.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.k})`;
    viewport.style.backgroundPosition = `${view.x}px ${view.y}px`;
    viewport.style.backgroundSize = `${24 * view.k}px ${24 * view.k}px`;
    zoomLabel.textContent = `${Math.round(view.k * 100)}%`;
  }
  function toWorld(clientX, clientY) {
    const r = viewport.getBoundingClientRect();
    return { x: (clientX - r.left - view.x) / view.k, y: (clientY - r.top - view.y) / view.k };
  }
  function zoomAt(k, clientX, clientY) {
    k = Math.min(4, Math.max(0.1, k));
    const r = viewport.getBoundingClientRect();
    const px = clientX - r.left, py = clientY - r.top;
    view.x = px - ((px - view.x) * k) / view.k;
    view.y = py - ((py - view.y) * k) / view.k;
    view.k = k;
    applyView();
  }
  function zoomBy(f) {
    const r = viewport.getBoundingClientRect();
    zoomAt(view.k * f, r.left + r.width / 2, r.top + r.height / 2);
  }
  function zoomTo(k) { zoomBy(k / view.k); }
  function fit() {
    if (!cards.size) { view.x = 40; view.y = 40; view.k = 1; applyView(); return; }
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const { item } of cards.values()) {
      x0 = Math.min(x0, item.x); y0 = Math.min(y0, item.y);
      x1 = Math.max(x1, item.x + item.w); y1 = Math.max(y1, item.y + item.h);
    }
    const r = viewport.getBoundingClientRect();
    const pad = 40;
    const k = Math.min(1, (r.width - 2 * pad) / Math.max(1, x1 - x0), (r.height - 2 * pad) / Math.max(1, y1 - y0));
    view.k = Math.max(0.1, k);
    view.x = pad - x0 * view.k;
    view.y = pad - y0 * view.k;
    applyView();
  }

  // -- cards ------------------------------------------------------------------------
  function signature(item) {
    return [item.kind, item.text, item.caption, item.color, item.url, item.src, item.title, item.missing, item.frame,
            item.match, item.weak, numbered].join("\u0001");
  }

  function fillBody(card) {
    const { item, body } = card;
    body.replaceChildren();
    card.el.dataset.kind = item.kind;
    card.el.style.setProperty("--wb-card-color", item.color || "transparent");
    card.el.classList.toggle("colored", !!item.color);
    if (item.kind === "image") {
      if (item.missing) {
        body.append(h("div", "wb-missing", "This picture was removed from the library."));
      } else {
        const img = h("img", "wb-card-img");
        img.src = item.src;
        img.alt = item.title || "";
        img.draggable = false;
        img.loading = "lazy";
        body.append(img);
      }
    } else if (item.kind === "note") {
      body.append(h("div", "wb-note-text", item.text));
    } else if (item.kind === "heading") {
      body.append(h("div", "wb-heading-text", item.text));
    } else if (item.kind === "script") {
      body.append(h("div", "wb-script-text", item.text));
    } else if (item.kind === "link") {
      const a = h("a", "wb-link-text", item.text || item.url);
      if (SAFE_URL.test(item.url || "")) {
        a.href = item.url;
        a.target = "_blank";
        a.rel = "noopener noreferrer nofollow";
      }
      body.append(a, h("div", "wb-link-url", item.url));
    }
    if (item.caption) body.append(h("div", "wb-caption", item.caption));
    if (item.kind === "image" && numbered && item.frame) {
      const badge = h("span", "wb-frame-no", String(item.frame));
      badge.title = `Frame ${item.frame} (reading order: rows top to bottom, left to right)`;
      body.append(badge);
    }
    if (item.kind === "image" && item.match != null) {
      const pct = Math.round(item.match * 100);
      const badge = h("span", `wb-match${item.weak ? " low" : ""}`, `${pct}% match`);
      badge.title = item.weak
        ? "This still is far from its beat: select it and use Replace still to pick another"
        : "How close this still is to its beat (the same score as a search)";
      body.append(badge);
    }
  }

  function place(card) {
    const { el: node, item } = card;
    node.style.left = `${item.x}px`;
    node.style.top = `${item.y}px`;
    node.style.width = `${item.w}px`;
    node.style.height = `${item.h}px`;
    node.style.zIndex = String(item.z);
  }

  function makeCard(item) {
    const node = h("div", "wb-card");
    node.dataset.id = item.id;
    const body = h("div", "wb-card-body");
    const grip = h("span", "wb-resize");
    grip.title = "Drag to resize";
    node.append(body, grip);
    const card = { el: node, body, item, sig: "" };
    cards.set(item.id, card);
    world.appendChild(node);
    return card;
  }

  function mergePatch(p) {
    for (const id of p.removed || []) current.delete(id);
    for (const entry of p.upserts || []) current.set(entry.id, entry);
    if (Array.isArray(p.order)) {
      const next = new Map();
      for (const id of p.order) if (current.has(id)) next.set(id, current.get(id));
      for (const [id, entry] of current) if (!next.has(id)) next.set(id, entry);
      current = next;
    }
    shownRev = Math.max(shownRev, p.rev);
  }

  function takeFull() {
    const rev = model.revision;
    patches = patches.filter((p) => p.rev > rev);
    current = new Map((model.items || []).map((entry) => [entry.id, entry]));
    shownRev = rev;
    for (const p of patches) mergePatch(p);
  }

  function movingIds() {
    return gesture && (gesture.type === "move" || gesture.type === "resize") ? gesture.ids : new Set();
  }

  function drawItem(item, moving) {
    const card = cards.get(item.id) || makeCard(item);
    // A card being resized keeps only its local size: its place follows whoever moves it meanwhile, and the
    // resize sends only the size, so it does not put back someone else's move.
    const resizing = gesture && gesture.type === "resize";
    const keep = !moving.has(item.id) ? {}
      : resizing ? { w: card.item.w, h: card.item.h } : { x: card.item.x, y: card.item.y, w: card.item.w, h: card.item.h };
    card.item = { ...item, ...keep };
    card.el.classList.remove("leaving", "gone");
    const sig = signature(card.item);
    if (sig !== card.sig && editing?.id !== item.id) {
      fillBody(card);
      card.sig = sig;
    }
    place(card);
  }

  function dropCard(id, by) {
    const card = cards.get(id);
    if (!card) return;
    if (editing?.id === id) {
      // Keep the editor open: saving is refused with the service's message, then the card goes.
      card.el.classList.add("gone");
      tell(`${by || "Someone"} deleted this ${what(card)} while you were editing it.`);
      return;
    }
    card.el.remove();
    cards.delete(id);
    selected.delete(id);
  }

  function settle() {
    markSelection();
    pins.layout();
    if (!fitted && cards.size) {
      fitted = true;
      requestAnimationFrame(fit);
    }
    root.dataset.count = String(cards.size);
    root.dataset.revision = String(shownRev);
    root.dataset.ready = "1";
  }

  function sync() {
    takeFull();
    redraw();
  }

  function redraw() {
    const moving = movingIds();
    for (const item of current.values()) drawItem(item, moving);
    for (const id of [...cards.keys()]) if (!current.has(id)) dropCard(id, "");
    settle();
  }

  function what(card) {
    if (editing?.what === "caption") return "caption";
    return card.item.kind === "heading" ? "heading" : "note";
  }

  function tell(text) {
    notice.textContent = text;
    notice.classList.add("on");
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => notice.classList.remove("on"), 9000);
  }

  // Someone else changed the text being edited here: last write wins, so say whose text a save replaces.
  function warnIfEditing(entry, by) {
    if (!editing || editing.id !== entry.id) return;
    const theirs = editing.what === "caption" ? entry.caption || "" : entry.text || "";
    if (theirs === editing.before || theirs === editing.field.value) return;
    const card = editing.card;
    card.el.classList.add("changed-elsewhere");
    tell(`${by || "Someone"} changed this ${what(card)} while you were editing — yours will replace it if you save ` +
         "(Escape keeps theirs).");
  }

  function onPatch(p) {
    if (typeof p.rev !== "number" || p.rev < model.revision) return; // the last full list has it already
    if (p.rev === model.revision) {
      // A patch at the full list's own revision (badges rescored, a refused gesture put back) only touches
      // cards that list has: one sent before the list and delivered after it must not bring back a card the
      // list, read after it was deleted, left out (the stress test's "ghost card").
      p = { ...p, upserts: (p.upserts || []).filter((entry) => current.has(entry.id)) };
    }
    patches.push(p);
    if (patches.length > PATCHES_KEPT) patches.shift();
    mergePatch(p);
    const moving = movingIds();
    for (const entry of p.upserts || []) {
      warnIfEditing(entry, p.by);
      const item = current.get(entry.id);
      if (item) drawItem(item, moving);
    }
    for (const id of p.removed || []) if (!current.has(id)) dropCard(id, p.by);
    settle();
  }

  let sentSelection = "";
  function markSelection() {
    for (const [id, card] of cards) card.el.classList.toggle("selected", selected.has(id));
    refreshChrome();
    // The others see this selection outlined in this person's colour (sent with the next beat).
    const now = [...selected].filter((id) => cards.has(id)).sort().join(",");
    if (now !== sentSelection) {
      sentSelection = now;
      model.send_msg({ type: "selection", ids: now ? now.split(",") : [] });
    }
  }

  // -- presence: the others' selections and cursors ------------------------------------------
  let lastPresence = [];
  function showPresence(people) {
    lastPresence = Array.isArray(people) ? people : [];
    const rings = new Map();
    for (const p of lastPresence) {
      for (const id of p.selection || []) {
        if (!rings.has(id)) rings.set(id, []);
        rings.get(id).push(p);
      }
    }
    for (const [id, card] of cards) {
      const who = rings.get(id) || [];
      card.el.style.boxShadow = who.map((p, i) => `0 0 0 ${3 + 3 * i}px ${p.colour}`).join(", ");
      card.el.classList.toggle("peer-selected", who.length > 0);
      if (who.length) card.el.dataset.peers = who.map((p) => p.initials).join(" ");
      else delete card.el.dataset.peers;
    }
    peers.replaceChildren();
    for (const p of lastPresence) {
      if (!Array.isArray(p.cursor)) continue;
      const cursor = h("div", "wb-cursor");
      cursor.dataset.session = p.session;
      cursor.style.left = `${p.cursor[0]}px`;
      cursor.style.top = `${p.cursor[1]}px`;
      cursor.style.setProperty("--wb-peer", p.colour);
      cursor.append(h("span", "wb-cursor-name", p.name));
      peers.appendChild(cursor);
    }
  }

  // Where the pointer is on the board, at most five times a second (the page beats once a second).
  let pointerSent = 0;
  let pointerTimer = null;
  let pointerAt = null;
  function sendPointer() {
    pointerTimer = null;
    pointerSent = Date.now();
    model.send_msg({ type: "pointer", x: pointerAt ? Math.round(pointerAt.x) : null,
                     y: pointerAt ? Math.round(pointerAt.y) : null });
  }
  function notePointer(at) {
    pointerAt = at;
    if (pointerTimer) return;
    pointerTimer = setTimeout(sendPointer, Math.max(0, 200 - (Date.now() - pointerSent)));
  }
  viewport.addEventListener("pointermove", (e) => notePointer(toWorld(e.clientX, e.clientY)));
  viewport.addEventListener("pointerleave", () => notePointer(null));
  function select(ids, add = false) {
    if (!add) selected.clear();
    for (const id of ids) selected.add(id);
    markSelection();
  }

  // -- sending changes ---------------------------------------------------------------
  function sendIds(type) {
    if (!model.editable || !selected.size) return;
    model.send_msg({ type, ids: [...selected] });
  }
  function sendColor(color) {
    if (!model.editable || !selected.size) return;
    model.send_msg({ type: "color", ids: [...selected], color });
  }
  function removeSelected() {
    if (!model.editable || !selected.size) return;
    const ids = [...selected];
    for (const id of ids) cards.get(id)?.el.classList.add("leaving");
    model.send_msg({ type: "remove", ids });
  }
  function sendMoves(ids, withSize) {
    const moves = [];
    for (const id of ids) {
      const c = cards.get(id);
      if (!c) continue;
      // A resize sends only the size: its place is whatever the board says, even a move that crossed it.
      const m = withSize ? { id, w: Math.round(c.item.w), h: Math.round(c.item.h) }
        : { id, x: Math.round(c.item.x), y: Math.round(c.item.y) };
      moves.push(m);
    }
    if (moves.length) model.send_msg({ type: "move", moves });
  }

  // -- pointer gestures ---------------------------------------------------------------
  viewport.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 && e.button !== 1) return;
    if (editing && editing.field.contains(e.target)) return;
    root.focus({ preventScroll: true });
    const node = e.target.closest(".wb-card");
    const start = { cx: e.clientX, cy: e.clientY };
    // Pointer capture sends the later click/dblclick to the viewport, so remember what was pressed.
    const anchor = e.target.closest("a");
    lastDown = { id: node ? node.dataset.id : null, link: anchor && anchor.href ? anchor.href : null,
                 open: !model.editable || e.ctrlKey || e.metaKey };
    if (node && e.button === 0) {
      const id = node.dataset.id;
      if (e.shiftKey || e.ctrlKey || e.metaKey) {
        if (selected.has(id)) selected.delete(id); else selected.add(id);
        markSelection();
      } else if (!selected.has(id)) {
        select([id]);
      }
      if (!model.editable || !selected.has(id)) {
        gesture = { type: "click", ids: new Set(), start, moved: false };  // selects (and opens links) only
        return;
      }
      if (e.target.classList.contains("wb-resize")) {
        const it = cards.get(id).item;
        gesture = { type: "resize", ids: new Set([id]), id, start, w0: it.w, h0: it.h, moved: false };
      } else {
        const origins = new Map([...selected].map((sid) => [sid, { x: cards.get(sid).item.x, y: cards.get(sid).item.y }]));
        gesture = { type: "move", ids: new Set(selected), origins, start, moved: false };
      }
    } else if (e.shiftKey && e.button === 0) {
      gesture = { type: "marquee", start, origin: toWorld(e.clientX, e.clientY), base: new Set(selected), moved: false };
    } else {
      if (!e.shiftKey) select([]);
      gesture = { type: "pan", start, view0: { ...view }, moved: false };
      viewport.classList.add("panning");
    }
    viewport.setPointerCapture(e.pointerId);
    e.preventDefault();
  });

  viewport.addEventListener("pointermove", (e) => {
    if (!gesture) return;
    const dxs = e.clientX - gesture.start.cx, dys = e.clientY - gesture.start.cy;
    if (!gesture.moved && Math.hypot(dxs, dys) < CLICK_SLOP) return;
    gesture.moved = true;
    const dx = dxs / view.k, dy = dys / view.k;
    if (gesture.type === "move") {
      for (const [id, o] of gesture.origins) {
        const c = cards.get(id);
        if (!c) continue;
        c.item.x = o.x + dx;
        c.item.y = o.y + dy;
        c.el.classList.add("dragging");
        place(c);
      }
    } else if (gesture.type === "resize") {
      const c = cards.get(gesture.id);
      if (c) {
        c.item.w = Math.max(MIN_W, gesture.w0 + dx);
        c.item.h = Math.max(MIN_H, gesture.h0 + dy);
        place(c);
      }
    } else if (gesture.type === "pan") {
      view.x = gesture.view0.x + dxs;
      view.y = gesture.view0.y + dys;
      applyView();
    } else if (gesture.type === "marquee") {
      const p = toWorld(e.clientX, e.clientY);
      const x0 = Math.min(p.x, gesture.origin.x), y0 = Math.min(p.y, gesture.origin.y);
      const x1 = Math.max(p.x, gesture.origin.x), y1 = Math.max(p.y, gesture.origin.y);
      const r = viewport.getBoundingClientRect();
      Object.assign(marquee.style, {
        display: "block",
        left: `${Math.min(e.clientX, gesture.start.cx) - r.left}px`,
        top: `${Math.min(e.clientY, gesture.start.cy) - r.top}px`,
        width: `${Math.abs(dxs)}px`, height: `${Math.abs(dys)}px`,
      });
      const hit = [];
      for (const [id, { item }] of cards) {
        if (item.x < x1 && item.x + item.w > x0 && item.y < y1 && item.y + item.h > y0) hit.push(id);
      }
      select([...gesture.base, ...hit]);
    }
  });

  function endGesture(e) {
    if (!gesture) return;
    const g = gesture;
    gesture = null;
    viewport.classList.remove("panning");
    marquee.style.display = "none";
    for (const c of cards.values()) c.el.classList.remove("dragging");
    if (viewport.hasPointerCapture?.(e.pointerId)) viewport.releasePointerCapture(e.pointerId);
    if (!g.moved) {
      // A click: changes that reached these cards while the button was down were held back; show them now.
      if (g.ids) for (const id of g.ids) { const item = current.get(id); if (item) drawItem(item, new Set()); }
      if (lastDown.link && lastDown.open && SAFE_URL.test(lastDown.link)) {
        window.open(lastDown.link, "_blank", "noopener,noreferrer");
      }
      return;
    }
    if (g.type === "move") sendMoves(g.ids, false);
    else if (g.type === "resize") sendMoves(g.ids, true);
  }
  viewport.addEventListener("pointerup", endGesture);
  viewport.addEventListener("pointercancel", endGesture);

  // Links open from pointerup (see endGesture): on an editable board a click selects and
  // Ctrl/Cmd-click opens; on a view-only board a click opens. The anchor itself never navigates.
  viewport.addEventListener("click", (e) => { if (e.target.closest("a")) e.preventDefault(); });

  viewport.addEventListener("wheel", (e) => {
    e.preventDefault();
    if (e.ctrlKey || e.metaKey) {
      zoomAt(view.k * Math.exp(-e.deltaY * 0.0015), e.clientX, e.clientY);
    } else {
      view.x -= e.deltaX;
      view.y -= e.deltaY;
      applyView();
    }
  }, { passive: false });

  // -- inline editing (notes and headings) ------------------------------------------------
  viewport.addEventListener("dblclick", (e) => {
    if (!model.editable) return;
    const id = lastDown.id;
    if (!id) {
      const p = toWorld(e.clientX, e.clientY);
      model.send_msg({ type: "add_note", x: Math.round(p.x), y: Math.round(p.y) });
      return;
    }
    const card = cards.get(id);
    if (card && (card.item.kind === "note" || card.item.kind === "heading")) startEdit(card);
    else if (card) startCaption(card);
  });

  // A caption is edited in a one-line field over the card's foot; Enter saves, Escape cancels.
  function startCaption(card) {
    if (!model.editable) return;
    if (editing) finishEdit(true);
    const field = h("input", "wb-edit wb-caption-edit");
    field.value = card.item.caption || "";
    field.placeholder = "Caption — Enter saves";
    field.setAttribute("aria-label", "Caption");
    card.body.append(field);
    card.el.classList.add("editing");
    editing = { id: card.item.id, field, card, before: card.item.caption || "", what: "caption" };
    field.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Escape") finishEdit(false);
      else if (e.key === "Enter") { e.preventDefault(); finishEdit(true); }
    });
    field.addEventListener("blur", () => finishEdit(true));
    field.focus();
    field.select();
  }

  function startEdit(card) {
    if (editing) finishEdit(true);
    const multiline = card.item.kind === "note";
    const field = h(multiline ? "textarea" : "input", "wb-edit");
    field.value = card.item.text || "";
    field.setAttribute("aria-label", multiline ? "Note text" : "Heading text");
    card.body.replaceChildren(field);
    card.el.classList.add("editing");
    editing = { id: card.item.id, field, card, before: card.item.text || "" };
    field.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Escape") finishEdit(false);
      else if (e.key === "Enter" && (!multiline || e.ctrlKey || e.metaKey)) { e.preventDefault(); finishEdit(true); }
    });
    field.addEventListener("blur", () => finishEdit(true));
    field.focus();
    field.select();
  }

  function finishEdit(save) {
    if (!editing) return;
    const { id, field, card, before, what } = editing;
    editing = null;
    card.el.classList.remove("editing", "changed-elsewhere");
    const text = field.value;
    if (save && text !== before && what === "caption") {
      card.item.caption = text;
      model.send_msg({ type: "caption", id, caption: text });
    } else if (save && text !== before) {
      card.item.text = text;
      model.send_msg({ type: "edit", id, text });
    }
    if (card.el.classList.contains("gone")) {
      // Deleted meanwhile: the save (if any) was sent and will be refused with the reason.
      card.el.remove();
      cards.delete(id);
      selected.delete(id);
      settle();
    } else {
      card.sig = "";
      fillBody(card);
      card.sig = signature(card.item);
    }
    root.focus({ preventScroll: true });
  }

  // -- keyboard ---------------------------------------------------------------------------
  root.addEventListener("keydown", (e) => {
    if (editing) return;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && (e.key === "z" || e.key === "Z")) {
      e.preventDefault();
      if (model.editable) model.send_msg({ type: e.shiftKey ? "redo" : "undo" });
    } else if (mod && (e.key === "y" || e.key === "Y")) {
      e.preventDefault();
      if (model.editable) model.send_msg({ type: "redo" });
    } else if (mod && (e.key === "a" || e.key === "A")) {
      e.preventDefault();
      select([...cards.keys()]);
    } else if (e.key === "Delete" || e.key === "Backspace") {
      e.preventDefault();
      removeSelected();
    } else if (e.key === "Escape") {
      select([]);
    } else if (e.key === "Enter" && selected.size === 1 && model.editable) {
      const card = cards.get([...selected][0]);
      if (card && (card.item.kind === "note" || card.item.kind === "heading")) { e.preventDefault(); startEdit(card); }
    } else if (e.key.startsWith("Arrow") && selected.size && model.editable) {
      e.preventDefault();
      const step = e.shiftKey ? 50 : 10;
      const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
      for (const id of selected) {
        const c = cards.get(id);
        if (c) { c.item.x += d[0]; c.item.y += d[1]; place(c); }
      }
      // Nudges settle into one move, like a drag.
      clearTimeout(nudgeTimer);
      const ids = new Set(selected);
      nudgeTimer = setTimeout(() => sendMoves(ids, false), 400);
    } else if (e.key === "+" || e.key === "=") {
      zoomBy(1.25);
    } else if (e.key === "-") {
      zoomBy(1 / 1.25);
    }
  });

  // -- dropping suggestions and stills from side panels -----------------------------------
  viewport.addEventListener("dragover", (e) => {
    if (!model.editable || !e.dataTransfer.types.includes(DRAG_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
    viewport.classList.add("drop-target");
  });
  viewport.addEventListener("dragleave", () => viewport.classList.remove("drop-target"));
  viewport.addEventListener("drop", (e) => {
    viewport.classList.remove("drop-target");
    if (!model.editable) return;
    const raw = e.dataTransfer.getData(DRAG_TYPE);
    if (!raw) return;
    e.preventDefault();
    let payload;
    try { payload = JSON.parse(raw); } catch (err) { return; }
    const p = toWorld(e.clientX, e.clientY);
    model.send_msg({ type: "drop", payload, x: Math.round(p.x), y: Math.round(p.y) });
  });

  model.on("items", sync);
  model.on("revision", sync);
  model.on("editable", redraw);
  model.on("replaceable", refreshChrome);
  model.on("msg:custom", (msg) => {
    if (msg.type === "fit") fit();
    else if (msg.type === "select" && Array.isArray(msg.ids)) select(msg.ids);
    else if (msg.type === "patch") { onPatch(msg); showPresence(lastPresence); }
    else if (msg.type === "presence") showPresence(msg.people);
  });
  applyView();
  sync();
}
