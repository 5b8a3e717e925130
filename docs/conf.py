"""Sphinx configuration of the engineio_fast documentation (issue 18).

The build is fully offline: no intersphinx, no remote images, and the furo
theme and MyST come from the installed packages (``pip install
'engineio-fast[docs]'``).  Build with warnings as errors::

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""

import os
import sys

# Document the engineio_fast of this checkout (its docstrings), even where
# another copy is installed: without its compiled extension in place the
# package runs on the pure-Python twin, which has the same API.
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, ROOT)
import engineio_fast  # noqa: E402

project = 'engineio_fast'
author = 'engineio_fast developers'
copyright = '2026, engineio_fast developers'
release = engineio_fast.__version__
version = release

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
]

source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build', 'Thumbs.db', '.DS_Store']

# MyST: ``` fences become code blocks; headings get anchors for cross-page links.
myst_enable_extensions = ['colon_fence', 'deflist']
myst_heading_anchors = 3

# The native transport's optional dependencies (the 'native' extra): the docs
# build needs only the 'docs' extra, so autodoc imports engineio_fast.native
# with stand-ins for them.
autodoc_mock_imports = ['httptools', 'uvloop']
autodoc_member_order = 'bysource'
autodoc_default_options = {'members': True, 'show-inheritance': False}
# Signatures show the annotations; the :param: lists carry the explanations.
autodoc_typehints = 'signature'

html_theme = 'furo'
html_title = 'engineio_fast %s' % release
# The benchmark charts are copied from bench/charts by the pages that show them
# (relative image paths: Sphinx copies each image into _images, no network).
html_static_path = []
html_show_sourcelink = False
