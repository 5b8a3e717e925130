"""JSON micro-benchmarks: the ``json=`` modules on Socket.IO event payloads (F-13).

Each scenario runs the call python-socketio makes for an event
(``dumps(data, separators=(',', ':'))`` / ``loads(text)``) on three modules:
``json`` (engineio_fast.json, the default), ``json_fast``
(engineio_fast.json_fast, orjson-backed) and ``upstream`` (python-engineio's
engineio.json).  Run with::

    python -m pytest bench/test_json.py -p no:cacheprovider --benchmark-group-by=func \\
        --benchmark-columns=median,rounds --benchmark-sort=name

Every result is checked against the stdlib's, so a wrong module fails instead
of looking fast.  The ``nonascii`` and ``null`` scenarios show the price of
json_fast's fallback (orjson's text thrown away, the stdlib's used).
"""

from __future__ import annotations

import json
import random
from types import ModuleType
from typing import Any

import engineio.json as upstream_json
import pytest

import engineio_fast.json as safe_json
import engineio_fast.json_fast as json_fast

COMPACT = (',', ':')
MODULES = {'json': safe_json, 'json_fast': json_fast, 'upstream': upstream_json}

_WORDS = 'the quick brown fox jumps over a lazy dog see you at the meeting tomorrow'.split()


def _event(i: int, rng: random.Random, text_extra: str = '', null: bool = False) -> list:
    """One ``chat message`` event as python-socketio emits it: name, then a dict."""
    return [
        'chat message',
        {
            'id': 100000 + i,
            'room': rng.choice(['lobby', 'general', 'dev']),
            'user': rng.choice(['alice', 'bob', 'carol']),
            'text': ' '.join(rng.choice(_WORDS) for _ in range(12)) + text_extra,
            'ts': 1700000000000 + 137 * i,
            'read': rng.random() < 0.5,
            'score': round(rng.random() * 100, 3),
            'reply_to': None if null else 99999 + i,
        },
    ]


EVENT = _event(0, random.Random(1))
EVENT_NONASCII = _event(0, random.Random(1), text_extra=' héllo ✓ 😀')
EVENT_NULL = _event(0, random.Random(1), null=True)
HISTORY = [_event(i, random.Random(i)) for i in range(50)]


@pytest.fixture(params=list(MODULES))
def module(request: pytest.FixtureRequest) -> ModuleType:
    if request.param == 'json_fast' and not json_fast.USES_ORJSON:
        raise RuntimeError('orjson is not installed: json_fast would measure the stdlib')
    return MODULES[request.param]


def _dumps(benchmark: Any, module: ModuleType, value: Any) -> None:
    result = benchmark(module.dumps, value, separators=COMPACT)
    assert result == json.dumps(value, separators=COMPACT)


def _loads(benchmark: Any, module: ModuleType, value: Any) -> None:
    text = json.dumps(value, separators=COMPACT)
    assert benchmark(module.loads, text) == value


def test_event_dumps(benchmark, module):
    _dumps(benchmark, module, EVENT)


def test_event_loads(benchmark, module):
    _loads(benchmark, module, EVENT)


def test_event_nonascii_dumps(benchmark, module):
    _dumps(benchmark, module, EVENT_NONASCII)


def test_event_nonascii_loads(benchmark, module):
    _loads(benchmark, module, EVENT_NONASCII)


def test_event_null_dumps(benchmark, module):
    _dumps(benchmark, module, EVENT_NULL)


def test_history50_dumps(benchmark, module):
    _dumps(benchmark, module, HISTORY)


def test_history50_loads(benchmark, module):
    _loads(benchmark, module, HISTORY)
