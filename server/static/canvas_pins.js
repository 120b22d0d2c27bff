// Comment pins on the board canvas (issue #20): a numbered marker for every open thread, at its
// spot on the board or on the top-right corner of its card, and a small form to comment on a
// spot or a card. This file is joined to canvas.js as one module (server/components/canvas.py):
// render() calls commentPins() once and pins.layout() whenever it has drawn cards.
//
// The markers come as one list (model.pins, set by the comments panel when the comments change),
// never per card. Ways in: the Comment tool then a click, Alt+click on the board, or the C key
// (on the selected card, else in the middle of the view). In the form Enter posts, Shift+Enter
// starts a new line, Escape cancels. Every user string is set with textContent.
function commentPins({ model, root, viewport, world, tools, cards, selected, view, toWorld, applyView, h, button }) {
  const layer = h("div", "wb-pins");
  world.appendChild(layer);
  const banner = h("div", "wb-pin-banner", "Click a spot or a card to comment · Esc cancels");
  banner.setAttribute("role", "status");
  viewport.appendChild(banner);
  let placing = false;
  let form = null; // {el, field, at, itemId}
  let focused = null;

  const tool = button("Comment", "Comment on a spot or a card: click the board where (or Alt+click, or press C)",
                      () => setPlacing(!placing), "wb-comment-tool");
  tools.insertBefore(tool, tools.querySelector(".wb-board-hint"));

  function setPlacing(on) {
    placing = on && !!model.commentable;
    tool.classList.toggle("on", placing);
    tool.setAttribute("aria-pressed", placing ? "true" : "false");
    banner.classList.toggle("on", placing);
    viewport.classList.toggle("placing-comment", placing);
  }

  function refreshTool() {
    tool.style.display = model.commentable ? "" : "none";
    if (!model.commentable) { setPlacing(false); closeForm(); }
  }

  // -- markers --------------------------------------------------------------------------
  function where(pin, stacked) {
    const card = pin.item_id ? cards.get(pin.item_id) : null;
    if (card && !card.el.classList.contains("gone")) {
      const k = stacked.get(pin.item_id) || 0; // several threads on one card line up leftwards
      stacked.set(pin.item_id, k + 1);
      return { x: card.item.x + card.item.w - 30 * k, y: card.item.y, onCard: true };
    }
    if (!pin.item_id && typeof pin.x === "number" && typeof pin.y === "number") return { x: pin.x, y: pin.y };
    return null; // its card was removed, or the thread is about the whole board: the panel lists it
  }

  function marker(pin, at) {
    const m = h("button", `wb-pin${at.onCard ? " on-card" : ""}${pin.resolved ? " resolved" : ""}`, String(pin.n));
    m.type = "button";
    m.dataset.thread = pin.id;
    m.style.left = `${at.x}px`;
    m.style.top = `${at.y}px`;
    const replies = pin.count > 1 ? ` (${pin.count - 1} repl${pin.count === 2 ? "y" : "ies"})` : "";
    m.title = `#${pin.n} · ${pin.by}: ${pin.text}${replies}${pin.resolved ? " · resolved" : ""}`;
    m.setAttribute("aria-label", `Comment ${pin.n} by ${pin.by}${pin.resolved ? ", resolved" : ""}: open the thread`);
    m.classList.toggle("focused", pin.id === focused);
    // Pressing a marker neither pans the board nor clears the selection.
    m.addEventListener("pointerdown", (e) => e.stopPropagation());
    m.addEventListener("dblclick", (e) => e.stopPropagation());
    m.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") e.stopPropagation(); });
    m.addEventListener("click", (e) => {
      e.preventDefault();
      e.stopPropagation();
      focused = pin.id;
      for (const other of layer.querySelectorAll(".wb-pin")) other.classList.toggle("focused", other === m);
      model.send_msg({ type: "pin", id: pin.id });
    });
    return m;
  }

  function layout() {
    const pins = Array.isArray(model.pins) ? model.pins : [];
    const outlined = pins.find((pin) => pin.focused);
    if (outlined) focused = outlined.id; // the thread the panel outlines (e.g. the one just posted here)
    const stacked = new Map();
    const marks = [];
    for (const pin of pins) {
      const at = where(pin, stacked);
      if (at) marks.push(marker(pin, at));
    }
    if (form && !form.itemId) {
      const ghost = h("span", "wb-pin pending", "+");
      ghost.style.left = `${form.at.x}px`;
      ghost.style.top = `${form.at.y}px`;
      marks.push(ghost);
    }
    layer.replaceChildren(...marks);
    root.dataset.pins = String(layer.querySelectorAll(".wb-pin[data-thread]").length);
  }

  // -- the form ---------------------------------------------------------------------------
  function closeForm() {
    if (!form) return;
    form.el.remove();
    form = null;
    layout();
  }

  function openForm(at, itemId, clientX, clientY) {
    closeForm();
    setPlacing(false);
    const el = h("div", "wb-pin-form");
    const title = itemId ? "Comment on this card" : "Comment on this spot";
    const field = h("textarea", "wb-pin-text");
    field.rows = 3;
    field.maxLength = 5000;
    field.placeholder = "Write a comment… Enter posts · Esc cancels";
    field.setAttribute("aria-label", title);
    const post = button("Post", "Post the comment (Enter)", () => send(), "wb-pin-post");
    const cancel = button("Cancel", "Cancel (Escape)", () => closeForm(), "wb-pin-cancel");
    const row = h("div", "wb-pin-actions");
    row.append(post, cancel);
    el.append(h("div", "wb-pin-form-title", title), field, row);
    el.addEventListener("pointerdown", (e) => e.stopPropagation());
    el.addEventListener("dblclick", (e) => e.stopPropagation());
    el.addEventListener("wheel", (e) => e.stopPropagation());
    el.addEventListener("keydown", (e) => {
      e.stopPropagation(); // the canvas's keys (Delete, arrows, Ctrl+Z) are not for this field
      if (e.key === "Escape") { e.preventDefault(); closeForm(); root.focus({ preventScroll: true }); }
      else if (e.key === "Enter" && !e.shiftKey && e.target === field) { e.preventDefault(); send(); }
    });
    // Beside the spot, inside the part of the canvas the window shows (focusing it must not scroll the page).
    // Where there is room it goes right of and below the spot, else left of or above it, so the spot shows.
    viewport.appendChild(el);
    const r = viewport.getBoundingClientRect();
    const bottom = Math.min(r.height, window.innerHeight - r.top);
    const px = clientX - r.left, py = clientY - r.top, fw = el.offsetWidth, fh = el.offsetHeight;
    const left = px + 14 + fw <= r.width - 8 ? px + 14 : px - 14 - fw;
    const top = py - 10 + fh <= bottom - 8 ? py - 10 : py - fh - 36;
    el.style.left = `${Math.max(8, left)}px`;
    el.style.top = `${Math.max(8, top)}px`;
    form = { el, field, at, itemId };
    layout();
    field.focus({ preventScroll: true });
  }

  function send() {
    if (!form) return;
    const text = form.field.value.trim();
    if (!text) { form.field.focus(); return; }
    const message = { type: "comment_at", text, item_id: form.itemId || null };
    if (!form.itemId) { message.x = Math.round(form.at.x); message.y = Math.round(form.at.y); }
    model.send_msg(message);
    closeForm();
    root.focus({ preventScroll: true });
  }

  // -- ways in ----------------------------------------------------------------------------
  // Capture on the root: the canvas's own pointerdown on the viewport (select, pan) never sees this press.
  root.addEventListener("pointerdown", (e) => {
    if (!model.commentable || e.button !== 0 || !viewport.contains(e.target)) return;
    if ((form && form.el.contains(e.target)) || e.target.closest(".wb-pin")) return;
    if (!placing && !e.altKey) return;
    e.stopPropagation();
    e.preventDefault();
    const node = e.target.closest(".wb-card");
    openForm(toWorld(e.clientX, e.clientY), node ? node.dataset.id : null, e.clientX, e.clientY);
  }, true);

  root.addEventListener("keydown", (e) => {
    if (e.target !== root || !model.commentable || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape" && placing) { setPlacing(false); return; }
    if (e.key !== "c" && e.key !== "C") return;
    e.preventDefault();
    const ids = selected();
    const r = viewport.getBoundingClientRect();
    const card = ids.length === 1 ? cards.get(ids[0]) : null;
    if (card) {
      const cx = r.left + view.x + (card.item.x + card.item.w) * view.k, cy = r.top + view.y + card.item.y * view.k;
      openForm({ x: card.item.x + card.item.w, y: card.item.y }, card.item.id, cx, cy);
    } else {
      const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
      openForm(toWorld(cx, cy), null, cx, cy);
    }
  });

  // Markers on cards follow a drag or a nudge as it happens (the cards are placed without a redraw).
  viewport.addEventListener("pointermove", (e) => { if (e.buttons && layer.childElementCount) layout(); });
  root.addEventListener("keyup", (e) => { if (e.key.startsWith("Arrow") && layer.childElementCount) layout(); });

  // Markers keep their size on screen whatever the zoom (within reason): the world's transform is
  // the zoom, so follow it with one CSS variable rather than laying the markers out again.
  const rescale = () => layer.style.setProperty("--wb-pin-scale", String(Math.min(4, Math.max(0.5, 1 / view.k))));
  new MutationObserver(rescale).observe(world, { attributes: true, attributeFilter: ["style"] });
  rescale();

  // "Show spot" in the comments panel: bring the thread's marker to the middle of the view.
  function reveal(id) {
    const pin = (Array.isArray(model.pins) ? model.pins : []).find((p) => p.id === id);
    const at = pin ? where(pin, new Map()) : null;
    if (!at) return;
    const r = viewport.getBoundingClientRect();
    view.x = r.width / 2 - at.x * view.k;
    view.y = r.height / 2 - at.y * view.k;
    applyView();
    focused = id;
    layout();
    layer.querySelector(`.wb-pin[data-thread="${CSS.escape(id)}"]`)?.focus({ preventScroll: true });
  }
  model.on("msg:custom", (msg) => { if (msg.type === "show_pin" && typeof msg.id === "string") reveal(msg.id); });

  model.on("pins", layout);
  model.on("commentable", refreshTool);
  refreshTool();
  return { layout };
}
