from bot.interfaces.slack.guards import RateLimiter, SeenEvents


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
