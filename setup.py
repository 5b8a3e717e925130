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
PYX_MODULES = ['engineio_fast._codec_c', 'engineio_fast._ws_c']


class OptionalBuildExt(build_ext):
    """build_ext that compiles on every core and falls back to pure Python on failure."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

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
            'the pure-Python code will be used.',
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
        print('WARNING: Cython not found; installing pure Python only.', file=sys.stderr)
        return []
    sources = [name.replace('.', '/') + '.pyx' for name in PYX_MODULES]
    built = cythonize(sources, compiler_directives={'language_level': 3}, quiet=True)
    if os.name == 'posix':  # gcc and clang: no debug info, a sixth of the size
        for extension in built:
            extension.extra_compile_args.append('-g0')
    return built


setup(ext_modules=extensions(), cmdclass={'build_ext': OptionalBuildExt})
