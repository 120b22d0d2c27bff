// The board page's Script panel: the screenplay's scenes as text, the selected card's lines marked and
// scrolled into view inside the panel (never the page). Every word goes in through textContent.
export function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "wb-script-text";
  box.tabIndex = 0;
  box.setAttribute("role", "document");
  box.setAttribute("aria-label", "Script");
  el.appendChild(box);

  function draw() {
    const sections = [];
    for (const scene of model.scenes || []) {
      const section = document.createElement("section");
      section.className = "wb-script-scene";
      section.dataset.scene = String(scene.index);
      (scene.lines || []).forEach((text, k) => {
        const row = document.createElement("div");
        row.className = k === 0 ? "wb-script-line wb-script-heading" : "wb-script-line";
        row.dataset.line = String(scene.first + k);
        const number = document.createElement("span");
        number.className = "wb-script-no";
        number.textContent = String(scene.first + k);
        const words = document.createElement("span");
        words.className = "wb-script-words";
        words.textContent = text || "\u00a0";
        row.append(number, words);
        section.appendChild(row);
      });
      sections.push(section);
    }
    box.replaceChildren(...sections);
    focus();
  }

  function focus() {
    for (const node of box.querySelectorAll(".wb-script-current, .wb-script-hl")) {
      node.classList.remove("wb-script-current", "wb-script-hl");
    }
    const want = model.focus || {};
    if (want.scene === null || want.scene === undefined) return;
    const section = box.querySelector(`section[data-scene="${Number(want.scene)}"]`);
    if (!section) return;
    section.classList.add("wb-script-current");
    let first = null;
    let last = null;
    if (want.kind === "frame" && want.first != null) {
      for (const row of section.querySelectorAll(".wb-script-line")) {
        const n = Number(row.dataset.line);
        if (n >= want.first && n <= want.last) {
          row.classList.add("wb-script-hl");
          first = first || row;
          last = row;
        }
      }
    }
    // A heading goes to the top; a frame's lines come into view with the scene's heading when they fit.
    let top = section.offsetTop;
    if (first) {
      const bottom = last.offsetTop + last.offsetHeight;
      if (bottom - section.offsetTop > box.clientHeight * 0.85) top = Math.max(section.offsetTop, first.offsetTop - 48);
    }
    box.scrollTo({ top: Math.max(0, top - 4), behavior: "auto" });
  }

  model.on("scenes", draw);
  model.on("focus", focus);
  draw();
}
