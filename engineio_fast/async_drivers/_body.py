"""``wsgi.input`` of the asyncio drivers: one reader over a per-framework pull.

The server reads a POST body in ``read(n)`` calls and stops at its size limit,
so a body is taken from the framework only as far as asked.  Each driver
subclasses :class:`PulledBody` with ``pull()``, its framework's "next chunk
of the body"; the buffering and the ``read`` contract live here.
"""
# A-14, H-41

from __future__ import annotations


class PulledBody:
    """A request body read on demand through :meth:`pull`.

    ``read(n)`` returns at most ``n`` bytes (all that is left when ``n`` is
    negative or None), at least one byte until the body ended, and ``b''``
    only at its end; it pulls at most once, so a small body costs one pull.
    What a pull brought past ``n`` waits for the next read.
    """

    #: Pulled and not read yet (class defaults: a body needs no ``__init__``).
    _rest = b''
    #: False once ``pull`` returned ``b''``.
    _more = True

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
        if n is None or n < 0:
            chunks = [self._rest]
            self._rest = b''
            while self._more:
                chunk = await self.pull(-1)
                if chunk:
                    chunks.append(chunk)
                else:
                    self._more = False
            return b''.join(chunks)
        data = self._rest
        if not data and self._more:
            data = await self.pull(n)
            if not data:
                self._more = False
        if len(data) > n:
            self._rest = data[n:]
            return data[:n]
        self._rest = b''
        return data
