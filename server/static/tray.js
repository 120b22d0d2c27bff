// Story prompts (or any short texts) as cards that can be dragged onto a board as notes.
export function render({ model, el }) {
  const list = document.createElement("div");
  list.className = "wb-tray";
  el.appendChild(list);
  function draw() {
    list.replaceChildren();
    for (const text of model.texts) {
      const card = document.createElement("div");
      card.className = "wb-tray-card";
      card.textContent = text;
      card.draggable = model.draggable;
      card.tabIndex = 0;
      card.title = model.draggable ? "Drag onto the board, or press Enter to add it" : "";
      card.addEventListener("dragstart", (e) => {
        e.dataTransfer.setData("application/x-workbench", JSON.stringify({ kind: "note", text }));
        e.dataTransfer.setData("text/plain", text);
        e.dataTransfer.effectAllowed = "copy";
      });
      card.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && model.draggable) { e.preventDefault(); model.send_msg({ type: "add", text }); }
      });
      list.appendChild(card);
    }
    if (!model.texts.length) {
      const empty = document.createElement("div");
      empty.className = "wb-tray-empty";
      empty.textContent = model.empty_text;
      list.appendChild(empty);
    }
  }
  model.on("texts", draw);
  model.on("draggable", draw);
  draw();
}
