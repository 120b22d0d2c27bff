"""The isolation suite's machinery: what a case is, what each actor must get, and the paths to cover.

A :class:`Case` is one attempt at one path (``"boards.get"``; the HTTP half adds
paths such as ``"GET /media/thumb/{id}"``) that every actor of the
:class:`~tests.isolation_world.World` makes. ``expect(actor)`` says what that
actor must get:

- ``ALLOW``: the call works (and ``check`` may look at the answer);
- ``FILTER``: the call works on the actor's own things and the answer holds
  none of A's private things (:meth:`World.leaked`);
- ``DENY``: a typed refusal (``NotFound`` or ``Forbidden`` unless the case
  names others), and A's things are exactly as before (:meth:`World.fingerprint`).

Whatever a non-owner gets back is always scanned for A's secrets, so an
``ALLOW`` that says too much fails as well.

Coverage is enumerated, not listed: :func:`service_paths` walks every domain
object the ``Workbench`` holds and names each public method; a path must have
a case or sit in :data:`SERVICE_EXEMPT` with the reason.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from tests.isolation_world import Actor, World
from workbench import Forbidden, NotFound, Workbench, WorkbenchError

__all__ = [
    "ALLOW", "DENY", "FILTER", "Case", "attempt", "by_role", "owner_only", "own_scope", "everyone_denied",
    "signed_in_role", "service_paths", "SERVICE_EXEMPT",
]

ALLOW, FILTER, DENY = "allow", "filter", "deny"
Expect = Callable[[Actor], str]


@dataclass(frozen=True)
class Case:
    """One attempt at one path, made by every actor."""

    path: str                                          # "domain.method" (or an HTTP route)
    label: str                                         # what is tried, e.g. "A's hidden private image"
    run: Callable[[World, Actor, Any], Any]            # (world, actor, what setup made) -> answer
    expect: Expect
    setup: Callable[[World, Actor], Any] | None = None  # runs before the fingerprint (scratch items...)
    check: Callable[[World, Actor, Any], None] | None = None
    board_scoped: bool = False     # the answer is about A's shared board: what it shows is allowed
    owner_sees: bool = False       # A's own answer must contain her secrets (the scan is not vacuous)
    denied: tuple[type[WorkbenchError], ...] = (NotFound, Forbidden)
    also_allowed: Callable[[World], set[str]] | None = None  # secrets this answer may rightly hold
    # Known failures, by actor name ("*": every actor): (reason, the exception it raises today),
    # a strict xfail; a fixed leak then fails the suite until the entry goes, and a failure of
    # another kind is not mistaken for the known one.
    known: dict[str, tuple[str, type[BaseException]]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.path}: {self.label}"


# -- what each actor must get -------------------------------------------------------------
def by_role(need: str) -> Expect:
    """ALLOW for whoever holds ``need`` on A's shared board, DENY for everyone else."""
    return lambda actor: ALLOW if actor.may(need) else DENY


def signed_in_role(need: str) -> Expect:
    """Like :func:`by_role`, but the path needs a signed-in person (it spends or stores as them)."""
    return lambda actor: ALLOW if actor.may(need) and (actor.signed_in or actor.is_owner) else DENY


def owner_only(actor: Actor) -> str:
    """Only A."""
    return ALLOW if actor.is_owner else DENY


def everyone_denied(actor: Actor) -> str:
    """Nobody, not even A (e.g. an image that is not on the board asked for through the board)."""
    return DENY


def own_scope(actor: Actor) -> str:
    """Works on the actor's own things: A sees hers, others get answers without them; anonymous is refused."""
    if actor.is_owner:
        return ALLOW
    return FILTER if actor.signed_in else DENY


def _summary(result: Any) -> str:
    text = repr(result)
    return text if len(text) < 300 else text[:300] + "..."


def attempt(case: Case, world: World, actor: Actor) -> None:
    """Make the attempt and fail with a precise message unless the actor got what ``case.expect`` says."""
    expected = case.expect(actor)
    made = case.setup(world, actor) if case.setup else None
    before = world.fingerprint() if expected == DENY else None
    try:
        result = case.run(world, actor, made)
    except case.denied as error:
        if expected != DENY:
            raise AssertionError(f"{case.id}: {actor.name} was refused ({type(error).__name__}: {error}) "
                                 f"but should be {expected}ed") from error
        after = world.fingerprint()
        assert after == before, f"{case.id}: {actor.name} was refused, yet A's things changed"
        return
    except WorkbenchError as error:
        raise AssertionError(f"{case.id}: {actor.name} got {type(error).__name__} ({error}); "
                             f"expected {expected}") from error
    if expected == DENY:
        raise AssertionError(f"LEAK {case.id}: {actor.name} was not refused; got {_summary(result)}")
    if not actor.is_owner:
        allowed = set(world.board_visible) if case.board_scoped and actor.may("view") else set()
        if case.also_allowed is not None:
            allowed |= case.also_allowed(world)
        leaks = world.leaked(result, allowed=allowed)
        assert not leaks, f"LEAK {case.id}: {actor.name}'s answer holds A's private {leaks}: {_summary(result)}"
    elif case.owner_sees:
        assert world.leaked(result), f"{case.id}: A's own answer shows none of her private things"
    if case.check is not None:
        case.check(world, actor, result)


