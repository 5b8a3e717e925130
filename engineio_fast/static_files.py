"""Map request paths to local static files, refusing path traversal.

A mapping key is either an exact URL path (``'/'``, ``'/index.html'``) or a URL
prefix that stands for a directory (``'/static'``); the empty key ``''`` names
the file served for a directory request (``index.html`` when absent).
``open_static_file`` also opens the file for the WSGI and ASGI apps, which
stream it in ``CHUNK_SIZE`` pieces.
"""
# H-07, H-08

from __future__ import annotations

import os
import stat
from typing import IO, Any
from urllib.parse import unquote

content_types = {
    'css': 'text/css',
    'gif': 'image/gif',
    'html': 'text/html',
    'jpg': 'image/jpeg',
    'js': 'application/javascript',
    'json': 'application/json',
    'png': 'image/png',
    'txt': 'text/plain',
}

DEFAULT_CONTENT_TYPE = 'application/octet-stream'
INDEX_FILE = 'index.html'
# H-09
#: Largest piece of a static file read and sent at once.
CHUNK_SIZE = 64 * 1024


def get_static_file(path, static_files):
    """Find the local file and content type that a request path maps to.

    :param path: the path of the requested URL (``PATH_INFO``).
    :param static_files: the static file mapping: URL path or URL prefix to a
                         filename or directory name, or to a dictionary with
                         ``filename`` and optional ``content_type`` keys. The
                         ``''`` key gives the file served for URLs ending in
                         ``/`` (``index.html`` when missing).

    Returns a dictionary with ``filename`` and ``content_type`` keys, or
    ``None`` when the path matches no entry or tries to leave a mapped
    directory. The file is not required to exist.
    """
    if not path or _is_unsafe(path):
        return None
    if path in static_files:
        entry, extra_path = static_files[path], ''
    else:
        found = _longest_prefix(path, static_files)
        if found is None:
            return None
        entry, extra_path = found
    if not entry:
        return None
    result = {'filename': entry} if isinstance(entry, str) else dict(entry)
    base = result['filename']
    if base.endswith('/') and extra_path.startswith('/'):
        extra_path = extra_path[1:]
    filename = base + extra_path
    if filename.endswith('/'):
        index = static_files.get('', INDEX_FILE)
        if isinstance(index, str):
            filename += index
        else:
            filename += index['filename']
            if 'content_type' in index:
                result['content_type'] = index['content_type']
    if filename != base and not _is_inside(filename, base):
        return None
    result['filename'] = filename
    if 'content_type' not in result:
        result['content_type'] = _content_type(filename)
    return result


def _longest_prefix(path: str, static_files: dict) -> tuple[Any, str] | None:
    """The entry of the longest key that is a directory prefix of ``path``, and the rest."""
    prefix = path
    while prefix:
        prefix, _, _ = prefix.rpartition('/')
        # The '' key names the index file, not a URL prefix: matching it here
        # would shadow a '/' root mapping (python-engineio does that).
        for key in (prefix, prefix + '/'):
            if key and key in static_files:
                return static_files[key], path[len(prefix) :]
    return None


def _is_unsafe(path: str) -> bool:
    """Whether the path holds a NUL byte or a ``..`` segment, also once percent-decoded."""
    seen = set()
    while path not in seen:
        seen.add(path)
        if '\x00' in path:
            return True
        # Backslashes separate segments on Windows, so '..\\x' climbs there too.
        if '..' in path.replace('\\', '/').split('/'):
            return True
        # Servers decode PATH_INFO once; decoding again catches '%2e%2e' sent
        # encoded twice, and repeating until stable catches any depth.
        path = unquote(path)
    return False


def _is_inside(filename: str, directory: str) -> bool:
    """Whether ``filename``, with symlinks resolved, lies inside ``directory``."""
    real_dir = os.path.normcase(os.path.realpath(directory))
    real_file = os.path.normcase(os.path.realpath(filename))
    if real_file == real_dir:
        return True
    return real_file.startswith(real_dir.rstrip(os.sep) + os.sep)


def _content_type(filename: str) -> str:
    """The content type for a file name, from the extension of its last segment."""
    name = filename.rsplit('/', 1)[-1]
    if '.' not in name:
        return DEFAULT_CONTENT_TYPE
    return content_types.get(name.rsplit('.', 1)[-1].lower(), DEFAULT_CONTENT_TYPE)


def open_static_file(path: str, static_files: dict) -> tuple[IO[bytes], str, int] | None:
    """The open regular file, content type and size a path maps to; None if none."""
    static_file = get_static_file(path, static_files)
    # Checked before opening: opening a FIFO would block, and a directory
    # opens fine on POSIX but has no content to send.
    if static_file is None or not os.path.isfile(static_file['filename']):
        return None
    try:
        f = open(static_file['filename'], 'rb')
    except OSError:
        return None
    try:
        info = os.fstat(f.fileno())
    except OSError:
        f.close()
        return None
    # The file may have been replaced since the check above.
    if not stat.S_ISREG(info.st_mode):
        f.close()
        return None
    return f, static_file['content_type'], info.st_size
