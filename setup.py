"""Build script: compiles the Cython extensions when it can.

Two kinds: the ``.pyx`` twins (codec, WebSocket framing) and the session-flow
``.py`` modules listed in ``engineio_fast/_extensions.py`` (COMPILED_MODULES).

ENGINEIO_FAST_NO_EXTENSIONS=1 skips the extension (pure-Python install);
ENGINEIO_FAST_BUILD_EXTENSION=yes makes a failed build fatal instead of
falling back to the pure-Python twin.
"""

import ast
import os
import platform
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

NO_EXTENSIONS = os.environ.get('ENGINEIO_FAST_NO_EXTENSIONS', '') not in ('', '0')
MUST_BUILD = os.environ.get('ENGINEIO_FAST_BUILD_EXTENSION', '') == 'yes'
PYX_MODULES = ['engineio_fast._codec_c', 'engineio_fast._ws_c']
# The flow modules stay plain Python: annotations are not C types, and functions
# keep Python semantics (introspection, patching), only their bytecode is gone.
FLOW_DIRECTIVES = {'language_level': 3, 'annotation_typing': False, 'binding': True}


def compiled_flow_modules():
    """COMPILED_MODULES from engineio_fast/_extensions.py, read without importing it."""
    source = Path(__file__).with_name('engineio_fast') / '_extensions.py'
    tree = ast.parse(source.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == ['COMPILED_MODULES']:
            return list(ast.literal_eval(node.value))
    raise RuntimeError('COMPILED_MODULES not found in engineio_fast/_extensions.py')


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
    pyx = [name.replace('.', '/') + '.pyx' for name in PYX_MODULES]
    flow = [name.replace('.', '/') + '.py' for name in compiled_flow_modules()]
    built = cythonize(pyx, compiler_directives={'language_level': 3}, quiet=True) + cythonize(
        flow, compiler_directives=FLOW_DIRECTIVES, quiet=True
    )
    if os.name == 'posix':  # gcc and clang: no debug info, a sixth of the size
        for extension in built:
            extension.extra_compile_args.append('-g0')
    return built


setup(ext_modules=extensions(), cmdclass={'build_ext': OptionalBuildExt})
