"""bench/e2e/run.py's charts (issue 18): drawn from a small synthetic results dict.

Needs matplotlib (the ``bench`` extra): without it the test fails, it does not skip.
No display is needed: the charts are drawn on matplotlib's Agg canvas, without pyplot.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / 'e2e'))

import run  # noqa: E402 - bench/e2e/run.py

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def synthetic(modes: list[str]) -> run.Settings:
    """Two rounds of made-up medians for two scenarios, every server of ``modes``."""
    results = {}
    for s, name in enumerate(('ws_echo_10', 'polling_connect')):
        for mode in modes:
            for i, lib in enumerate(run.MODE_LIBS[mode] + ('bare',)):
                results[(name, mode, lib)] = [
                    {'msgsPerSec': 1000.0 * (i + 1) * (s + 1) + r, 'serverCpuUsPerMsg': 10.0 + i}
                    for r in range(2)
                ]
    return run.stored_settings(results, {}, 'Synthetic results, no run.')


def test_write_charts_draws_one_png_per_chart(tmp_path, monkeypatch):
    monkeypatch.setattr(run, 'CHARTS_DIR', tmp_path)
    for marks, modes in (('e2e', ['asgi', 'threading']), ('e2e-native', ['asgi', 'native'])):
        paths = run.write_charts(synthetic(modes), marks)
        assert [p.name for p in paths] == ['%s-throughput.png' % marks, '%s-cpu.png' % marks]
        for path in paths:
            data = path.read_bytes()
            assert data.startswith(PNG_MAGIC)
            assert 10_000 < len(data) < 1_000_000
            assert b'Software' not in data  # no matplotlib version in the bytes
    assert len(list(tmp_path.iterdir())) == 4


def test_charts_are_the_same_bytes_when_redrawn(tmp_path, monkeypatch):
    monkeypatch.setattr(run, 'CHARTS_DIR', tmp_path)
    first = [p.read_bytes() for p in run.write_charts(synthetic(['asgi']), 'e2e')]
    second = [p.read_bytes() for p in run.write_charts(synthetic(['asgi']), 'e2e')]
    assert first == second


def test_charts_from_json_redraws_and_stores_the_results(tmp_path, monkeypatch):
    monkeypatch.setattr(run, 'CHARTS_DIR', tmp_path / 'charts')
    monkeypatch.setattr(run, 'REPO', tmp_path)
    dump = tmp_path / 'dump.json'
    run.save_results(synthetic(['asgi', 'native']), dump)
    run.main(['--charts-from', str(dump)])
    names = sorted(p.name for p in (tmp_path / 'charts').iterdir())
    assert names == ['e2e-native-cpu.png', 'e2e-native-throughput.png', 'e2e-native.json']
    results, meta = run.load_results(tmp_path / 'charts' / 'e2e-native.json')
    assert meta['note'] == 'Synthetic results, no run.'
    assert results == run.load_results(dump)[0]


def test_the_reported_command_leaves_out_the_local_json_dump():
    argv = ['--write', '--json', '/tmp/x.json', '--modes', 'asgi', '--json=/tmp/y.json']
    assert run.shown_arguments(argv) == ['--write', '--modes', 'asgi']
