"""One lazily created value per OS process, for objects a forked worker must not inherit."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerProcess(Generic[T]):
    """Create the value on first use in each process.

    Keyed by pid: a Celery prefork child must not share its parent's pooled sockets or locks, so
    a value inherited through `fork()` is replaced, never reused.
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._value: tuple[int, T] | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        """Return this process's value, creating it if this process has none yet."""
        pid = os.getpid()
        current = self._value
        if current is not None and current[0] == pid:
            return current[1]
        with self._lock:
            if self._value is None or self._value[0] != pid:
                self._value = (pid, self._factory())
            return self._value[1]
