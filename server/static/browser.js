// Browser actions the server asks for: go to another page, copy text to the clipboard.
export function render({ model, el }) {
  el.style.display = "none";
  model.on("msg:custom", (msg) => {
    if (msg.type === "navigate" && typeof msg.url === "string" && msg.url.startsWith("/")) {
      window.location.assign(msg.url);
    } else if (msg.type === "copy" && typeof msg.text === "string") {
      const done = () => model.send_msg({ type: "copied" });
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(msg.text).then(done, () => fallback(msg.text, done));
      } else {
        fallback(msg.text, done);
      }
    } else if (msg.type === "replace_url" && typeof msg.url === "string" && msg.url.startsWith("/")) {
      window.history.replaceState(null, "", msg.url);
    }
  });
}

function fallback(text, done) {
  // Clipboard API needs https or localhost; a hidden textarea works everywhere else.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try { document.execCommand("copy"); done(); } catch (e) { /* the URL stays visible to copy by hand */ }
  area.remove();
}
