"""The README's "Supported HTTP servers" table lists exactly the rows tested, as tested."""

from __future__ import annotations

from pathlib import Path

from conformance_rows import README_NAMES, ROWS

README = Path(__file__).resolve().parent.parent.parent / 'README.md'


def _table() -> dict[str, list[str]]:
    """The table's rows by server name: ``[async_mode, command, deflate, notes]``."""
    text = README.read_text()
    section = text.split('## Supported HTTP servers', 1)[1].split('\n## ', 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if line.startswith('|') and len(cells) == 5 and cells[0] not in ('server', '---'):
            rows[cells[0]] = cells[1:]
    return rows


def test_readme_lists_every_tested_server_once():
    assert sorted(_table()) == sorted(README_NAMES[row.id] for row in ROWS)


def test_readme_modes_and_deflate_match_the_tests():
    table = _table()
    for row in ROWS:
        mode, _, deflate, _ = table[README_NAMES[row.id]]
        assert (mode, deflate) == ('`%s`' % row.mode, 'yes' if row.deflate else 'no'), row.id
