"""``static_files.get_static_file``: lookup rules (H-07) and traversal refusal (H-08).

Every test works on real files under ``tmp_path``: a ``public`` directory that
is mapped, and a ``secret`` file next to it that must never be reachable.
"""

from __future__ import annotations

import os

import pytest

from engineio_fast import static_files
from engineio_fast.static_files import content_types, get_static_file


@pytest.fixture
def site(tmp_path):
    """``tmp_path/public`` with a few files, and ``tmp_path/secret`` outside it."""
    public = tmp_path / 'public'
    (public / 'css').mkdir(parents=True)
    (public / 'docs').mkdir()
    (public / 'index.html').write_text('<html>root</html>')
    (public / 'app.js').write_text('app()')
    (public / 'css' / 'site.css').write_text('body {}')
    (public / 'docs' / 'index.html').write_text('<html>docs</html>')
    (public / 'docs' / 'start.htm').write_text('start')
    (tmp_path / 'secret').write_text('TOP SECRET')
    return tmp_path


def test_content_types_cover_the_upstream_extensions():
    """H-07: the extension table has python-engineio's eight entries."""
    assert content_types == {
        'css': 'text/css',
        'gif': 'image/gif',
        'html': 'text/html',
        'jpg': 'image/jpeg',
        'js': 'application/javascript',
        'json': 'application/json',
        'png': 'image/png',
        'txt': 'text/plain',
    }


def test_module_exposes_the_upstream_names():
    """C-02: ``get_static_file`` and ``content_types`` live in ``static_files``."""
    assert static_files.get_static_file is get_static_file
    assert static_files.content_types is content_types


@pytest.mark.parametrize(
    'name, expected',
    [
        ('a.html', 'text/html'),
        ('a.css', 'text/css'),
        ('a.js', 'application/javascript'),
        ('a.json', 'application/json'),
        ('a.jpg', 'image/jpeg'),
        ('a.png', 'image/png'),
        ('a.gif', 'image/gif'),
        ('a.txt', 'text/plain'),
        ('a.bin', 'application/octet-stream'),
        ('a.tar.gz', 'application/octet-stream'),
        ('noext', 'application/octet-stream'),
    ],
)
def test_content_type_follows_the_extension(name, expected):
    """H-07: the type comes from the extension; unknown → application/octet-stream."""
    assert get_static_file('/f', {'/f': name}) == {'filename': name, 'content_type': expected}


def test_extension_is_taken_from_the_last_path_segment():
    """H-07: a dot in a directory name is not an extension."""
    result = get_static_file('/v/js', {'/v': 'dist.v2'})
    assert result == {'filename': 'dist.v2/js', 'content_type': 'application/octet-stream'}


def test_exact_key_maps_a_file(site):
    """H-07: an exact key maps that URL to the given file."""
    index = str(site / 'public' / 'index.html')
    assert get_static_file('/', {'/': index}) == {'filename': index, 'content_type': 'text/html'}


def test_exact_key_wins_over_a_directory_prefix(site):
    """H-07: the exact key is looked up before any prefix."""
    public = str(site / 'public')
    special = str(site / 'public' / 'app.js')
    mapping = {'/static': public, '/static/index.html': special}
    assert get_static_file('/static/index.html', mapping)['filename'] == special


def test_dict_value_with_content_type(site):
    """H-07: a dict value gives the filename and its own content type."""
    index = str(site / 'public' / 'index.html')
    mapping = {'/page': {'filename': index, 'content_type': 'text/plain'}}
    assert get_static_file('/page', mapping) == {'filename': index, 'content_type': 'text/plain'}


def test_dict_value_without_content_type_gets_one_from_the_extension(site):
    """H-07: a dict value without ``content_type`` is typed by extension."""
    index = str(site / 'public' / 'index.html')
    assert get_static_file('/page', {'/page': {'filename': index}})['content_type'] == 'text/html'


