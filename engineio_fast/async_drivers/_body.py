"""``wsgi.input`` of the asyncio drivers: one reader over a per-framework pull (A-14).

The server reads a POST body in ``read(n)`` calls and stops at its size limit
(H-41), so a body is taken from the framework only as far as asked.  Each
driver subclasses :class:`PulledBody` with ``pull()``, its framework's "next
chunk of the body"; the buffering and the ``read`` contract live here.
"""

from __future__ import annotations


class PulledBody:
    """A request body read on demand through :meth:`pull`.

    ``read(n)`` returns at most ``n`` bytes (all that is left when ``n`` is
    negative or None), as many as the body still has up to ``n``, and ``b''``
    only at its end.  What a pull brought past ``n`` waits for the next read.
    """

    def __init__(self) -> None:
        #: Pulled and not read yet: chunks and their total length.
        self._chunks: list[bytes] = []
        self._size = 0
        self._more = True

    async def pull(self, size_hint: int) -> bytes:
        """The next chunk of the body, ``b''`` only at its end.

        ``size_hint`` is how many more bytes the read wants (-1: all); a
        framework that can be asked for a size uses it.  A client gone
        mid-body raises (``ConnectionResetError``), and may again on the next
        call.
        """
        raise NotImplementedError

    async def read(self, n: int | None = -1) -> bytes:
        """At most ``n`` bytes (all that is left when ``n < 0``); ``b''`` only at the end."""
        if n is None:
            n = -1
        whole = n < 0
        while self._more and (whole or self._size < n):
            chunk = await self.pull(-1 if whole else n - self._size)
            if chunk:
                self._chunks.append(chunk)
                self._size += len(chunk)
            else:
                self._more = False
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b''.join(chunks)
        if whole or self._size <= n:
            self._chunks = []
            self._size = 0
            return data
        self._chunks = [data[n:]]
        self._size -= n
        return data[:n]
