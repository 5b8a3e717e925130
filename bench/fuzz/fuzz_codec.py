"""Differential fuzzing of the codec twins: bounded, standalone (K-10..K-12).

Usage: ``python bench/fuzz/fuzz_codec.py [--count N] [--seed S] [--seconds T]``

Feeds random and mutated inputs to every codec function of both twins and
checks that they return equal values or raise the same exception class with
the same message, and that only the codec's own exceptions escape.  Stops
after ``count`` inputs or ``seconds``, whichever comes first, and prints a
summary; exits 1 on the first disagreement (with the input).  Run it under
AddressSanitizer with ``bench/fuzz/asan.sh``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import zlib

import engineio_fast._codec_c as codec_c

import engineio_fast._codec_py as codec_py
from engineio_fast import json as safe_json
from engineio_fast.exceptions import ContentTooLongError, DecodeError, EncodeError

ALLOWED = (DecodeError, ContentTooLongError, EncodeError)
SEEDS = [
    '4hello',
    '4{"a":[1,2,{"b":null}]}',
    'bAQIDBA==',
    '2probe',
    '3',
    '40/chat,{"token":"x"}',
    '4\u00e9\u20ac\U0001f600',
    '4hello\x1ebAQIDBA==\x1e2',
    'd=4hello%1E4world',
    '4' + '[' * 50 + ']' * 50,
]
ALPHABET = '0123456789b{}[]",:\x1e=+/AaZz \\\ud800\u00e9\U0001f600d&%'


def outcome(function, *args):
    """``('ok', value)`` or ``('raise', class, message)``."""
    try:
        return ('ok', function(*args))
    except RecursionError:
        return ('recursion',)
    except Exception as exc:  # compared, then checked against ALLOWED
        return ('raise', type(exc), str(exc))


def mutate(rng: random.Random, text: str) -> str:
    """One random edit: insert, delete, replace or duplicate a slice."""
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randint(0, len(chars))
        action = rng.random()
        if action < 0.35:
            chars.insert(pos, rng.choice(ALPHABET))
        elif action < 0.6 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif action < 0.85 and chars:
            chars[min(pos, len(chars) - 1)] = rng.choice(ALPHABET)
        else:
            chars[pos:pos] = chars[pos : pos + rng.randint(1, 8)]
    return ''.join(chars)


def random_input(rng: random.Random):
    """A str or bytes input: mutated seed, random text, or random bytes."""
    choice = rng.random()
    if choice < 0.5:
        return mutate(rng, rng.choice(SEEDS))
    if choice < 0.8:
        return ''.join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 40)))
    return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))


def calls(rng: random.Random, value):
    """The codec calls to compare for one input."""
    text = value if isinstance(value, str) else value.decode('latin-1')
    yield 'decode_packet', (value, safe_json.loads)
    yield 'decode_packet', (value, json.loads)
    yield 'split_payload', (value, rng.choice([None, 1, 3, 1000]), rng.choice([None, 8, 10000]))
    yield 'b64_decode', (text,)
    yield 'utf8_len', (text,)
    yield 'negotiate_encoding', (text, ['gzip', 'deflate'])
    yield 'jsonp_wrap', (text, rng.randint(0, 99))
    yield 'encode_payload_bytes', ([text, '4x'], rng.choice([None, 1]))
    yield 'encode_packet', (rng.randint(0, 9), value, rng.random() < 0.5, json.dumps)
    raw = value if isinstance(value, bytes) else value.encode('utf-8', 'surrogatepass')
    yield 'b64_encode', (raw,)
    yield 'decompress', (raw, rng.choice(['gzip', 'deflate']), 1000)
    yield 'decompress', (zlib.compress(raw)[: rng.randint(0, 40)], 'deflate', 1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--count', type=int, default=1_000_000)
    parser.add_argument('--seconds', type=float, default=600.0)
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()
    done = 0
    while done < args.count and time.monotonic() - started < args.seconds:
        value = random_input(rng)
        for name, call_args in calls(rng, value):
            c = outcome(getattr(codec_c, name), *call_args)
            py = outcome(getattr(codec_py, name), *call_args)
            if c != py:
                print('MISMATCH %s%r\n  c:  %r\n  py: %r' % (name, call_args, c, py))
                return 1
            if c[0] == 'raise' and not issubclass(c[1], ALLOWED) and c[1] is not TypeError:
                print('LEAKED %s%r: %r' % (name, call_args, c))
                return 1
        done += 1
    elapsed = time.monotonic() - started
    print(
        '%d inputs (12 calls each) in %.1f s: twins agree, no foreign exception (%s)'
        % (done, elapsed, codec_c.__file__)
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
