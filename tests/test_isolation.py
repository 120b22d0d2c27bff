"""Isolation suite (issue #16, part 5): everyone tries every path of the service layer against A's things.

Each (case x actor) pair is one test: it is refused (NotFound/Forbidden, and A's
things are unchanged), filtered (nothing of A's private things in the answer)
or allowed exactly where the actor's role allows it. Coverage is enumerated:
a public method added to any domain of the ``Workbench`` without a case or a
reasoned exemption fails :func:`test_every_service_path_has_a_case`, and a case
or exemption for a method that is gone fails it too.

Run with ``-s`` to see how many pairs were tried.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from tests.helpers import open_wb
from tests.isolation_boards import BOARD_CASES
from tests.isolation_cases import SERVICE_EXEMPT, Case, attempt, service_paths
from tests.isolation_domains import DOMAIN_CASES
from tests.isolation_world import World, build_world

ACTORS = ("owner", "other", "stranger", "view_link", "edit_link", "other_view_link", "other_edit_link")
SERVICE_CASES: list[Case] = [*BOARD_CASES, *DOMAIN_CASES]
MIN_PAIRS = 600  # the table held ~110 cases x 7 actors when written; it only grows
TRIED: Counter[str] = Counter()

pytestmark = pytest.mark.timeout(120)


def _pairs(cases: list[Case]) -> list[object]:
    params = []
    for case in cases:
        for actor in ACTORS:
            reason = case.known.get(actor) or case.known.get("*")
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(case, actor, id=f"{case.id} [{actor}]", marks=marks))
    return params


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    bench = open_wb(tmp_path_factory.mktemp("isolation"))
    try:
        yield build_world(bench)
    finally:
        bench.close()


@pytest.mark.parametrize(("case", "actor"), _pairs(SERVICE_CASES))
def test_service_path(world: World, case: Case, actor: str) -> None:
    TRIED[case.path.split(".")[0]] += 1
    attempt(case, world, world.actors[actor])


def test_every_service_path_has_a_case(world: World) -> None:
    """The case table, the exemptions and the public methods of every domain match exactly."""
    paths = service_paths(world.wb)
    covered = {case.path for case in SERVICE_CASES}
    exempt = set(SERVICE_EXEMPT)
    assert not covered & exempt, f"both covered and exempt (drop the exemption): {sorted(covered & exempt)}"
    missing = paths - covered - exempt
    assert not missing, f"public service methods with no isolation case or exemption: {sorted(missing)}"
    stale = (covered | exempt) - paths
    assert not stale, f"cases or exemptions for methods that no longer exist: {sorted(stale)}"
    assert all(reason.strip() for reason in SERVICE_EXEMPT.values())


def test_pair_count() -> None:
    """Prints how many (actor x path) pairs this run tried; the table must stay large."""
    pairs = len(SERVICE_CASES) * len(ACTORS)
    tried = sum(TRIED.values())
    by_domain = ", ".join(f"{domain} {n}" for domain, n in sorted(TRIED.items()))
    print(f"\nisolation: {tried} (actor x path) pairs tried of {pairs} in the table "
          f"({len(SERVICE_CASES)} cases x {len(ACTORS)} actors; {len(SERVICE_EXEMPT)} paths exempt): {by_domain}")
    assert pairs >= MIN_PAIRS
