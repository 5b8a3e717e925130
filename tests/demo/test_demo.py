"""The chat demo (``python -m engineio_fast demo``) end to end.

The demo runs as a child process on its embedded threading server.  Python
(python-engineio's ``Client``), Node.js (``engine.io-client``) and two tabs of
headless chromium running the page's own JS client (``eio.js``) chat through
it, on websocket, on polling, and across the polling → websocket upgrade.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import engineio
import pytest
from children import NODE_DIR
from chromium_cdp import Browser, Page

import engineio_fast.demo.app as demo_app

#: Seconds any single expected event may take.
WAIT = 10.0


def fetch(url: str) -> tuple[int, str, str]:
    """GET ``url``: status, Content-Type and body text."""
    try:
        with urllib.request.urlopen(url, timeout=WAIT) as response:
            return response.status, response.headers['Content-Type'], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers['Content-Type'], exc.read().decode()


class ChatClient:
    """python-engineio's ``Client`` in the chat, recording the JSON messages it gets."""

    def __init__(self, url: str, transports: list[str] | None = None, on_chat=None) -> None:
        self.messages: list[dict[str, Any]] = []
        self.on_chat = on_chat
        self._changed = threading.Condition()
        self.client = engineio.Client()
        self.client.on('message', self._on_message)
        self.client.connect(url, transports=transports)
        self.id = self.wait_for(lambda m: m['type'] == 'welcome')['id']

    def _on_message(self, data: Any) -> None:
        # python-engineio hands JSON text over already parsed.
        message = json.loads(data) if isinstance(data, str) else data
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()
        if self.on_chat is not None and message.get('type') == 'chat':
            self.on_chat(self, message)

    def wait_for(self, predicate, timeout: float = WAIT) -> dict[str, Any]:
        """The first message matching ``predicate``, waiting at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for message in self.messages:
                    if predicate(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f'no matching message within {timeout} s: {self.messages}')
                self._changed.wait(remaining)

    def wait_for_chat(self, text: str) -> dict[str, Any]:
        """The chat message carrying ``text``."""
        return self.wait_for(lambda m: m['type'] == 'chat' and m['text'] == text)

    def close(self) -> None:
        self.client.disconnect()


# -- the page and the scripts are served ---------------------------------------------------------


def test_demo_serves_the_page_and_its_scripts(demo_url):
    status, content_type, body = fetch(demo_url)
    assert (status, content_type) == (200, 'text/html')
    assert '<script src="eio.js">' in body and '<script src="chat.js">' in body
    for script, marker in [('eio.js', 'class Socket'), ('chat.js', 'Eio.Socket')]:
        status, content_type, body = fetch(demo_url + script)
        assert (status, content_type) == (200, 'application/javascript')
        assert marker in body
    assert fetch(demo_url + 'missing.js')[0] == 404


def test_demo_prints_the_port_it_was_given(demo):
    assert demo.url == f'http://127.0.0.1:{demo.port}/'


# -- Python and Node.js clients chat through the demo --------------------------------------------


@pytest.mark.parametrize(
    'transports_a, transports_b',
    [(['websocket'], ['polling']), (None, None)],
    ids=['websocket-and-polling', 'upgrade'],
)
def test_python_clients_chat(demo_url, transports_a, transports_b):
    a = ChatClient(demo_url, transports_a)
    b = ChatClient(demo_url, transports_b)
    try:
        assert a.wait_for(lambda m: m['type'] == 'join') == {
            'type': 'join',
            'id': b.id,
            'users': 2,
        }
        a.client.send('hello from a')
        assert b.wait_for_chat('hello from a')['from'] == a.id
        b.client.send('hello from b')
        assert a.wait_for_chat('hello from b')['from'] == b.id
        # The sender gets its own message back too.
        assert a.wait_for_chat('hello from a')['from'] == a.id
        if transports_a is None:
            # The default client upgraded from polling to websocket.
            deadline = time.monotonic() + WAIT
            while a.client.transport() != 'websocket' and time.monotonic() < deadline:
                time.sleep(0.05)
            assert a.client.transport() == 'websocket'
    finally:
        b.close()
        a.close()
    # b's departure reached a before a left.
    assert {'type': 'leave', 'id': b.id, 'users': 1} in a.messages


@pytest.mark.parametrize(
    'transports',
    [['polling'], ['polling', 'websocket'], ['websocket']],
    ids=lambda transports: '+'.join(transports),
)
def test_node_client_chats_with_python_client(demo_url, node, transports):
    replied = threading.Event()

    def reply(client: ChatClient, message: dict[str, Any]) -> None:
        if message['text'] == 'hi from node':
            client.client.send('hi from python')
            replied.set()

    python = ChatClient(demo_url, ['websocket'], on_chat=reply)
    try:
        # engine.io-client gets: welcome, its own line back, the Python reply.
        scenario = {
            'url': demo_url.rstrip('/'),
            'transports': transports,
            'send': ['hi from node'],
            'expect': 3,
            'timeoutMs': int(WAIT * 1000),
        }
        proc = subprocess.run(
            [node, str(NODE_DIR / 'eio_client.js'), json.dumps(scenario)],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=WAIT + 5,
        )
        assert proc.returncode == 0, f'eio_client.js failed:\n{proc.stdout}\n{proc.stderr}'
        events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        received = [json.loads(e['data']) for e in events if e['event'] == 'message']
        node_id = received[0]['id']
        assert received[0] == {'type': 'welcome', 'id': node_id, 'users': 2}
        chats = sorted((m['from'], m['text']) for m in received[1:])
        assert chats == sorted([(node_id, 'hi from node'), (python.id, 'hi from python')])
        assert replied.is_set()
        assert python.wait_for_chat('hi from node')['from'] == node_id
    finally:
        python.close()


# -- two chromium tabs chat through the page's own JS client -------------------------------------


def open_chat(browser: Browser, url: str, expected_transport: str) -> tuple[Page, str]:
    """Open the chat page, wait until it is connected on ``expected_transport``; its chat id."""
    page = browser.new_page(url)
    page.wait_for(
        'document.body && document.body.dataset.state === "open" && '
        f'document.body.dataset.transport === {json.dumps(expected_transport)}',
        WAIT,
        f'the page to connect over {expected_transport}',
    )
    return page, page.evaluate('document.body.dataset.id')


def wait_for_line(page: Page, sender: str, text: str) -> None:
    """Wait until the page's chat log shows ``text`` from ``sender``."""
    expression = (
        'Array.from(document.querySelectorAll("#log li.chat")).some('
        f'(li) => li.dataset.from === {json.dumps(sender)} && '
        f'li.textContent === {json.dumps(sender + text)})'
    )
    page.wait_for(expression, WAIT, f'{text!r} from {sender}')


