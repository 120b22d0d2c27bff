"""One module per page; each page is a small ``pn.viewable.Viewer`` with per-session state."""
