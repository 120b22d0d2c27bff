"""Isolation suite (issue #16, part 5): everyone tries every path against A's things.

Each (case x actor) pair is one test: it is refused (NotFound/Forbidden, and A's
rows are unchanged), filtered (none of A's private things in the answer) or
allowed exactly where the actor's role allows it (see tests/isolation_cases.py).

Coverage is enumerated per *surface*: a surface is its cases, a function that
finds its paths and its reasoned exemptions. A path added without a case (a
public method of any ``Workbench`` domain today; an HTTP route once the HTTP
half adds its surface) fails :func:`test_every_path_has_a_case`, and so does a
case or an exemption for a path that is gone. The HTTP half
(tests/isolation_http.py) serves this same world in Clerk mode and enumerates
the server's routes from its own configuration.

Run with ``-s`` to see how many pairs were tried.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.clerk_kit import FakeClerk, clerk_auth, serve_fake
from tests.helpers import open_wb
from tests.isolation_boards import BOARD_CASES
from tests.isolation_cases import SERVICE_EXEMPT, Case, attempt, service_paths
from tests.isolation_domains import DOMAIN_CASES
from tests.isolation_http import HTTP_CASES, HTTP_EXEMPT, HttpSide, free_port, http_paths, register
from tests.isolation_world import World, build_world


@dataclass(frozen=True)
class Surface:
    """One layer to cover: its cases, how to find its paths, and what is exempt (path -> reason)."""

    cases: list[Case]
    paths: Callable[[World], set[str]]
    exempt: dict[str, str]


SURFACES: dict[str, Surface] = {
    "service": Surface([*BOARD_CASES, *DOMAIN_CASES], lambda world: service_paths(world.wb), SERVICE_EXEMPT),
    "http": Surface(HTTP_CASES, http_paths, HTTP_EXEMPT),
}
ACTORS = ("owner", "other", "stranger", "view_link", "edit_link", "other_view_link", "other_edit_link")
MIN_PAIRS = 1100  # 134 service + 32 HTTP cases x 7 actors when written; the table only grows
TRIED: Counter[str] = Counter()

pytestmark = pytest.mark.timeout(120)


def _pairs() -> list[object]:
    params = []
    for surface in SURFACES.values():
        for case in surface.cases:
            for actor in ACTORS:
                known = case.known.get(actor) or case.known.get("*")
                marks = [pytest.mark.xfail(strict=True, reason=known[0], raises=known[1])] if known else []
                params.append(pytest.param(case, actor, id=f"{case.id} [{actor}]", marks=marks))
    return params


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # Rate limits high enough that A's many owner cases never meet them (limits.check has its own case).
    # Clerk mode, so the HTTP half can serve this same world (the service layer does not mind).
    for fake in serve_fake(FakeClerk()):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        bench = open_wb(tmp_path_factory.mktemp("isolation"),
                        limits={"ai_per_minute": 1000, "uploads_per_minute": 1000, "share_links_per_hour": 1000,
                                "comments_per_minute": 1000},
                        server={"port": port, "public_url": url}, auth=clerk_auth(fake, url))
        http_side = None
        try:
            world = build_world(bench)
            http_side = HttpSide(world, fake, port)
            register(world, http_side)
            yield world
        finally:
            if http_side is not None:
                http_side.stop()
            bench.close()


@pytest.mark.parametrize(("case", "actor"), _pairs())
def test_path(world: World, case: Case, actor: str) -> None:
    TRIED[case.path.split(" ")[0] if " " in case.path else case.path.split(".")[0]] += 1
    attempt(case, world, world.actors[actor])


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_every_path_has_a_case(world: World, surface: str) -> None:
    """The cases, the exemptions and the enumerated paths of a surface match exactly, both ways."""
    found = SURFACES[surface].paths(world)
    covered = {case.path for case in SURFACES[surface].cases}
    exempt = set(SURFACES[surface].exempt)
    assert not covered & exempt, f"both covered and exempt (drop the exemption): {sorted(covered & exempt)}"
    missing = found - covered - exempt
    assert not missing, f"{surface} paths with no isolation case or exemption: {sorted(missing)}"
    stale = (covered | exempt) - found
    assert not stale, f"cases or exemptions for {surface} paths that no longer exist: {sorted(stale)}"
    assert all(reason.strip() for reason in SURFACES[surface].exempt.values())


def test_pair_count() -> None:
    """Prints how many (actor x path) pairs this run tried; the table must stay large."""
    cases = sum(len(surface.cases) for surface in SURFACES.values())
    exempt = sum(len(surface.exempt) for surface in SURFACES.values())
    tried = sum(TRIED.values())
    by_domain = ", ".join(f"{domain} {n}" for domain, n in sorted(TRIED.items()))
    print(f"\nisolation: {tried} (actor x path) pairs tried of {cases * len(ACTORS)} in the table "
          f"({cases} cases x {len(ACTORS)} actors; {exempt} paths exempt): {by_domain}")
    assert cases * len(ACTORS) >= MIN_PAIRS
