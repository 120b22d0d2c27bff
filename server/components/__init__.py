"""Custom components in plain JavaScript (no CDN, no build step) and small HTML renderers."""
