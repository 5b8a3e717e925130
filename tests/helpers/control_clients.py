"""Control clients: well-behaved sessions that keep echoing while hostile input hits a server.

A :class:`ControlClient` is python-engineio's own ``engineio.Client`` (the
reference, not ``engineio_fast``) on one echo-server session, sending
numbered messages ``<name>-<n>`` one at a time from a background thread and
waiting (bounded) for each echo before the next.  ``check()`` asserts that
every message came back exactly once and in order, that none is missing and
that the session never dropped.  :class:`ControlGroup` runs several of them;
``progress()`` waits until each has echoed a few more messages since the
call, which proves the server still serves them *after* whatever a test did.

Used by tests/server/test_hostile.py and bench/fuzz/http_fuzz.py.
"""

from __future__ import annotations

import threading
import time

import engineio

#: Upper bound, in seconds, of one echo round trip and of a ``progress()`` wait.
ECHO_TIMEOUT = 10.0

#: ``engineio.Client`` transports per control-client kind.
KINDS = {'polling': ['polling'], 'websocket': ['polling', 'websocket']}


class ControlClient:
    """One reference client echoing numbered messages on its own thread.

    :param url: the server's base URL.
    :param name: prefix of the messages (unique per client).
    :param kind: ``'polling'`` (polling only) or ``'websocket'`` (upgraded).
    :param pause: seconds between an echo and the next message.
    """

    def __init__(self, url: str, name: str, kind: str, pause: float = 0.0):
        assert engineio.Client.__module__ == 'engineio.client', (
            'engineio is not python-engineio here (engineio_fast.install() was called?)'
        )
        self.name = name
        self.pause = pause
        self.sent = 0
        self.received: list = []
        self.errors: list[str] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self.client = engineio.Client(handle_sigint=False, request_timeout=ECHO_TIMEOUT)
        self.client.on('message', self._on_message)
        self.client.on('disconnect', self._on_disconnect)
        self.client.connect(url, transports=KINDS[kind])
        self._thread = threading.Thread(target=self._run, name='control-' + name, daemon=True)
        self._thread.start()

    def _on_message(self, data) -> None:
        with self._changed:
            self.received.append(data)
            self._changed.notify_all()

    def _on_disconnect(self, reason=None) -> None:
        if not self._stop.is_set():
            self.errors.append('%s: disconnected (%s)' % (self.name, reason))

    def _run(self) -> None:
        while not self._stop.is_set() and not self.errors:
            message = '%s-%d' % (self.name, self.sent)
            with self._changed:
                self.sent += 1
            self.client.send(message)
            with self._changed:
                if not self._changed.wait_for(
                    lambda: len(self.received) >= self.sent, ECHO_TIMEOUT
                ):
                    self.errors.append('%s: no echo of %r' % (self.name, message))
            if self.pause:
                self._stop.wait(self.pause)

    def echoed(self) -> int:
        with self._changed:
            return len(self.received)

    def wait_echoed(self, count: int, timeout: float = ECHO_TIMEOUT) -> None:
        """Wait until ``count`` messages came back (AssertionError on timeout or failure)."""
        with self._changed:
            self._changed.wait_for(
                lambda: len(self.received) >= count or self.errors or not self._thread.is_alive(),
                timeout,
            )
        self.check()
        assert self.echoed() >= count, '%s: %d of %d echoes within %.1fs' % (
            self.name,
            self.echoed(),
            count,
            timeout,
        )

    def check(self) -> None:
        """Every echo so far came back once, in order; the session is still up."""
        with self._changed:
            received = list(self.received)
        expected = ['%s-%d' % (self.name, n) for n in range(len(received))]
        assert received == expected, '%s: echoes out of order or duplicated: %r' % (
            self.name,
            [(n, got) for n, (got, want) in enumerate(zip(received, expected)) if got != want][:5],
        )
        assert not self.errors, self.errors

    def stop(self) -> None:
        """Stop echoing and check the final tally: every message sent came back."""
        self._stop.set()
        self._thread.join(ECHO_TIMEOUT + 1)
        assert not self._thread.is_alive(), '%s: echo thread stuck' % self.name
        self.check()
        assert self.echoed() == self.sent, '%s: %d sent, %d echoed' % (
            self.name,
            self.sent,
            self.echoed(),
        )

    def disconnect(self) -> threading.Thread:
        """Disconnect on a background thread (the reference client may wait out its close)."""
        self._stop.set()
        closer = threading.Thread(target=self.client.disconnect, daemon=True)
        closer.start()
        return closer


class ControlGroup:
    """Several control clients on one server: ``kinds`` lists one kind per client."""

    def __init__(self, url: str, kinds: list[str], prefix: str = 'ctl', pause: float = 0.0):
        self.clients: list[ControlClient] = []
        try:
            for n, kind in enumerate(kinds):
                name = '%s%d%s' % (prefix, n, kind[0])
                self.clients.append(ControlClient(url, name, kind, pause))
        except BaseException:
            self.stop(check=False)
            raise

    def progress(self, more: int = 3, timeout: float = ECHO_TIMEOUT) -> None:
        """Each client echoes ``more`` further messages, all in order, none lost."""
        targets = [(client, client.echoed() + more) for client in self.clients]
        deadline = time.monotonic() + timeout
        for client, target in targets:
            client.wait_echoed(target, max(deadline - time.monotonic(), 0.1))

    def total(self) -> int:
        return sum(client.echoed() for client in self.clients)

    def stop(self, check: bool = True) -> None:
        """Stop every client; with ``check``, assert that none lost or repeated a message."""
        for client in self.clients:
            client._stop.set()
        failures = []
        for client in self.clients:
            try:
                client.stop()
            except AssertionError as exc:
                failures.append(str(exc))
        closers = [client.disconnect() for client in self.clients]
        deadline = time.monotonic() + 5
        for closer in closers:
            closer.join(max(deadline - time.monotonic(), 0.01))
        if check:
            assert not failures, failures
