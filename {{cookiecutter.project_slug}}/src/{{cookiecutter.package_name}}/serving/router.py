"""Which loaded version answers a request: recreate, blue-green, canary, shadow or ab.

- recreate: one version answers everything.
- blue-green: two slots, one live; `switch()` makes the other live at once, `rollback()` undoes it.
- canary: the candidate answers `canary_share` of requests; a request key (a header) always
  lands on the same version, because the choice is a hash of the key.
- shadow: the stable version answers; the candidate scores a copy whose answer is never returned.
- ab: keys split between variant A (stable) and B (the candidate) in `ab_share`; a request without
  a key is split by its request id. The log's `role` says which variant answered, to compare them.

Canary, shadow and ab without a candidate (a served stage with no rollout in progress) let the
stable version answer everything; blue-green always needs both slots.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass

from ..config import Strategy
from ..errors import PipelineError
from .loaded import LoadedModel

BUCKETS = 10_000


@dataclass(frozen=True)
class Route:
    """The version that answers, and one that scores a copy without answering (shadow)."""

    answer: LoadedModel
    role: str
    shadow: LoadedModel | None = None


def bucket(key: str) -> float:
    """A key's fixed place in [0, 1): the same key always gets the same place."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS / BUCKETS


class Router:
    def __init__(
        self,
        strategy: Strategy,
        stable: LoadedModel,
        candidate: LoadedModel | None = None,
        canary_share: float = 0.0,
        rng: random.Random | None = None,
        ab_share: float = 0.5,
    ):
        if strategy == "blue-green" and candidate is None:
            raise PipelineError(
                f"strategy {strategy} needs a second version: set the served stage's candidate "
                "(serving.stages.<stage>.candidate) to a stage (such as staging) or `local`"
            )
        self.strategy = strategy
        self.slots = {"stable": stable} | ({"candidate": candidate} if candidate is not None else {})
        self.canary_share = canary_share
        self.ab_share = ab_share
        self.rng = rng or random.Random()  # noqa: S311 - traffic split, not security
        self.live, self.previous = "stable", "stable"
        self.lock = threading.Lock()

    @property
    def models(self) -> list[LoadedModel]:
        """Every loaded version, stable first."""
        return list(self.slots.values())

    def route(self, key: str | None = None, request_id: str = "") -> Route:
        if "candidate" not in self.slots:
            return Route(self.slots["stable"], "stable")
        if self.strategy == "blue-green":
            live = self.live  # one read: a switch in between cannot mix two versions
            return Route(self.slots[live], live)
        if self.strategy == "canary":
            place = bucket(key) if key else self.rng.random()
            chosen = "candidate" if place < self.canary_share else "stable"
            return Route(self.slots[chosen], chosen)
        if self.strategy == "ab":
            chosen = "candidate" if bucket(key or request_id) < self.ab_share else "stable"
            return Route(self.slots[chosen], chosen)
        if self.strategy == "shadow":
            return Route(self.slots["stable"], "stable", shadow=self.slots["candidate"])
        return Route(self.slots["stable"], "stable")

    def switch(self) -> str:
        """Blue-green: make the other slot live, atomically; return the live slot."""
        self.require_blue_green()
        with self.lock:
            self.previous, self.live = self.live, "candidate" if self.live == "stable" else "stable"
            return self.live

    def rollback(self) -> str:
        """Blue-green: make the slot that was live before the last switch live again."""
        self.require_blue_green()
        with self.lock:
            self.previous, self.live = self.live, self.previous
            return self.live

    def require_blue_green(self) -> None:
        if self.strategy != "blue-green":
            raise PipelineError(
                f"switch and rollback need the served stage's strategy to be blue-green, not {self.strategy} "
                "(serving.stages.<stage>.strategy)"
            )

    def state(self) -> dict[str, object]:
        """What /router reports: the strategy and the version in each slot."""
        state: dict[str, object] = {
            "strategy": self.strategy,
            "slots": {name: model.version for name, model in self.slots.items()},
        }
        if self.strategy == "blue-green":
            state["live"] = self.live
        if self.strategy == "canary":
            state["canary_share"] = self.canary_share
        if self.strategy == "ab":
            state["ab_share"] = self.ab_share
        return state
