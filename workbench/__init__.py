"""FilmMaker Workbench: the service layer shared by the web app and notebooks.

>>> import workbench
>>> wb = workbench.open()
>>> me = wb.accounts.local_user()
>>> hits = wb.search.by_text(me, "a cat", limit=6)
"""

from workbench.accounts import LedgerEntry, Reservation, User
from workbench.app import Workbench, open_workbench
from workbench.boards import Board, BoardItem, BoardView, ItemMove, ShareLink
from workbench.errors import (
    Conflict,
    Forbidden,
    InsufficientCredits,
    InvalidInput,
    NotFound,
    PremiumRequired,
    ProviderError,
    WorkbenchError,
)
from workbench.library.model import IngestResult, LibraryImage
from workbench.samples import SAMPLES, Sample
from workbench.search import SavedSearch, SearchHit, SearchPage, SearchQuery
from workbench.settings import Settings
from workbench.writing.documents import Document, DocumentVersion

open = open_workbench  # noqa: A001 - `workbench.open()` is the documented entry point

__all__ = [
    "Board",
    "BoardItem",
    "BoardView",
    "Document",
    "DocumentVersion",
    "ItemMove",
    "SAMPLES",
    "Sample",
    "ShareLink",
    "Conflict",
    "Forbidden",
    "IngestResult",
    "InsufficientCredits",
    "InvalidInput",
    "LedgerEntry",
    "LibraryImage",
    "NotFound",
    "PremiumRequired",
    "ProviderError",
    "Reservation",
    "SavedSearch",
    "SearchHit",
    "SearchPage",
    "SearchQuery",
    "Settings",
    "User",
    "Workbench",
    "WorkbenchError",
    "open",
    "open_workbench",
]
