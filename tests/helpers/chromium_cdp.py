"""A small driver for Debian's headless chromium over the Chrome DevTools Protocol (CDP).

The browser is started with ``--remote-debugging-port=0``; it writes the port
it picked to ``DevToolsActivePort`` in its profile directory, and we talk
JSON-RPC to it over one websocket (websocket-client, already a test
dependency), using flattened sessions: one ``sessionId`` per page.  Only
what the demo tests need is here: open and close pages, evaluate JavaScript,
type text and press Enter.  Every wait is bounded.

Why not playwright: playwright-core pins a browser revision and its protocol
use; driving the distribution's chromium through CDP directly has no such
coupling and installs nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import websocket
from children import terminate

#: Where Debian's chromium package installs the browser.
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_FLAGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    '--remote-debugging-port=0',
]
#: Seconds for one CDP command to answer.
COMMAND_TIMEOUT = 10.0


class CDPError(RuntimeError):
    """A CDP command failed, or a page's JavaScript threw."""


def find_chromium() -> str | None:
    """The chromium executable, or None when it is not installed."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which('chromium')


class Browser:
    """A headless chromium process and the CDP connection to it."""

    def __init__(self, executable: str, startup_timeout: float = 20.0) -> None:
        self.profile = tempfile.mkdtemp(prefix='eio-demo-chromium-')
        self.process = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f'--user-data-dir={self.profile}', 'about:blank'],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._next_id = 0
        try:
            url = self._devtools_url(startup_timeout)
            # Chromium refuses DevTools websockets that carry an Origin header
            # unless --remote-allow-origins says otherwise.
            self.ws = websocket.create_connection(
                url, timeout=COMMAND_TIMEOUT, suppress_origin=True
            )
        except BaseException:
            self.close()
            raise

    def _devtools_url(self, timeout: float) -> str:
        """Wait (bounded) for the browser's DevTools websocket address."""
        port_file = Path(self.profile) / 'DevToolsActivePort'
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                stderr = self.process.stderr.read().decode(errors='replace')
                raise CDPError(f'chromium exited with {self.process.returncode}:\n{stderr}')
            try:
                port, path = port_file.read_text().split()[:2]
            except (OSError, ValueError):
                time.sleep(0.05)
                continue
            return f'ws://127.0.0.1:{port}{path}'
        raise CDPError(f'chromium did not open its DevTools port within {timeout} s')

    def call(
        self, method: str, params: dict | None = None, session_id: str | None = None
    ) -> dict[str, Any]:
        """Send one CDP command and return its result; events received meanwhile are dropped."""
        self._next_id += 1
        message: dict[str, Any] = {'id': self._next_id, 'method': method, 'params': params or {}}
        if session_id is not None:
            message['sessionId'] = session_id
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while True:
            self.ws.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                reply = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                raise CDPError(f'{method}: no answer within {COMMAND_TIMEOUT} s') from None
            if reply.get('id') != self._next_id:
                continue
            if 'error' in reply:
                raise CDPError(f'{method}: {reply["error"]}')
            return reply.get('result', {})

    def new_page(self, url: str) -> Page:
        """Open ``url`` in a new tab."""
        target_id = self.call('Target.createTarget', {'url': url})['targetId']
        session_id = self.call('Target.attachToTarget', {'targetId': target_id, 'flatten': True})[
            'sessionId'
        ]
        return Page(self, target_id, session_id)

    def close(self) -> None:
        """Stop the browser and remove its profile."""
        ws = getattr(self, 'ws', None)
        if ws is not None:
            ws.close()
        terminate(self.process, 5)
        self.process.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    """One tab, driven through its CDP session."""

    def __init__(self, browser: Browser, target_id: str, session_id: str) -> None:
        self.browser = browser
        self.target_id = target_id
        self.session_id = session_id

    def _call(self, method: str, params: dict | None = None) -> dict[str, Any]:
        return self.browser.call(method, params, self.session_id)

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page (promises awaited)."""
        result = self._call(
            'Runtime.evaluate',
            {'expression': expression, 'returnByValue': True, 'awaitPromise': True},
        )
        if 'exceptionDetails' in result:
            raise CDPError(f'{expression!r} threw: {result["exceptionDetails"]}')
        return result['result'].get('value')

    def wait_for(self, expression: str, timeout: float, what: str) -> Any:
        """Poll ``expression`` until it is truthy; fail with the page's text after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression)
            except CDPError:
                # The page may still be loading (no chat.js globals yet).
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                body = self.evaluate('document.body ? document.body.innerText : ""')
                raise AssertionError(
                    f'timed out after {timeout} s waiting for {what}; page:\n{body}'
                )
            time.sleep(0.05)

    def type_and_enter(self, selector: str, text: str) -> None:
        """Focus ``selector``, type ``text`` as keyboard input, and press Enter."""
        self._call('Page.bringToFront')
        self.evaluate(f'document.querySelector({json.dumps(selector)}).focus()')
        self._call('Input.insertText', {'text': text})
        enter = {'key': 'Enter', 'code': 'Enter', 'windowsVirtualKeyCode': 13}
        self._call('Input.dispatchKeyEvent', {'type': 'keyDown', 'text': '\r', **enter})
        self._call('Input.dispatchKeyEvent', {'type': 'keyUp', **enter})

    def close(self) -> None:
        """Close the tab."""
        self.browser.call('Target.closeTarget', {'targetId': self.target_id})