@pytest.mark.parametrize(
    'mode_1, transport_1, mode_2, transport_2',
    [
        ('upgrade', 'websocket', 'upgrade', 'websocket'),
        ('polling', 'polling', 'polling', 'polling'),
        ('websocket', 'websocket', 'polling', 'polling'),
    ],
    ids=['upgraded-websocket', 'polling-fallback', 'websocket-with-polling'],
)
def test_two_browser_pages_chat(browser, demo_url, mode_1, transport_1, mode_2, transport_2):
    page_1, id_1 = open_chat(browser, f'{demo_url}?transport={mode_1}', transport_1)
    page_2, id_2 = open_chat(browser, f'{demo_url}?transport={mode_2}', transport_2)
    try:
        first = f'hello from page 1 {uuid.uuid4().hex[:8]}'
        page_1.type_and_enter('#text', first)
        wait_for_line(page_2, id_1, first)
        wait_for_line(page_1, id_1, first)
        # The form was cleared after sending.
        assert page_1.evaluate('document.getElementById("text").value') == ''

        second = f'and back from page 2 ✓ {uuid.uuid4().hex[:8]}'
        page_2.type_and_enter('#text', second)
        wait_for_line(page_1, id_2, second)
        wait_for_line(page_2, id_2, second)
        # Still on the same transports, and the user counts agree.
        for page, transport in [(page_1, transport_1), (page_2, transport_2)]:
            assert page.evaluate('document.body.dataset.transport') == transport
            assert '2 users' in page.evaluate('document.getElementById("status").textContent')
    finally:
        page_2.close()
        page_1.close()


def test_page_notices_when_the_other_page_leaves(browser, demo_url):
    page_1, _ = open_chat(browser, demo_url, 'websocket')
    page_2, id_2 = open_chat(browser, demo_url + '?transport=polling', 'polling')
    try:
        page_2.close()
        page_1.wait_for(
            'Array.from(document.querySelectorAll("#log li.notice")).some('
            f'(li) => li.textContent === {json.dumps(id_2 + " left")})',
            # A closed polling tab is noticed at the server's ping timeout at worst.
            WAIT * 5,
            'the leave notice',
        )
    finally:
        page_1.close()


def test_static_files_are_in_the_package():
    """The page and scripts sit next to the demo's modules, where package-data ships them."""
    for filename in set(demo_app.STATIC_FILES.values()):
        assert Path(filename).is_file(), filename


@pytest.mark.parametrize('mode, transport', [('upgrade', 'websocket'), ('polling', 'polling')])
def test_page_answers_pings(browser, start_demo, mode, transport):
    # The server pings again only after a pong, so five pings on one session
    # (same id, never closed) prove the page answers them.
    url = start_demo('--ping-interval', '0.2', '--ping-timeout', '1').url
    page, chat_id = open_chat(browser, f'{url}?transport={mode}', transport)
    try:
        page.wait_for('Number(document.body.dataset.pings || 0) >= 5', WAIT, 'five pings')
        assert page.evaluate('document.body.dataset.state') == 'open'
        assert page.evaluate('document.body.dataset.id') == chat_id
        assert page.evaluate('document.body.dataset.transport') == transport
        assert 'connection closed' not in page.evaluate('document.body.innerText')
    finally:
        page.close()
