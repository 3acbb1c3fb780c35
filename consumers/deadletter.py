"""The dead-letter topic: rejected messages, confirmed by the broker before their offsets move."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError

from consumers.outage import Outage
from ledger.outcomes import Rejected

# A healthy broker confirms a poll's dead letters well within this; after it, each wait
# for confirmation is one failed attempt (the producer keeps resending by itself meanwhile).
CONFIRM_WAIT_S = 5.0

Letter = tuple[ConsumerRecord, Rejected]


class DeadLetters:
    """Sends rejected messages to one topic and waits until the broker has them all.

    ``producer.flush()`` does not fail when a delivery does; each send's own future
    tells. Messages whose delivery failed are sent again, and while the broker is away
    the wait goes on with backoff (an idempotent producer resends by itself, so a short
    outage adds no copies; a resend after a failed delivery may).

    Args:
        producer: a started idempotent producer.
        topic: the dead-letter topic.
        outage: counts and logs the failed attempts (and gives up past its limit).
        pause: waits that many seconds; returns True when the worker is stopping.
    """

    def __init__(
        self,
        producer: AIOKafkaProducer,
        topic: str,
        outage: Outage,
        pause: Callable[[float], Awaitable[bool]],
    ) -> None:
        self.producer = producer
        self.topic = topic
        self.outage = outage
        self.pause = pause

    async def send(self, letters: Sequence[Letter]) -> bool:
        """Deliver every letter; True once all are confirmed, False when stopped first.

        Raises:
            OutageTooLongError: Kafka stayed away for longer than the outage limit.
        """
        unsent = list(letters)
        in_flight: dict[asyncio.Future[Any], Letter] = {}
        wait = CONFIRM_WAIT_S
        while True:
            failure: BaseException | None = None
            try:
                while unsent:
                    msg, rejection = unsent[-1]
                    future = await self.producer.send(
                        self.topic, value=msg.value, key=msg.key, headers=_headers(msg, rejection)
                    )
                    in_flight[future] = unsent.pop()
            except KafkaError as exc:
                failure = exc
            if in_flight:
                done, _ = await asyncio.wait(in_flight, timeout=wait)
                for future in done:
                    letter = in_flight.pop(future)
                    error = future.exception() if not future.cancelled() else KafkaError()
                    if error is not None:
                        failure = error
                        unsent.append(letter)
            if not unsent and not in_flight:
                self.outage.succeeded()
                return True
            what = f"delivering {len(unsent) + len(in_flight)} messages to {self.topic}"
            if failure is None:
                what += f" (not confirmed within {wait:.1f} s)"
            wait = self.outage.failed(what, failure)
            # With deliveries in flight, the next wait for them is the backoff; with none,
            # back off before sending again. Stopping: the offsets are not recorded.
            if await self.pause(0 if in_flight else wait):
                return False


def _headers(msg: ConsumerRecord, rejection: Rejected) -> list[tuple[str, bytes]]:
    return [
        ("lll-reason", orjson.dumps(rejection.reasons())),
        ("lll-original-topic", msg.topic.encode()),
        ("lll-original-partition", str(msg.partition).encode()),
        ("lll-original-offset", str(msg.offset).encode()),
    ]
