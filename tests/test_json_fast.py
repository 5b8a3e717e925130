"""engineio_fast.json_fast gives engineio_fast.json's answers, faster (F-13).

Property tests compare the two modules on arbitrary JSON-like values and
arbitrary text: ``dumps`` must return the same text or raise the same
exception class, ``loads`` must return equal values (compared through their
stdlib encoding, so ``-0.0``, NaN and int/float differences show) or raise
the same exception class.  The suite's environment has orjson installed
(``[test]`` extra); the fallback without it runs in a subprocess that blocks
the import.
"""

from __future__ import annotations

import json as stdlib_json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import any_text

from engineio_fast import json as safe_json
from engineio_fast import json_fast

ROOT = Path(__file__).resolve().parent.parent
COMPACT = (',', ':')

# Any code point, lone surrogates and DEL included.
ANY_TEXT = any_text(30)
FLOATS = st.floats() | st.sampled_from([1e16, 1e-5, 1e-7, 1.5e-9, 0.0001, -0.0, 1e308, 5e-324])
INTS = st.integers() | st.integers(min_value=-(2**200), max_value=2**200)
SCALARS = st.none() | st.booleans() | INTS | FLOATS | ANY_TEXT
KEYS = (
    ANY_TEXT | st.integers(min_value=-(2**70), max_value=2**70) | FLOATS | st.booleans() | st.none()
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(KEYS, children, max_size=4)
    ),
    max_leaves=16,
)

# Fragments that steer a parser into its edge cases.
FRAGMENTS = st.sampled_from(
    [
        '{', '}', '[', ']', '"', '\\', ':', ',', '-', '.', 'e', 'E', 'e-', '+', '0', '1', '9',
        '9' * 19, '1' * 20, '-9223372036854775809', '18446744073709551616', '1' * 101,
        'true', 'false', 'null', 'NaN', 'Infinity', '-Infinity', '1e400', ' ', '\t', '\n', '\r',
        '\x0c', '\x00', '\x7f', '\ufeff', '\ud800', '\\ud800', '\\u00e9', '\\n', '\\x', 'é', '😀',
        '"a"', '{"a":1}', '[1,2]', '{"a":1,"a":2}',
    ]
)  # fmt: skip
JSON_TEXT = VALUES.map(lambda v: safe_json.dumps(v, separators=COMPACT))
ANY_JSON_LIKE_TEXT = JSON_TEXT | st.lists(FRAGMENTS | ANY_TEXT | JSON_TEXT, max_size=6).map(''.join)


