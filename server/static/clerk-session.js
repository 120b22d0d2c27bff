// Clerk mode only: load Clerk's browser script from the instance's Frontend API, so the
// short-lived (about 60 s) __session cookie is refreshed while the page is open; when Clerk
// says the person has no session any more, go through sign-in and come back here.
export function render({ model }) {
  if (window.__workbenchClerk) { return }
  window.__workbenchClerk = true
  const script = document.createElement("script")
  script.src = model.script_url
  script.async = true
  script.crossOrigin = "anonymous"
  script.setAttribute("data-clerk-publishable-key", model.publishable_key)
  script.addEventListener("load", async () => {
    await window.Clerk.load()
    window.Clerk.addListener(({ session }) => {
      if (session === null) {
        const here = window.location.pathname + window.location.search
        window.location.assign("/signin?next=" + encodeURIComponent(here))
      }
    })
  })
  document.head.appendChild(script)
}
