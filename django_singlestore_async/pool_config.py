"""`OPTIONS["pool"]`: the async pool's settings, validated in exactly one place.

The sync package only decides whether an ENGINE accepts a `pool` key at all (`parse_options`'s
`allow_pool`); what the key may hold is decided here. The names follow psycopg_pool's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from django.core.exceptions import ImproperlyConfigured

__all__ = ["PoolConfig"]

_COUNTS = ("min_size", "max_size", "max_waiting")
_FLAGS = ("pre_ping", "lifo", "kill_on_cancel")
#: (key, may be None, may be 0): durations in seconds.
_DURATIONS = (
    ("timeout", False, False),
    ("max_lifetime", True, False),
    ("max_idle", True, False),
    ("pre_ping_after_idle", False, True),
)

#: Valid configs by their typed settings (`PoolConfig.from_options`).
_remembered: dict[Any, PoolConfig] = {}


def _typed(items: Any) -> tuple[tuple[Any, type, Any], ...]:
    return tuple(sorted((key, type(value), value) for key, value in items))


@dataclass(frozen=True)
class PoolConfig:
    """`OPTIONS["pool"]`: a dict of these keys and no other (`{}` means all defaults)."""

    min_size: int = 0
    """Connections kept open even when idle. 0: connect lazily (Django never connects at import)."""
    max_size: int = 10
    """Hard cap of the pool's server sessions per (alias, event loop, process): a discarded
    connection keeps its slot until its server session has ended."""
    timeout: float = 30.0
    """Seconds `acquire()` may wait for a connection before raising `PoolTimeout`."""
    max_waiting: int = 0
    """Tasks allowed to wait for a connection at once; one more raises `TooManyRequests` at once.
    0: unbounded."""
    max_lifetime: float | None = 3600.0
    """Seconds since a connection was *opened* (minus up to 5% jitter, so that connections opened
    together do not expire together) before the pool closes it on return. None: forever. Keep it
    below the server's `wait_timeout`."""
    max_idle: float | None = 600.0
    """Seconds a connection may sit idle before it is closed, down to `min_size`. None: forever."""
    pre_ping: bool = False
    """Ping (COM_PING, no reconnect) a connection idle longer than `pre_ping_after_idle` before
    handing it out; a dead one is discarded and replaced. The engine defaults it to the alias's
    CONN_HEALTH_CHECKS."""
    pre_ping_after_idle: float = 1.0
    """Seconds a connection may sit idle and still be handed out without a ping (HikariCP skips its
    check within 0.5 s of last use). 0: ping on every checkout."""
    lifo: bool = True
    """Hand out the most recently returned connection first, so that `max_idle` can shrink the pool."""
    kill_on_cancel: bool = True
    """End the server session of a connection whose round trip was cancelled or timed out
    (`KILL CONNECTION <id> <node_id>` from the pool's one side connection) and keep its slot until the
    server has closed it. False: only the socket is closed, the server may run the statement to its
    end, and `max_size` then bounds client connections, not server sessions."""

    def __post_init__(self) -> None:
        for key in _COUNTS:
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise self._bad(key, "must be an integer >= 0")
        if self.max_size < 1:
            raise self._bad("max_size", "must be at least 1")
        if self.min_size > self.max_size:
            raise self._bad("min_size", f"must not exceed max_size ({self.max_size})")
        for key, optional, zero in _DURATIONS:
            value = getattr(self, key)
            if value is None and optional:
                continue
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or value < 0 or (value == 0 and not zero):
                bound = ">= 0" if zero else "> 0"
                raise self._bad(
                    key, f"must be a finite number of seconds {bound}" + (" or None" if optional else "")
                )
        for key in _FLAGS:
            if not isinstance(getattr(self, key), bool):
                raise self._bad(key, "must be True or False")

    def _bad(self, key: str, why: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(f'OPTIONS["pool"]["{key}"] {why} (got {getattr(self, key)!r})')

    @classmethod
    def keys(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))

    @classmethod
    def from_options(cls, value: object, **defaults: Any) -> PoolConfig:
        """Validate `OPTIONS["pool"]`: None (the key is absent) or a dict; unknown keys raise naming
        the key. `defaults` fill keys the user left out (the engine passes `pre_ping=CONN_HEALTH_CHECKS`)."""
        # The async engine builds a wrapper per native call, so the same settings come back on every
        # call: a valid config is remembered by value (a bad one raises every time).
        # Types are part of the key: 1 == True == 1.0, but only 1 is a valid size.
        try:
            key = (
                type(value),
                None if value is None else _typed(value.items()),  # type: ignore[attr-defined]
                _typed(defaults.items()),
            )
            hash(key)
        except (AttributeError, TypeError):
            return cls._validated(value, defaults)
        config = _remembered.get(key)
        if config is None:
            config = cls._validated(value, defaults)
            if len(_remembered) >= 64:
                _remembered.clear()
            _remembered[key] = config
        return config

    @classmethod
    def _validated(cls, value: object, defaults: dict[str, Any]) -> PoolConfig:
        if value is None:
            return cls(**defaults)
        if not isinstance(value, Mapping):
            raise ImproperlyConfigured(
                f'OPTIONS["pool"] must be a dict ({{}} for the defaults), not {value!r}'
            )
        unknown = sorted(set(value) - cls.keys())
        if unknown:
            raise ImproperlyConfigured(
                f'OPTIONS["pool"] has unknown key {unknown[0]!r}; the keys are: {", ".join(sorted(cls.keys()))}'
            )
        return cls(**{**defaults, **value})