def test_dict_value_is_not_mutated(site):
    """H-07: the mapping can be reused; lookups never change its entries."""
    public = str(site / 'public')
    entry = {'filename': public}
    mapping = {'/static': entry}
    get_static_file('/static/app.js', mapping)
    get_static_file('/static/css/site.css', mapping)
    assert entry == {'filename': public}


@pytest.mark.parametrize('key', ['/static', '/static/'])
def test_directory_prefix_appends_the_rest_of_the_path(site, key):
    """H-07: a prefix key (with or without trailing slash) maps a directory."""
    public = str(site / 'public')
    result = get_static_file('/static/css/site.css', {key: public})
    assert result == {'filename': public + '/css/site.css', 'content_type': 'text/css'}


def test_directory_value_with_trailing_slash_gets_no_double_slash(site):
    """H-07: ``dir/`` + ``/file`` joins as ``dir/file``."""
    public = str(site / 'public') + '/'
    result = get_static_file('/static/app.js', {'/static': public})
    assert result['filename'] == public + 'app.js'


def test_longest_prefix_wins(site):
    """H-07: the longest mapped prefix decides the directory."""
    public = str(site / 'public')
    docs = str(site / 'public' / 'docs')
    mapping = {'/': public + '/', '/static/docs': docs}
    assert get_static_file('/static/docs/start.htm', mapping)['filename'] == docs + '/start.htm'
    assert get_static_file('/css/site.css', mapping)['filename'] == public + '/css/site.css'


def test_prefix_matches_whole_segments_only(site):
    """H-07: ``/static`` does not map ``/staticfoo``."""
    assert get_static_file('/staticfoo', {'/static': str(site / 'public')}) is None


def test_unmapped_path_is_none(site):
    """H-07: no exact key and no prefix → None."""
    assert get_static_file('/other/app.js', {'/static': str(site / 'public')}) is None


def test_empty_path_is_none(site):
    """H-07: an empty path is no URL; the ``''`` entry names the index file only."""
    assert get_static_file('', {'': 'index.html', '/': str(site / 'public') + '/'}) is None


def test_directory_request_gets_index_html(site):
    """H-07: a name ending in ``/`` gets ``index.html`` when there is no ``''`` entry."""
    public = str(site / 'public')
    result = get_static_file('/static/docs/', {'/static': public})
    assert result == {'filename': public + '/docs/index.html', 'content_type': 'text/html'}


def test_mapped_directory_itself_gets_index_html(site):
    """H-07: ``/static/`` on a ``/static`` mapping serves the directory's index."""
    public = str(site / 'public')
    assert get_static_file('/static/', {'/static': public})['filename'] == public + '/index.html'
    assert get_static_file('/', {'/': public + '/'})['filename'] == public + '/index.html'


def test_empty_key_string_names_the_index_file(site):
    """H-07: a string ``''`` entry replaces ``index.html``."""
    public = str(site / 'public')
    result = get_static_file('/static/docs/', {'/static': public, '': 'start.htm'})
    assert result == {
        'filename': public + '/docs/start.htm',
        'content_type': 'application/octet-stream',
    }


def test_empty_key_dict_content_type_applies(site):
    """H-07: a dict ``''`` entry gives the index name and its content type."""
    public = str(site / 'public')
    mapping = {'/static': public, '': {'filename': 'start.htm', 'content_type': 'text/html'}}
    result = get_static_file('/static/docs/', mapping)
    assert result == {'filename': public + '/docs/start.htm', 'content_type': 'text/html'}


def test_empty_key_dict_without_content_type_uses_the_extension(site):
    """H-07: a dict ``''`` entry without ``content_type`` is typed by extension."""
    public = str(site / 'public')
    result = get_static_file('/static/docs/', {'/static': public, '': {'filename': 'x.json'}})
    assert result['content_type'] == 'application/json'


def test_empty_key_does_not_shadow_a_root_mapping(site):
    """H-07: with ``'/'`` mapping a directory, the ``''`` index entry is no URL prefix.

    python-engineio matches ``''`` as a prefix before ``'/'`` and answers
    ``index.html/css/site.css`` here.
    """
    public = str(site / 'public') + '/'
    result = get_static_file('/css/site.css', {'/': public, '': 'index.html'})
    assert result['filename'] == public + 'css/site.css'


