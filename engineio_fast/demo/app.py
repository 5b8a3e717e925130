"""The demo chat: every text message a client sends is broadcast to everyone.

Wire format, all Engine.IO text messages:

- client → server: the chat line itself (plain text, cut to ``MAX_TEXT`` characters);
- server → client: one JSON object per message,
  ``{"type": "welcome", "id": ..., "users": n}`` to a client that just connected,
  ``{"type": "join" | "leave", "id": ..., "users": n}`` to the others, and
  ``{"type": "chat", "from": ..., "text": ...}`` to every client, the sender included.

``id`` and ``from`` are the short sender id: the first characters of the session id.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from ..middleware import WSGIApp
from ..server import Server

STATIC_DIR = Path(__file__).resolve().parent
#: URL path → file served next to this module.
STATIC_FILES = {
    '/': str(STATIC_DIR / 'index.html'),
    '/index.html': str(STATIC_DIR / 'index.html'),
    '/chat.js': str(STATIC_DIR / 'chat.js'),
    '/eio.js': str(STATIC_DIR / 'eio.js'),
}
#: Longest chat line relayed; longer ones are cut.
MAX_TEXT = 500
#: Characters of the session id shown as the sender id.
SHORT_ID = 6


def short_id(sid: str) -> str:
    """The sender id shown in the chat for session ``sid``."""
    return sid[:SHORT_ID]


class ChatRoom:
    """The connected clients of one Engine.IO server and the chat handlers on it."""

    def __init__(self, eio: Server) -> None:
        self.eio = eio
        self._sids: list[str] = []
        # Handlers run in the server's threads: connect, disconnect and
        # broadcasts may overlap.
        self._lock = threading.Lock()
        eio.on('connect', self.on_connect)
        eio.on('message', self.on_message)
        eio.on('disconnect', self.on_disconnect)

    def members(self) -> list[str]:
        """The session ids currently in the room."""
        with self._lock:
            return list(self._sids)

    def on_connect(self, sid: str, environ: dict) -> None:
        """Welcome the new client and tell the others."""
        with self._lock:
            self._sids.append(sid)
            others = [s for s in self._sids if s != sid]
            users = len(self._sids)
        self._send(sid, {'type': 'welcome', 'id': short_id(sid), 'users': users})
        self._broadcast(others, {'type': 'join', 'id': short_id(sid), 'users': users})

    def on_message(self, sid: str, data: object) -> None:
        """Relay a text message to every client; binary messages are ignored."""
        if not isinstance(data, str):
            return
        text = data[:MAX_TEXT]
        self._broadcast(self.members(), {'type': 'chat', 'from': short_id(sid), 'text': text})

    def on_disconnect(self, sid: str, reason: object = None) -> None:
        """Tell the remaining clients who left."""
        with self._lock:
            if sid not in self._sids:
                return
            self._sids.remove(sid)
            others = list(self._sids)
        self._broadcast(others, {'type': 'leave', 'id': short_id(sid), 'users': len(others)})

    def _send(self, sid: str, message: dict) -> None:
        """Send one JSON message as a text packet."""
        self.eio.send(sid, json.dumps(message, separators=(',', ':')))

    def _broadcast(self, sids: list[str], message: dict) -> None:
        """Send one JSON message to each of ``sids``."""
        text = json.dumps(message, separators=(',', ':'))
        for sid in sids:
            self.eio.send(sid, text)


def create_app(**server_options) -> tuple[WSGIApp, ChatRoom]:
    """Build the demo: a threading-mode ``Server`` with the chat, wrapped with its web page.

    :param server_options: extra ``Server`` arguments (e.g. ``ping_interval``).
    :return: the WSGI app to serve and the chat room.
    """
    eio = Server(async_mode='threading', **server_options)
    room = ChatRoom(eio)
    return WSGIApp(eio, static_files=STATIC_FILES), room
