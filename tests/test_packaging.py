"""Packaging (issue 18): the installed distribution describes the package that is imported."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest

import engineio_fast

ROOT = Path(__file__).resolve().parent.parent


def test_installed_metadata_version_is_the_package_version():
    """The version is written once (``__version__``); pip and the package agree on it."""
    try:
        version = importlib.metadata.version('engineio-fast')
    except importlib.metadata.PackageNotFoundError:
        pytest.fail('engineio-fast is not installed: pip install a wheel, or -e .', pytrace=False)
    assert version == engineio_fast.__version__


def test_pyproject_reads_the_version_from_the_package():
    """pyproject.toml holds no second copy of the version number."""
    pyproject = (ROOT / 'pyproject.toml').read_text()
    project = pyproject.split('[project]', 1)[1].split('\n[', 1)[0]
    assert re.search(r'^dynamic = \[.*"version".*\]$', project, re.M), project
    assert not re.search(r'^version\s*=', project, re.M), project
    assert 'version = { attr = "engineio_fast.__version__" }' in pyproject
    assert re.fullmatch(r'\d+\.\d+\.\d+([ab]|rc|\.dev)?\d*', engineio_fast.__version__)
