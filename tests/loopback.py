"""A loopback TCP server for tests that only counts the connections it gets (a proxy, an endpoint, a probe).

Its accepting thread polls and stops before the socket is closed: a thread left blocked in
``accept()`` on a closed descriptor would accept on that number again once another test's socket
reuses it, taking that test's connections.
"""

from __future__ import annotations

import socket
import threading


class LoopbackListener:
    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.1)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:  # the poll's timeout
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.server.close()

    def __enter__(self) -> LoopbackListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
