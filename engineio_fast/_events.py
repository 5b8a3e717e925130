"""Event handler registration shared by servers and clients."""
# S-10, S-33, CL-06

from __future__ import annotations

import inspect
from typing import Callable


class EventHandlers:
    """``on()`` and the legacy ``disconnect`` signature check.

    Subclasses set ``event_names`` and ``_disconnect_args`` (the arguments a
    modern ``disconnect`` handler takes: ``(sid, reason)`` on servers,
    ``(reason)`` on clients), and create ``handlers`` and
    ``_handler_takes_reason`` dicts.
    """

    event_names: list[str] = []
    _disconnect_args: tuple = ()
    handlers: dict
    _handler_takes_reason: dict

    def on(self, event: str, handler: Callable | None = None):
        """Register an event handler; without ``handler``, return a decorator.

        :param event: the event name; servers have ``'connect'``
                      ``(sid, environ)``, ``'message'`` ``(sid, data)``,
                      ``'disconnect'`` ``(sid, reason)`` and the observers
                      ``'connection_error'`` ``(environ, code, message)``,
                      ``'upgrade'`` ``(sid)``, ``'heartbeat'`` ``(sid)``,
                      ``'packet'`` / ``'packet_create'`` ``(sid, packet)``;
                      clients have ``'connect'`` ``()``, ``'message'``
                      ``(data)`` and ``'disconnect'`` ``(reason)``.
        :param handler: the function (or coroutine function, on asyncio
                        servers and clients) to call.

        A server's ``connect`` handler may return ``False`` (or a JSON-able
        value sent as the error body) to refuse the connection.  A
        ``disconnect`` handler written without the ``reason`` argument
        still works.  One handler per event: the last one registered wins.

        Example::

            @eio.on('message')
            def message(sid, data):
                eio.send(sid, data)
        """
        if event not in self.event_names:
            raise ValueError('Invalid event')

        def set_handler(handler):
            self.handlers[event] = handler
            return handler

        if handler is None:
            return set_handler
        set_handler(handler)

    def _takes_reason(self, handler: Callable) -> bool:
        """Whether a disconnect handler takes the reason, or is the legacy form."""
        # S-33
        known = self._handler_takes_reason.get(handler)
        if known is None:
            try:
                inspect.signature(handler).bind(*self._disconnect_args)
                known = True
            except TypeError:
                known = False
            except ValueError:  # no signature (builtins): assume the modern form
                known = True
            self._handler_takes_reason[handler] = known
        return known
