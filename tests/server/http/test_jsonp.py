"""JSONP polling (H-26): handshake, GET and POST, the ``j`` index check, and
string escaping evaluated by node."""

from __future__ import annotations

import json
import shutil
import subprocess
from urllib.parse import quote_plus

import pytest
from raw_clients import (
    SEP,
    TIMEOUT,
    PollingClient,
    assert_error,
    eio_path,
    http_request,
)

# -- JSONP -----------------------------------------------------------------------------

NODE_JSONP = r"""
const vm = require('vm');
const source = require('fs').readFileSync(0, 'utf8');
const calls = [];
const ___eio = new Proxy({}, {get: (_, index) => (text) => calls.push([Number(index), text])});
vm.runInNewContext(source, {___eio});
process.stdout.write(JSON.stringify(calls));
"""


def run_jsonp_in_node(body: bytes) -> list:
    """Evaluate a JSONP response as a script in node; the ``[index, text]`` calls it made."""
    node = shutil.which('node')
    assert node is not None, 'node (Node.js) is needed to evaluate JSONP responses (H-26)'
    proc = subprocess.run(
        [node, '-e', NODE_JSONP], input=body, capture_output=True, timeout=TIMEOUT
    )
    assert proc.returncode == 0, proc.stderr.decode(errors='replace')
    return json.loads(proc.stdout)


def test_jsonp_handshake_get_and_post(server):
    """H-25: ``j`` wraps GET payloads in ``___eio[j]("…");``; POST ``d=`` bodies are form-decoded."""
    response = http_request(server.port, 'GET', eio_path(EIO=4, transport='polling', j=7))
    assert response.status == 200
    assert response.text.startswith('___eio[7]("0{') and response.text.endswith('");')
    [(index, open_packet)] = run_jsonp_in_node(response.body)
    assert index == 7
    sid = json.loads(open_packet[1:])['sid']
    path = eio_path(EIO=4, transport='polling', sid=sid, j=7)
    form = {'Content-Type': 'application/x-www-form-urlencoded'}
    message = 'a b+c&d=€\\"'
    response = http_request(
        server.port, 'POST', path, body='d=' + quote_plus('4' + message), headers=form
    )
    assert (response.status, response.body) == (200, b'ok')
    response = http_request(server.port, 'GET', path)
    assert run_jsonp_in_node(response.body) == [[7, '4' + message]]


def test_jsonp_post_with_empty_data_is_an_empty_payload(server):
    """H-25, B-20: POST ``d=`` → 200 ``ok`` and the session stays open."""
    client = PollingClient(server)
    form = {'Content-Type': 'application/x-www-form-urlencoded'}
    response = client.post('d=', headers=form, j=0)
    assert (response.status, response.body) == (200, b'ok')
    assert client.post('d=' + quote_plus('4still open'), headers=form, j=0).body == b'ok'
    assert run_jsonp_in_node(client.get(j=0).body) == [[0, '4still open']]


@pytest.mark.parametrize('index', ['abc', '-1', '1.5', '', '0x1', '١'])
def test_jsonp_index_must_be_an_integer(server, index):
    """H-25, P-55: a non-integer ``j`` → 400 ``"Invalid JSONP index number"``."""
    response = http_request(server.port, 'GET', eio_path(EIO=4, transport='polling', j=index))
    assert_error(response, 400, 'Invalid JSONP index number')
    client = PollingClient(server)
    assert_error(client.get(j=index), 400, 'Invalid JSONP index number')


def test_jsonp_string_escaping_round_trips_in_javascript(server):
    """H-26, B-11: backslash, quotes, control characters, U+2028/U+2029 survive a JS engine."""
    client = PollingClient(server)
    message = 'x\\ "q" \'s\' \n\r\t\x00\x01\x08\x0b\x0c\x1d\x1f\x7f \u2028 \u2029 </script> é € 😀 \\u0041'
    assert client.post('4' + message + SEP + 'bAQIDBA==').body == b'ok'
    response = client.get(j=3)
    text = response.text
    assert '\u2028' not in text and '\u2029' not in text
    assert not any(ord(char) < 0x20 for char in text), text
    assert run_jsonp_in_node(response.body) == [[3, '4' + message + SEP + 'bAQIDBA==']]