def outcome(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple:
    """``('ok', result)`` or ``('raised', exception class)``."""
    try:
        return 'ok', fn(*args, **kwargs)
    except Exception as exc:
        return 'raised', type(exc)


def canonical(value: Any) -> str:
    """A text that tells apart values == would confuse (-0.0, NaN, 1 vs 1.0)."""
    return stdlib_json.dumps(value, default=repr, sort_keys=False) + repr(type(value))


def test_orjson_is_installed_and_used():
    """F-13: the test environment exercises the orjson path, not only the fallback."""
    assert json_fast.USES_ORJSON
    assert json_fast.dumps is not safe_json.dumps
    assert json_fast.loads is not safe_json.loads
    # its grammar is the stdlib's, so the codec skips it on non-JSON text
    assert json_fast.loads in safe_json._STRICT_LOADS


@given(VALUES)
@example({'text': 'é\x7f😀\ud800', 'n': 2**64, 'f': [1e16, 1e-5, 1e-7, float('nan')]})
@example({1: 'a', '1': 'b', None: 0, False: 1, 2.5: 2})
@example(['é😀✓ \u2028', None, {'k': [float('-inf')]}, 'x\ud83d'])
def test_compact_dumps_equals_stdlib(value):
    """F-13: compact dumps returns engineio_fast.json's text, byte for byte."""
    expected = outcome(safe_json.dumps, value, separators=COMPACT)
    assert outcome(json_fast.dumps, value, separators=COMPACT) == expected


@given(VALUES)
def test_other_dumps_calls_equal_stdlib(value):
    """F-13: default separators and other options give the stdlib's text too."""
    assert outcome(json_fast.dumps, value) == outcome(safe_json.dumps, value)
    assert outcome(json_fast.dumps, value, separators=COMPACT, ensure_ascii=False) == outcome(
        safe_json.dumps, value, separators=COMPACT, ensure_ascii=False
    )


def test_typical_payloads_take_the_orjson_path(monkeypatch):
    """F-13: ASCII, non-ASCII and null-holding events never reach the stdlib."""

    def stdlib_called(*args, **kwargs):
        raise AssertionError('fell back to the stdlib')

    event = ['chat', {'text': 'héllo ✓ 😀', 'n': 10**17, 'f': 0.5, 'reply': None, 'ok': True}]
    expected_text = safe_json.dumps(event, separators=COMPACT)
    monkeypatch.setattr(json_fast, '_safe_dumps', stdlib_called)
    monkeypatch.setattr(json_fast, '_safe_loads', stdlib_called)
    assert json_fast.dumps(event, separators=COMPACT) == expected_text
    assert json_fast.loads(expected_text) == event
    assert (
        json_fast.loads(json_fast.dumps(event, separators=COMPACT).replace('\\u00e9', 'é')) == event
    )


def test_dumps_refuses_what_stdlib_refuses():
    """F-13: circular data and unknown types raise the stdlib's exceptions."""
    circular: list = []
    circular.append(circular)
    deep: list = []
    node = deep
    for _ in range(300):  # deeper than orjson's limit, within the stdlib's
        node.append([])
        node = node[0]
    assert outcome(json_fast.dumps, circular, separators=COMPACT) == ('raised', ValueError)
    assert outcome(json_fast.dumps, {1j}, separators=COMPACT) == ('raised', TypeError)
    assert json_fast.dumps(deep, separators=COMPACT) == safe_json.dumps(deep, separators=COMPACT)


def test_subclasses_are_encoded_by_the_stdlib():
    """F-13: str/int/dict/list subclasses (which may override methods) take the stdlib path."""

    class Items(dict):
        def items(self):
            return [('shown', 1)]

    class Number(float):
        pass

    for value in (Items(hidden=2), [Number(1.5)], {'k': True}):
        assert json_fast.dumps(value, separators=COMPACT) == safe_json.dumps(
            value, separators=COMPACT
        )


@given(ANY_JSON_LIKE_TEXT)
@example('[' + '9' * 101 + ']')
@example('-9223372036854775809')
@example('{"a":NaN,"b":-Infinity,"c":1e400}')
@example('"\\ud800"')
@example('\ufeff[1]')
def test_loads_equals_stdlib(text):
    """F-13: loads accepts and refuses what engineio_fast.json does, with equal results."""
    expected = outcome(safe_json.loads, text)
    got = outcome(json_fast.loads, text)
    if expected[0] == 'ok':
        assert got[0] == 'ok', got
        assert canonical(got[1]) == canonical(expected[1])
    else:
        assert got == expected


def test_loads_keeps_the_100_digit_guard():
    """F-13: integer literals over 100 digits raise ValueError, as in engineio_fast.json."""
    with pytest.raises(ValueError, match='Integer is too large'):
        json_fast.loads('{"n":%s}' % ('1' * 101))
    assert json_fast.loads('[%s]' % ('7' * 100)) == [int('7' * 100)]


@pytest.mark.parametrize('data', [b'[1]', bytearray(b'{"a":1}'), '\ufeff1'])
def test_loads_other_inputs_behave_like_stdlib(data):
    """F-13: bytes-likes and BOM-prefixed text get engineio_fast.json's answers."""
    assert outcome(json_fast.loads, data) == outcome(safe_json.loads, data)


def test_without_orjson_the_module_is_the_stdlib_one():
    """F-13: with orjson not importable, json_fast's functions are engineio_fast.json's."""
    code = (
        'import sys; sys.modules["orjson"] = None\n'
        'from engineio_fast import json, json_fast\n'
        'assert not json_fast.USES_ORJSON\n'
        'assert json_fast.dumps is json.dumps and json_fast.loads is json.loads\n'
        'assert json_fast.dumps({"a": [1, "é"]}, separators=(",", ":")) == \'{"a":[1,"\\\\u00e9"]}\'\n'
        'try:\n'
        '    json_fast.loads("1" * 101)\n'
        'except ValueError as exc:\n'
        '    print(exc)\n'
    )
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get('PYTHONPATH')])),
    )
    proc = subprocess.run(
        [sys.executable, '-c', code],
        cwd=str(ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'Integer is too large'
