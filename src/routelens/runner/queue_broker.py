"""The work queue: Dramatiq on Redis carries a queued run's (case, repeat) items to workers.

One message per item, on the `routelens` queue, for the `routelens_attempt` actor, with a
`WorkOrder` as keyword arguments. Dramatiq's Redis broker gives the delivery guarantees: a
worker acknowledges a message only after the attempt is stored, and the messages a dead
worker had taken (its heartbeat stopped for `heartbeat_timeout_s`) go back on the queue for
the others, so an item is delivered at least once; the store's unique (run, case, repeat)
key makes a second delivery write nothing.

Next to the queue, the run's SKILL.md texts are kept once per skills hash
(`routelens:skills:<hash>`, expiring after a week), for workers that lack the folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from routelens.errors import InputError
from routelens.extras import install_hint
from routelens.store.urls import redact_url

try:  # the queue is an optional extra (install_hint('queue'))
    import dramatiq
    import redis
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.middleware import AsyncIO, Middleware, Retries
except ImportError:  # pragma: no cover - exercised only without the extra
    dramatiq = None  # type: ignore[assignment]

QUEUE_EXTRA_HINT: Final = f"the work queue needs the queue extra: {install_hint('queue')}"
EXECUTOR_SCHEMES: Final = ("redis", "rediss")
QUEUE_NAME: Final = "routelens"
ACTOR_NAME: Final = "routelens_attempt"
KEY_NAMESPACE: Final = "routelens-queue"
"""Prefix of Dramatiq's own keys in Redis (`routelens-queue:routelens`, ...)."""
SKILLS_KEY_PREFIX: Final = "routelens:skills:"
SKILLS_TTL_S: Final = 7 * 24 * 3600

DEFAULT_HEARTBEAT_TIMEOUT_S: Final = 60.0
"""A worker silent this long is taken for dead and its items are delivered again. A live
worker beats about once a second, whatever its attempts are doing."""
MAINTENANCE_CHANCE: Final = 100_000
"""In a million broker calls, how many also look for dead workers (Dramatiq's default, 1000,
leaves a dead worker's items waiting minutes after its heartbeat timeout; the look is a
single sorted-set range read when no worker is dead)."""
MAX_DELIVERY_RETRIES: Final = 5
"""Retries of an item whose handling raised (store unreachable, skills not found) before it
goes to Dramatiq's dead-letter set; a router's own failures are recorded as error attempts,
never raised."""
RETRY_BACKOFF_MS: Final = (1_000, 30_000)
CONNECT_TIMEOUT_S: Final = 5.0


def check_executor(url: str) -> None:
    """A `--executor` URL names a Redis that answers, and the queue extra is installed;
    else InputError."""
    scheme = urlsplit(url).scheme
    if scheme not in EXECUTOR_SCHEMES:
        raise InputError(
            "--executor", f"{redact_url(url)!r} is not a redis:// URL (redis://HOST[:PORT][/DB])"
        )
    if dramatiq is None:
        raise InputError("--executor", QUEUE_EXTRA_HINT)
    client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S)
    try:
        client.ping()
    except redis.RedisError as error:
        raise unreachable(url, error) from None
    finally:
        client.close()


@dataclass(frozen=True)
class WorkOrder:
    """One queued item: which attempt to make, and for which submission of its run.

    `submission` is the token the submitter wrote on the run when it enqueued this item;
    a worker drops an order whose token is no longer the run's (an interrupted submission).
    `replace` redoes a stored error attempt (`--retry-errors`)."""

    run_id: str
    case_id: str
    repeat_index: int
    sequence_number: int
    submission: str
    replace: bool = False

    @property
    def key(self) -> tuple[str, int]:
        """(case_id, repeat_index)."""
        return (self.case_id, self.repeat_index)

    def as_message(self) -> dramatiq.Message[Any]:
        """The Dramatiq message that carries this order."""
        return dramatiq.Message(
            queue_name=QUEUE_NAME, actor_name=ACTOR_NAME, args=(), kwargs=asdict(self), options={}
        )


def connect(
    url: str,
    *,
    heartbeat_timeout_s: float = DEFAULT_HEARTBEAT_TIMEOUT_S,
    worker_middleware: Iterable[Middleware] = (),
) -> RedisBroker:
    """A Redis broker for the routelens queue (a worker passes its extra middleware)."""
    if dramatiq is None:
        raise InputError("--executor", QUEUE_EXTRA_HINT)
    broker = RedisBroker(  # type: ignore[no-untyped-call]  # Dramatiq leaves it unannotated
        url=url,
        namespace=KEY_NAMESPACE,
        heartbeat_timeout=int(heartbeat_timeout_s * 1000),
        maintenance_chance=MAINTENANCE_CHANCE,
        middleware=[
            Retries(
                max_retries=MAX_DELIVERY_RETRIES,
                min_backoff=RETRY_BACKOFF_MS[0],
                max_backoff=RETRY_BACKOFF_MS[1],
            ),
            AsyncIO(),
            *worker_middleware,
        ],
    )
    broker.declare_queue(QUEUE_NAME)
    return broker


def unreachable(url: str, error: Exception) -> InputError:
    """The one-line error for a Redis that cannot be reached at `url`."""
    return InputError(redact_url(url), f"cannot reach Redis: {error}", field="executor")


def enqueue(broker: RedisBroker, orders: Iterable[WorkOrder], url: str) -> int:
    """Put each order on the queue, in order; returns how many."""
    count = 0
    try:
        for order in orders:
            broker.enqueue(order.as_message())
            count += 1
    except redis.RedisError as error:
        raise unreachable(url, error) from None
    return count


def publish_skill_texts(broker: RedisBroker, skills_hash: str, files: dict[str, str]) -> None:
    """Keep the run's SKILL.md texts in Redis under their skills hash, for a week."""
    text = json.dumps(files, sort_keys=True, ensure_ascii=False)
    broker.client.set(f"{SKILLS_KEY_PREFIX}{skills_hash}", text, ex=SKILLS_TTL_S)


def fetch_skill_texts(broker: RedisBroker, skills_hash: str) -> dict[str, str] | None:
    """The SKILL.md texts published for `skills_hash`, or None when Redis has none."""
    stored = broker.client.get(f"{SKILLS_KEY_PREFIX}{skills_hash}")
    if stored is None:
        return None
    files = json.loads(stored)
    return {str(name): str(text) for name, text in files.items()}
