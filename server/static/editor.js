// A plain monospace editor for Fountain: the text syncs to the server a moment after typing
// stops, the selection syncs as code-point offsets (what Python counts), Ctrl+S asks to save.
export function render({ model, el }) {
  const area = document.createElement("textarea");
  area.className = "wb-editor";
  area.spellcheck = true;
  area.setAttribute("aria-label", "Screenplay (Fountain)");
  area.placeholder = model.placeholder;
  area.value = model.value;
  area.readOnly = model.readonly;
  el.appendChild(area);

  let timer = null;
  const codePoints = (s) => { let n = 0; for (const _ of s) n++; return n; };
  function push() {
    clearTimeout(timer);
    timer = null;
    if (area.value !== model.value) model.value = area.value;
  }
  function pushSelection() {
    const a = area.selectionStart, b = area.selectionEnd;
    const text = area.value;
    const sel = [codePoints(text.slice(0, a)), codePoints(text.slice(0, b))];
    if (sel[0] !== model.selection[0] || sel[1] !== model.selection[1]) model.selection = sel;
  }
  area.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(push, 350);
  });
  area.addEventListener("blur", push);
  area.addEventListener("select", pushSelection);
  area.addEventListener("keyup", pushSelection);
  area.addEventListener("mouseup", pushSelection);
  area.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && (e.key === "s" || e.key === "S")) {
      e.preventDefault();
      push();
      model.send_msg({ type: "save" });
    } else if (e.key === "Tab" && !e.shiftKey && !e.ctrlKey) {
      // Tab indents inside a script; Shift+Tab still leaves the field.
      e.preventDefault();
      area.setRangeText("    ", area.selectionStart, area.selectionEnd, "end");
      area.dispatchEvent(new Event("input"));
    }
  });

  model.on("value", () => {
    if (timer !== null || area.value === model.value) return; // local typing wins until it is sent
    // The same script, longer (a save, another tab's edit): keep the writer's place, and keep following
    // the end if they had scrolled down to it. Another script (or the first one) opens at its top.
    const same = area.value !== "" && model.value.slice(0, 200) === area.value.slice(0, 200);
    const atEnd = area.scrollTop > 0 && area.scrollTop + area.clientHeight >= area.scrollHeight - 24;
    const { selectionStart: a, selectionEnd: b, scrollTop: top } = area;
    area.value = model.value;
    if (document.activeElement === area) area.setSelectionRange(Math.min(a, area.value.length), Math.min(b, area.value.length));
    if (model.follow || (same && atEnd)) area.scrollTop = area.scrollHeight;
    else area.scrollTop = same ? top : 0;
  });
  // AI text arrives as messages: the part before and after the stream stays, the new words grow
  // in between (offsets are code points, as Python counts them).
  let stream = null;
  model.on("msg:custom", (msg) => {
    if (msg.type === "stream-start") {
      const chars = Array.from(area.value);
      stream = { head: chars.slice(0, msg.start).join("") + msg.prefix, tail: chars.slice(msg.end).join(""), text: "" };
      area.value = stream.head + stream.tail;
    } else if (msg.type === "stream" && stream) {
      stream.text += msg.text;
      area.value = stream.head + stream.text + stream.tail;
      if (model.follow) area.scrollTop = area.scrollHeight;
    } else if (msg.type === "stream-end") {
      stream = null;
      area.value = model.value;
    }
  });
  model.on("readonly", () => { area.readOnly = model.readonly; });
  model.on("placeholder", () => { area.placeholder = model.placeholder; });
}
