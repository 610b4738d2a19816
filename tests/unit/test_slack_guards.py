import subprocess
import sys
from pathlib import Path

from bot.interfaces.slack.guards import RateLimiter, SeenEvents
from tests.conftest import REPO


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_event_id_is_new_once_until_it_expires() -> None:
    clock = Clock()
    seen = SeenEvents(ttl_seconds=60, clock=clock)
    assert seen.first_time("Ev1") is True
    assert seen.first_time("Ev1") is False
    assert seen.first_time("Ev2") is True
    clock.now += 61
    assert seen.first_time("Ev1") is True  # forgotten after the TTL, so memory stays bounded


def test_the_rate_limit_is_per_user_and_slides() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=2, window_seconds=60, clock=clock)
    assert limiter.retry_in("U1") == 0
    clock.now += 10
    assert limiter.retry_in("U1") == 0
    assert limiter.retry_in("U2") == 0  # another user has their own allowance
    clock.now += 5
    assert limiter.retry_in("U1") == 45  # the first question leaves the window at +60
    clock.now += 45
    assert limiter.retry_in("U1") == 0


def test_a_limit_of_zero_means_unlimited() -> None:
    limiter = RateLimiter(limit=0, window_seconds=60)
    assert all(limiter.retry_in("U1") == 0 for _ in range(100))


def test_the_guards_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    clock = Clock()
    assert SeenEvents(path, clock=clock).first_time("Ev1") is True
    assert SeenEvents(path, clock=clock).first_time("Ev1") is False  # a new process, the same file
    RateLimiter(1, 60, path, clock=clock).retry_in("U1")
    assert RateLimiter(1, 60, path, clock=clock).retry_in("U1") == 60


CLAIM = """
import sys
from pathlib import Path
from bot.interfaces.slack.guards import RateLimiter, SeenEvents
seen, limiter = SeenEvents(Path(sys.argv[1])), RateLimiter(30, 3600, Path(sys.argv[1]))
claimed = sum(seen.first_time(f"Ev{n}") for n in range(200))
allowed = sum(limiter.retry_in("U1") == 0 for _ in range(40))
print(claimed, allowed)
"""


def test_two_processes_answer_each_event_once_and_share_the_allowance(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    SeenEvents(path)  # the tables exist before both start
    procs = [subprocess.Popen([sys.executable, "-c", CLAIM, str(path)], stdout=subprocess.PIPE, text=True,
                              cwd=REPO) for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(int(claimed) for claimed, _ in outputs) == 200
    assert sum(int(allowed) for _, allowed in outputs) == 30
