"""``root_path`` behind a proxy that serves the app under a prefix (issue 17).

As under uvicorn's ``--root-path``: the other app's scope has ``root_path``
and a ``path`` that starts with it.  The Engine.IO endpoint answers with the
prefix stripped by the proxy or kept.
"""

from __future__ import annotations

import json

import pytest
from native_clients import NativeApp
from raw_clients import http_request


@pytest.fixture(scope='module')
def app():
    process = NativeApp(root_path='/api')
    yield process
    process.stop()


@pytest.mark.parametrize('prefix', ['', '/api'])
def test_the_engineio_endpoint_answers_with_or_without_the_prefix(app, prefix):
    response = http_request(app.port, 'GET', prefix + '/engine.io/?EIO=4&transport=polling')
    assert response.status == 200
    assert response.text.startswith('0{"sid":')


def test_the_other_app_gets_root_path_and_the_full_path(app):
    response = http_request(app.port, 'GET', '/info')
    assert response.status == 200
    info = json.loads(response.body)
    assert (info['root_path'], info['path']) == ('/api', '/api/info')
