"""Editing library images: tags, captions, visibility and deletion (mixed into :class:`Library`).

The rules for tags and captions live here too, since uploads clean them the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from store import MetadataStore, Tx
from workbench.accounts import User
from workbench.errors import Forbidden, InvalidInput
from workbench.library.model import VISIBILITIES, LibraryImage, tag_text
from workbench.text import clean_text

__all__ = ["Editing", "tag_filter", "clean_tags", "clean_caption", "MAX_TAG", "MAX_TAGS", "MAX_CAPTION"]

MAX_TAG = 40
MAX_TAGS = 50
MAX_CAPTION = 2000


def _tag_form(tag: str, *, truncate: bool = False) -> str:
    # "|" separates tags in the vector prefilter (see ``tag_text``), so it cannot be part of one.
    limit = 10 * MAX_TAG if truncate else MAX_TAG
    tag = clean_text(tag, field="tag", max_chars=limit, truncate=truncate).replace("|", " ")
    return " ".join(tag.split()).lower()


def tag_filter(tag: str) -> str:
    """A tag a person searches or browses by, in the form tags are stored (never refused for its length)."""
    return _tag_form(tag, truncate=True)


def clean_tags(tags: Iterable[str]) -> list[str]:
    """An image's tags as stored: one line each, lower case, no duplicates, at most MAX_TAGS."""
    if isinstance(tags, str):  # tags="noir" means one tag, not five letters
        tags = [tags]
    cleaned = set()
    for tag in tags:
        tag = _tag_form(tag)
        if tag:
            cleaned.add(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"An image can carry at most {MAX_TAGS} tags.")
    return sorted(cleaned)


def clean_caption(caption: str) -> str:
    """An image's caption as stored (user text, several lines, at most MAX_CAPTION characters)."""
    return clean_text(caption, field="caption", max_chars=MAX_CAPTION, multiline=True)


class Editing:
    """What an image's owner may change. Needs ``_db``, ``pipeline`` and ``get`` (from :class:`Library`)."""

    _db: MetadataStore
    pipeline: Any
    if TYPE_CHECKING:  # Library's; declared here so the edits below type-check on their own
        def get(self, user: User, image_id: str) -> LibraryImage: ...

    def _own(self, user: User, image_id: str) -> LibraryImage:
        image = self.get(user, image_id)
        if image.owner != user.id:
            raise Forbidden("Only the owner can change this image.")
        return image

    def set_tags(self, user: User, image_id: str, tags: Iterable[str]) -> LibraryImage:
        """Replace an image's tags."""
        image = self._own(user, image_id)
        clean = clean_tags(tags)

        def work(cur: Tx) -> None:
            cur.execute("DELETE FROM image_tags WHERE image_id = ?", [image.id])
            for tag in clean:
                cur.execute("INSERT INTO image_tags VALUES (?, ?)", [image.id, tag])

        self._db.write(work)
        self._sync_vector(image.id, tags=tag_text(clean))
        return self.get(user, image_id)

    def add_tags(self, user: User, image_id: str, tags: Iterable[str]) -> LibraryImage:
        """Add tags to an image, keeping the ones it has."""
        image = self._own(user, image_id)
        return self.set_tags(user, image_id, [*image.tags, *tags])

    def set_caption(self, user: User, image_id: str, caption: str) -> LibraryImage:
        """Replace an image's caption."""
        caption = clean_caption(caption)
        self._own(user, image_id)
        self._db.execute("UPDATE images SET caption = ?, updated_at = now() WHERE id = ?", [caption, image_id])
        return self.get(user, image_id)

    def set_visibility(self, user: User, image_id: str, visibility: str) -> LibraryImage:
        """Make an image private, visible to the team, or public."""
        if visibility not in VISIBILITIES:
            raise InvalidInput(f"Visibility must be one of {', '.join(VISIBILITIES)}.")
        self._own(user, image_id)
        self._db.execute("UPDATE images SET visibility = ?, updated_at = now() WHERE id = ?", [visibility, image_id])
        self._sync_vector(image_id, visibility=visibility)
        return self.get(user, image_id)

    def _sync_vector(self, image_id: str, **values: str) -> None:
        if self.pipeline is not None:
            self.pipeline.update_vector(image_id, values)

    def delete(self, user: User, image_id: str) -> None:
        """Remove an image everywhere: row, vector and (unless another image shares them) files."""
        self._own(user, image_id)
        self._db.write(lambda cur: cur.execute(
            "UPDATE images SET status = 'deleting', updated_at = now() WHERE id = ?", [image_id]))
        if self.pipeline is not None:
            self.pipeline.purge(image_id)