def test_missing_file_is_still_described(site):
    """H-07: existence is the app's check (it then falls through)."""
    public = str(site / 'public')
    result = get_static_file('/static/nope.txt', {'/static': public})
    assert result == {'filename': public + '/nope.txt', 'content_type': 'text/plain'}


@pytest.mark.parametrize(
    'path',
    [
        '/static/../secret',
        '/static/..',
        '/static/css/../../secret',
        '/static/%2e%2e/secret',
        '/static/%2E%2E/secret',
        '/static/.%2e/secret',
        '/static/..%2fsecret',
        '/static/%252e%252e/secret',
        '/static/..\\secret',
        '/static/css\\..\\..\\secret',
        '/static/%2e%2e%5csecret',
        '/static/app.js\x00.png',
        '/static/app.js%00.png',
        '/../secret',
    ],
)
def test_traversal_forms_are_refused(site, path):
    """H-08: ``..`` segments (literal, percent-decoded, backslashed) and NUL → None."""
    public = str(site / 'public')
    assert get_static_file(path, {'/static': public, '/': public + '/'}) is None


def test_dot_dot_inside_a_name_is_not_a_segment(site):
    """H-08: only a whole ``..`` segment is traversal; ``a..b`` is a plain name."""
    public = str(site / 'public')
    result = get_static_file('/static/a..b.txt', {'/static': public})
    assert result['filename'] == public + '/a..b.txt'


def test_symlinked_file_escaping_the_directory_is_refused(site):
    """H-08: a symlink inside the mapped directory pointing outside → None."""
    link = site / 'public' / 'leak.txt'
    link.symlink_to(site / 'secret')
    assert os.path.isfile(link)
    assert get_static_file('/static/leak.txt', {'/static': str(site / 'public')}) is None


def test_symlinked_directory_escaping_the_directory_is_refused(site):
    """H-08: a directory symlink leading outside → None for files under it."""
    (site / 'public' / 'up').symlink_to(site)
    assert os.path.isfile(site / 'public' / 'up' / 'secret')
    assert get_static_file('/static/up/secret', {'/static': str(site / 'public')}) is None


def test_symlinked_index_escaping_the_directory_is_refused(site):
    """H-08: the index file appended to a directory request is checked too."""
    (site / 'public' / 'out').mkdir()
    (site / 'public' / 'out' / 'index.html').symlink_to(site / 'secret')
    assert get_static_file('/static/out/', {'/static': str(site / 'public')}) is None


def test_symlink_staying_inside_the_directory_is_served(site):
    """H-08: symlinks that resolve inside the mapped directory are fine."""
    (site / 'public' / 'alias.js').symlink_to(site / 'public' / 'app.js')
    public = str(site / 'public')
    result = get_static_file('/static/alias.js', {'/static': public})
    assert result == {'filename': public + '/alias.js', 'content_type': 'application/javascript'}


def test_mapped_directory_may_itself_be_a_symlink(site):
    """H-08: containment is checked against the resolved mapped directory."""
    (site / 'www').symlink_to(site / 'public')
    www = str(site / 'www')
    assert get_static_file('/static/app.js', {'/static': www})['filename'] == www + '/app.js'


def test_exact_key_may_name_any_file(site):
    """H-08: an exact mapping is the owner's choice; only directory mappings are confined."""
    secret = str(site / 'secret')
    assert get_static_file('/s', {'/s': secret})['filename'] == secret


def test_relative_directory_is_resolved_against_the_working_directory(site, monkeypatch):
    """H-07/H-08: relative mapped names work as in python-engineio, and stay confined."""
    monkeypatch.chdir(site)
    assert get_static_file('/static/app.js', {'/static': 'public'})['filename'] == 'public/app.js'
    (site / 'public' / 'leak').symlink_to(site / 'secret')
    assert get_static_file('/static/leak', {'/static': 'public'}) is None
