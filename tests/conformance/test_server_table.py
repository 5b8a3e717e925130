"""The "Tested HTTP servers" table of docs/serving/index.md lists exactly the rows tested."""

from __future__ import annotations

from pathlib import Path

from conformance_rows import ROWS, TABLE_NAMES

PAGE = Path(__file__).resolve().parent.parent.parent / 'docs' / 'serving' / 'index.md'


def _table() -> dict[str, list[str]]:
    """The table's rows by server name: ``[async_mode, command, deflate, notes]``."""
    text = PAGE.read_text()
    section = text.split('## Tested HTTP servers', 1)[1].split('\n## ', 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if line.startswith('|') and len(cells) == 5 and cells[0] not in ('server', '---'):
            rows[cells[0]] = cells[1:]
    return rows


def test_the_table_lists_every_tested_server_once():
    assert sorted(_table()) == sorted(TABLE_NAMES[row.id] for row in ROWS)


def test_the_table_modes_and_deflate_match_the_tests():
    table = _table()
    for row in ROWS:
        mode, _, deflate, _ = table[TABLE_NAMES[row.id]]
        assert (mode, deflate) == ('`%s`' % row.mode, 'yes' if row.deflate else 'no'), row.id
