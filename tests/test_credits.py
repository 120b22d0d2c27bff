"""AI credits: reserve, commit, refund; never below zero; premium-only features."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.helpers import open_wb
from tests.openai_server import Fail, OpenAIServer, Reply
from workbench import InsufficientCredits, InvalidInput, PremiumRequired, ProviderError, Workbench


@pytest.fixture
def wb(tmp_path: Path) -> Workbench:
    bench = open_wb(tmp_path)
    yield bench
    bench.close()


def test_plans_grant_their_allowance(wb: Workbench) -> None:
    free = wb.accounts.create_user("free@example.com")
    premium = wb.accounts.create_user("pro@example.com", plan="premium")
    assert wb.accounts.balance(free) == 10
    assert wb.accounts.balance(premium) == 100
    assert [e.entry for e in wb.accounts.ledger(premium)] == ["period"]


def test_twenty_simultaneous_actions_against_ten_credits(wb: Workbench) -> None:
    user = wb.accounts.create_user("race@example.com")  # 10 credits, ideas cost 1
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def act(i: int) -> None:
        barrier.wait()
        try:
            wb.writing.idea(user, f"premise {i}", genre="noir", count=1, seed=i)
            result = "ok"
        except InsufficientCredits:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=act, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 10 and outcomes.count("refused") == 10
    assert wb.accounts.balance(user) == 0
    assert len(wb.writing.list(user, kind="idea")) == 10


def test_failing_provider_costs_nothing(tmp_path: Path) -> None:
    with OpenAIServer(default=Fail(500, "upstream exploded")) as server:
        wb = open_wb(tmp_path, ai={"text_provider": "openai", "base_url": server.base_url, "max_retries": 1,
                                   "timeout_seconds": 5})
        try:
            user = wb.accounts.create_user("unlucky@example.com", plan="premium")
            with pytest.raises(ProviderError):
                wb.writing.idea(user, "a heist on a train", genre="thriller")
            assert wb.accounts.balance(user) == 100
            entries = [(e.entry, e.amount) for e in wb.accounts.ledger(user)]
            assert entries[1:] == [("reserve", -1), ("refund", 1)]
            assert wb.writing.list(user) == []
            assert len(server.chat_requests()) == 2  # one try + one retry
        finally:
            wb.close()


def test_openai_provider_success_spends_and_saves(tmp_path: Path) -> None:
    answer = ('{"ideas": [{"title": "Last Ferry", "logline": "A ferry captain smuggles a witness.",'
              ' "protagonist": "Captain Ines", "want": "get paid", "need": "take a side",'
              ' "conflict": "the mob", "setting": "Lisbon", "twist": "the witness is her brother"}]}')
    with OpenAIServer(default=Reply(answer)) as server:
        wb = open_wb(tmp_path, ai={"text_provider": "openai", "base_url": server.base_url})
        try:
            user = wb.accounts.create_user("paid@example.com", plan="premium")
            [idea] = wb.writing.idea(user, "ferry", count=1)
            assert idea.title == "Last Ferry" and not idea.offline
            assert wb.accounts.balance(user) == 99
            assert [e.entry for e in wb.accounts.ledger(user)][1:] == ["reserve", "commit"]
        finally:
            wb.close()


def test_idempotency_key_charges_once(wb: Workbench) -> None:
    user = wb.accounts.create_user("twice@example.com")
    first = wb.accounts.reserve(user, "outline", idempotency_key="req-1")
    second = wb.accounts.reserve(user, "outline", idempotency_key="req-1")
    assert first.id == second.id
    assert wb.accounts.balance(user) == 8
    wb.accounts.commit(first)
    wb.accounts.commit(second)  # settling twice changes nothing
    assert wb.accounts.balance(user) == 8


def test_partial_commit_refunds_the_rest(wb: Workbench) -> None:
    user = wb.accounts.create_user("partial@example.com", plan="premium")
    reservation = wb.accounts.reserve(user, "magic_board_frame", units=4)  # 8 credits
    wb.accounts.commit(reservation, used=4)
    assert wb.accounts.balance(user) == 96
    kinds = [e.entry for e in wb.accounts.ledger(user)]
    assert kinds[1:] == ["reserve", "commit", "refund"]


def test_insufficient_credits_message_is_actionable(wb: Workbench) -> None:
    user = wb.accounts.create_user("broke@example.com")
    wb.accounts.reserve(user, "screenplay", units=2)  # 8 of 10
    with pytest.raises(InsufficientCredits, match="needs 4 credits and you have 2. Upgrade"):
        wb.accounts.reserve(user, "screenplay")
    assert wb.accounts.balance(user) == 2


def test_premium_features_refuse_free_users(wb: Workbench) -> None:
    free = wb.accounts.create_user("free2@example.com")
    with pytest.raises(PremiumRequired, match="Upgrade"):
        wb.accounts.require_premium(free, "magic_board")
    upgraded = wb.accounts.set_plan(free, "premium")
    wb.accounts.require_premium(upgraded, "magic_board")
    assert wb.accounts.balance(upgraded) == 100


def test_admin_grant_and_validation(wb: Workbench) -> None:
    user = wb.accounts.create_user("grant@example.com")
    assert wb.accounts.grant(user, 5, note="festival bonus") == 15
    with pytest.raises(InvalidInput):
        wb.accounts.grant(user, -5)
    with pytest.raises(InvalidInput):
        wb.accounts.reserve(user, "not-an-action")
    with pytest.raises(InvalidInput):
        wb.accounts.create_user("grant@example.com")
    with pytest.raises(InvalidInput):
        wb.accounts.create_user("not an email")


def test_admin_cli_grant_and_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.cli import main

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "cli"))
    monkeypatch.setenv("WORKBENCH_LIBRARY__LOAD_SAMPLES", "false")
    assert main(["credits", "plan", "eve@example.com", "free"]) == 0
    assert main(["credits", "grant", "eve@example.com", "7"]) == 0
    assert main(["credits", "ledger", "eve@example.com"]) == 0
    out = capsys.readouterr().out
    assert "balance 17" in out and "balance: 17" in out and "grant" in out
    assert main(["credits", "grant", "nobody@example.com", "7"]) == 2
