"""Leases on the Redis messages a worker holds: the job of a worker that died is delivered again in minutes.

With ``acks_late`` a message stays in Redis's unacknowledged set while its task runs, and Redis hands it to
another worker once it has sat there for the visibility timeout. That timeout used to be 48 hours, longer
than any training run, so a live worker's run never started twice; but a worker that was killed (OOM, a
host lost, ``docker stop`` past its grace period) left its job ``running`` for two days. Now the timeout is
minutes, and a worker renews it for each message it holds, every fifth of the timeout: a message is
delivered again only once its worker has stopped renewing, that is, has died. The task then finds its job
``running`` and starts it again (``naa.storage.jobs.start_job``; an RL run resumes from its checkpoint).

Renewal is a ZADD XX of the message's delivery tag into kombu's ``unacked_index`` (the score is the time
it was delivered, which kombu's restore sweep compares with the timeout): the same key kombu writes, through
its own client, so a ``global_keyprefix`` applies. XX never adds back a message acknowledged meanwhile.
"""

import logging
import threading
import time
from typing import Any

from celery import bootsteps
from celery.worker import state

logger = logging.getLogger(__name__)

REDIS_SCHEMES = ("redis", "rediss", "sentinel")


def held_delivery_tags() -> set[str]:
    """Delivery tags of the messages this worker holds: received (prefetched) or running."""
    requests = [*state.reserved_requests, *state.active_requests]
    return {tag for request in requests if (tag := getattr(request.message, "delivery_tag", None))}


def renew_leases(app: Any, tags: set[str]) -> None:
    """Mark ``tags`` delivered now, so kombu's sweep leaves them for another visibility timeout."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        channel.client.zadd(channel.unacked_index_key, dict.fromkeys(tags, time.time()), xx=True)


class LeaseRenewal(bootsteps.StartStopStep):
    """A consumer step: a thread that renews the leases of this worker's messages while the consumer runs.

    A thread, not a timer of the worker's event loop: the ``solo`` pool (the GPU worker) runs a task in the
    loop's own thread, so a timer would not fire during a training run.
    """

    label = "lease renewal"

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, parent: Any) -> None:
        app = parent.app
        if not str(app.conf.broker_url).startswith(REDIS_SCHEMES):
            return  # kombu's SQLAlchemy transport (embedded default) has no visibility timeout
        interval = float(app.conf.broker_transport_options["visibility_timeout"]) / 5
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._renew_every, args=(app, interval), name="naa-lease-renewal", daemon=True
        )
        self._thread.start()

    def stop(self, parent: Any) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def shutdown(self, parent: Any) -> None:
        self.stop(parent)

    def _renew_every(self, app: Any, interval: float) -> None:
        while not self._stopping.wait(interval):
            tags = held_delivery_tags()
            if not tags:
                continue
            try:
                renew_leases(app, tags)
            except Exception:  # the broker is down: the worker's own reconnect says so; try again next time
                logger.warning("could not renew the leases of %d message(s)", len(tags), exc_info=True)
