"""Build script: compiles the Cython extensions (codec, WebSocket framing) when it can.

ENGINEIO_FAST_NO_EXTENSIONS=1 skips the extension (pure-Python install);
ENGINEIO_FAST_BUILD_EXTENSION=yes makes a failed build fatal instead of
falling back to the pure-Python twin.
"""

import os
import platform
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

NO_EXTENSIONS = os.environ.get('ENGINEIO_FAST_NO_EXTENSIONS', '') not in ('', '0')
MUST_BUILD = os.environ.get('ENGINEIO_FAST_BUILD_EXTENSION', '') == 'yes'
CYTHON_MODULES = ['engineio_fast._codec_c', 'engineio_fast._ws_c']


class OptionalBuildExt(build_ext):
    """build_ext that falls back to the pure-Python twin on failure."""

    def run(self):
        try:
            super().run()
        except Exception as exc:
            self._give_up(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._give_up(exc)

    def _give_up(self, exc):
        if MUST_BUILD:
            raise
        print(
            f'WARNING: engineio_fast extension not built ({exc}); '
            'the pure-Python codec will be used.',
            file=sys.stderr,
        )


def extensions():
    """The Cython extensions to build, or none when disabled or impossible."""
    if NO_EXTENSIONS or platform.python_implementation() != 'CPython':
        return []
    try:
        from Cython.Build import cythonize  # only needed when compiling
    except ImportError:
        if MUST_BUILD:
            raise
        print('WARNING: Cython not found; installing the pure-Python codec.', file=sys.stderr)
        return []
    sources = [name.replace('.', '/') + '.pyx' for name in CYTHON_MODULES]
    return cythonize(sources, compiler_directives={'language_level': 3}, quiet=True)


setup(ext_modules=extensions(), cmdclass={'build_ext': OptionalBuildExt})
