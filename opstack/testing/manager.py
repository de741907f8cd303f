"""A Manager run in-process on a thread, for tests: started once elected, stopped and joined, its failure
surfaced (never swallowed)."""

from __future__ import annotations

import threading

from opstack.runtime.manager import Manager
from opstack.testing.waiting import wait_for


class ManagerThread:
    def __init__(self, mgr: Manager, name: str = "test-manager") -> None:
        self.mgr = mgr
        self.failure: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            self.mgr.start()
        except BaseException as exc:
            self.failure.append(exc)

    def start(self, timeout: float = 60) -> ManagerThread:
        self.thread.start()
        wait_for(lambda: self.mgr.elected.is_set() or self.failure, timeout, "the manager to start")
        assert not self.failure, self.failure
        return self

    def stop(self) -> None:
        self.mgr.stop()
        self.thread.join(60)
        assert not self.thread.is_alive(), "the manager did not stop"
        assert not self.failure, self.failure
