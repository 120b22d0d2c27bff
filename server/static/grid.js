// A responsive grid of thumbnails: click to select, "Similar" to find look-alikes,
// more pages load as the end of the grid scrolls into view. Every user-provided
// string is set with textContent, never parsed as HTML.
export function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "wb-grid-root";
  const grid = document.createElement("div");
  grid.className = "wb-grid";
  grid.setAttribute("role", "list");
  const empty = document.createElement("div");
  empty.className = "wb-grid-empty";
  const more = document.createElement("button");
  more.className = "wb-grid-more";
  more.type = "button";
  more.textContent = "Load more";
  more.addEventListener("click", () => askMore());
  root.append(grid, empty, more);
  el.appendChild(root);

  let waiting = false;
  function askMore() {
    if (waiting || !model.has_more) return;
    waiting = true;
    more.textContent = "Loading…";
    model.send_msg({ type: "more" });
  }

  function toggle(id, extend) {
    const current = new Set(model.selected);
    if (!extend && !model.multi) current.clear();
    if (current.has(id)) current.delete(id); else current.add(id);
    model.selected = [...current];
  }

  function card(image) {
    const fig = document.createElement("figure");
    fig.className = "wb-thumb";
    fig.dataset.id = image.id;
    fig.tabIndex = 0;
    fig.setAttribute("role", "listitem");
    fig.setAttribute("aria-label", image.title || "image");
    if (image.why) { fig.title = `${image.title || ""}\nLooks like: ${image.why}` }
    if (model.draggable) {
      fig.draggable = true;
      fig.addEventListener("dragstart", (e) => {
        e.dataTransfer.setData("application/x-workbench", JSON.stringify({ kind: "image", image_id: image.id }));
        e.dataTransfer.setData("text/plain", image.title || image.id);
        e.dataTransfer.effectAllowed = "copy";
      });
    }
    const frame = document.createElement("div");
    frame.className = "wb-thumb-frame";
    const img = document.createElement("img");
    img.loading = "lazy";
    img.decoding = "async";
    img.alt = image.title || "";
    img.src = image.thumb;
    img.draggable = false;
    frame.appendChild(img);
    if (image.status && image.status !== "ready") {
      const badge = document.createElement("span");
      badge.className = "wb-thumb-badge";
      badge.textContent = image.status === "failed" ? "failed" : "indexing…";
      frame.appendChild(badge);
    }
    if (image.score != null) {
      // Every result shows its score; hover says what it is (calibrated 0..1, and the raw cosine).
      const score = document.createElement("span");
      score.className = "wb-thumb-score";
      score.textContent = image.score.toFixed(2);
      score.title = image.raw != null
        ? `Relevance ${image.score.toFixed(2)} (0 unrelated, 1 certain) · cosine ${image.raw.toFixed(3)}`
        : `Similarity ${image.score.toFixed(2)}`;
      frame.appendChild(score);
    }
    const check = document.createElement("span");
    check.className = "wb-thumb-check";
    check.textContent = "✓";
    frame.appendChild(check);
    if (model.actions) {
      const similar = document.createElement("button");
      similar.type = "button";
      similar.className = "wb-thumb-similar";
      similar.textContent = "Similar";
      similar.title = "Find images that look like this one";
      similar.addEventListener("click", (e) => {
        e.stopPropagation();
        model.send_msg({ type: "similar", id: image.id });
      });
      frame.appendChild(similar);
    }
    const cap = document.createElement("figcaption");
    const name = document.createElement("div");
    name.className = "wb-thumb-title";
    name.textContent = image.title || "";
    cap.appendChild(name);
    const meta = document.createElement("div");
    meta.className = "wb-thumb-meta";
    // A calibrated score has its badge on the picture: the line under it keeps the tags.
    meta.textContent = image.score != null && image.raw == null
      ? `${Math.round(image.score * 100)}% match` : (image.tags || []).join(" · ");
    cap.appendChild(meta);
    fig.append(frame, cap);
    fig.addEventListener("click", (e) => toggle(image.id, e.ctrlKey || e.metaKey || e.shiftKey));
    fig.addEventListener("keydown", (e) => {
      if (e.key === " " || e.key === "Enter") { e.preventDefault(); toggle(image.id, true); }
    });
    return fig;
  }

  function markSelected() {
    const chosen = new Set(model.selected);
    for (const fig of grid.children) {
      const on = chosen.has(fig.dataset.id);
      fig.classList.toggle("selected", on);
      fig.setAttribute("aria-selected", on ? "true" : "false");
    }
  }

  function draw() {
    grid.replaceChildren(...model.images.map(card));
    empty.textContent = model.images.length ? "" : model.empty_text;
    empty.style.display = model.images.length ? "none" : "block";
    waiting = false;
    more.textContent = "Load more";
    more.style.display = model.has_more ? "block" : "none";
    root.classList.toggle("compact", !!model.compact);
    markSelected();
  }

  // Infinite scroll: reaching the button asks for the next page.
  const watcher = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) askMore();
  });
  watcher.observe(more);

  model.on("images", draw);
  model.on("has_more", draw);
  model.on("empty_text", draw);
  model.on("selected", markSelected);
  model.on("remove", () => watcher.disconnect());
  draw();
}