# -- the paths to cover ---------------------------------------------------------------------
def service_domains(wb: Workbench) -> dict[str, object]:
    """Every service object the workbench exposes (found, not listed), plus the facade itself.

    The settings (a pydantic model: configuration, not a verb) and the stores
    (``store.*``: reached only through the domains) are not domains.
    """
    domains: dict[str, object] = {"workbench": wb}
    for name, value in vars(wb).items():
        if name.startswith("_") or isinstance(value, BaseModel):
            continue
        if type(value).__module__.startswith("workbench."):
            domains[name] = value
    # A domain's own parts reached through it (``boards.comments``, ``boards.presence``) are
    # domains too; one that is also the workbench's (``library.pipeline``) is covered there.
    known = {id(obj) for obj in domains.values()}
    for name, obj in list(domains.items()):
        if name == "workbench":
            continue
        for part, value in vars(obj).items():
            if part.startswith("_") or callable(value) or id(value) in known:
                continue
            if type(value).__module__.startswith("workbench.") and not isinstance(value, BaseModel):
                domains[f"{name}.{part}"] = value
    return domains


def public_methods(obj: object) -> set[str]:
    """Names of the callables an object offers (class and instance), not starting with '_'.

    Properties are values (``embedder``, ``table``), not paths, and are skipped.
    """
    names = set()
    for name in set(dir(type(obj))) | set(vars(obj)):
        if name.startswith("_"):
            continue
        attr = inspect.getattr_static(obj, name)
        if isinstance(attr, property):
            continue
        if isinstance(attr, (staticmethod, classmethod)) or callable(attr):
            names.add(name)
    return names


def service_paths(wb: Workbench) -> set[str]:
    """``domain.method`` for every public method of every service domain."""
    return {f"{domain}.{name}" for domain, obj in service_domains(wb).items() for name in public_methods(obj)}


_NO_ACTOR = "no acting user: "
_CHECKED_IMAGE = _NO_ACTOR + "takes an image the caller already checked (as `get`/`board_image` do)"
_ADMIN = _NO_ACTOR + "an administrator's or the CLI's action on the given user"
_JOB = _NO_ACTOR + "a maintenance or start-up job the server runs, never on a visitor's request"

SERVICE_EXEMPT: dict[str, str] = {
    # -- the facade: lifecycle and maintenance ------------------------------------------------
    "workbench.close": _JOB,
    "workbench.reconcile": _JOB,
    "workbench.start_worker": _JOB,
    "workbench.load_samples": _JOB + " (adds the public samples)",
    "workbench.warm_up": _JOB + " (loads the embedder at start-up; carries no data)",
    "workbench.wait_for_search": _JOB + " (waits for the embedder; carries no data)",
    "limits.capacity": _NO_ACTOR + "configuration: how many of an action anyone may do (no one's data)",
    # -- accounts: identity and billing, keyed by the subject user -----------------------------
    "accounts.create_user": _ADMIN,
    "accounts.grant": _ADMIN,
    "accounts.set_plan": _ADMIN + " (and Clerk's plan claims through sign_in)",
    "accounts.renew_period": _JOB + " (billing period)",
    "accounts.refund_abandoned": _JOB,
    "accounts.local_user": _NO_ACTOR + "the single user of the embedded default (loopback only)",
    "accounts.get_user": _NO_ACTOR + "identity lookup by id for the server and sharing (no client reaches it)",
    "accounts.find_by_email": _NO_ACTOR + "identity lookup for sharing by email (share_with checks the owner first)",
    "accounts.find_by_external_id": _NO_ACTOR + "the identity seam resolves a verified Clerk id with it",
    "accounts.allowance": _NO_ACTOR + "the price list of a plan, nobody's data",
    "accounts.price": _NO_ACTOR + "the price list, nobody's data",
    "accounts.require_premium": "a plan check of the user passed in; covered through magic.create and for_board",
    # -- library: helpers behind access checks done by their callers -------------------------
    "library.get_many": _NO_ACTOR + "bulk load for callers that check can_see (boards, search)",
    "library.can_see": "the rule itself; exercised by every library, search and board case",
    "library.visibility_sql": "builds the calling user's SQL filter; exercised through list and count",
    "library.vector_where": "builds the calling user's vector prefilter; exercised through every search case",
    "library.clean_original": _CHECKED_IMAGE,
    "library.clean_original_stream": _CHECKED_IMAGE,
    "library.open_original": _CHECKED_IMAGE + " (integrity checks)",
    "library.open_thumbnail": _CHECKED_IMAGE,
    "library.files_present": _CHECKED_IMAGE,
    # -- the embedding pipeline: worker internals ----------------------------------------------
    "pipeline.run_jobs": _JOB + " (the embedding worker)",
    "pipeline.start": _JOB,
    "pipeline.stop": _JOB,
    "pipeline.embedding_alongside": _NO_ACTOR + "batch uploads wait on it for image ids the uploader just "
                                    "stored (ingest_folder, board import); it returns nothing of anyone's",
    "pipeline.notify": _JOB + " (wakes the worker; carries no data)",
    "pipeline.reconcile": _JOB,
    "pipeline.reindex": _JOB + " (`workbench reindex` in the CLI)",
    "pipeline.update_vector": _NO_ACTOR + "Library.set_tags/set_visibility call it after their owner check",
    "pipeline.purge": _NO_ACTOR + "Library.delete calls it after its owner check; reconcile after a crash",
    # -- search: internal vector access -------------------------------------------------------
    "search.stored_vectors": _NO_ACTOR + "suggestions pass ids the user may see (board items, search hits); "
                             "the acting-user form is `vectors`, which has a case",
    # -- boards: jobs and the real-time seam ------------------------------------------------------
    "boards.purge_deleted": _JOB + " (empties the trash after the grace period)",
    "boards.subscribe": _NO_ACTOR + "the in-process event bus; an open board view listens through "
                        "watch(), which filters by its own role",
    "boards.presence.beat": _NO_ACTOR + "by the view's own session id, a secret made at join(), which checks "
                            "access (and a revoked link's rows are gone, so its beats find nothing)",
    "boards.presence.leave": _NO_ACTOR + "by the view's own session id (see beat)",
}
