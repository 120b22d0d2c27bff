"""Boards: free-canvas mood boards and story walls, shared by link or by name, exported as ZIP or PDF.

>>> board = wb.boards.create(me, "Night shoot")
>>> wb.boards.add_image(me, board.id, still.id)
>>> link, token = wb.boards.create_link(me, board.id, "view")
"""

from workbench.boards.boards import Boards
from workbench.boards.comments import Comment
from workbench.boards.core import DocumentSource
from workbench.boards.export import archive_name, export_name
from workbench.boards.history import UNDOABLE
from workbench.boards.model import (
    GRACE_DAYS,
    ITEM_KINDS,
    MAX_ITEMS,
    PLACEHOLDER,
    ROLES,
    Board,
    BoardEvent,
    BoardItem,
    BoardMember,
    BoardView,
    ItemMove,
    ShareLink,
)
from workbench.boards.presence import Presence
from workbench.boards.watch import ACCESS_ENDED

__all__ = [
    "ACCESS_ENDED",
    "Board",
    "BoardEvent",
    "BoardItem",
    "BoardMember",
    "BoardView",
    "Boards",
    "Comment",
    "DocumentSource",
    "GRACE_DAYS",
    "ITEM_KINDS",
    "PLACEHOLDER",
    "ItemMove",
    "MAX_ITEMS",
    "Presence",
    "ROLES",
    "ShareLink",
    "UNDOABLE",
    "archive_name",
    "export_name",
]
