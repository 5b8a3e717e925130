"""Finding ``MODULE:APP`` as uvicorn does."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any


class AppNotFound(ImportError):
    """``MODULE:APP`` names nothing importable."""


def import_app(target: str, app_dir: str = '.', factory: bool = False) -> Any:
    """The object ``module:attribute`` (dotted attributes allowed) names."""
    module_name, _, attribute = target.partition(':')
    if not module_name or not attribute:
        raise AppNotFound('expected MODULE:APP, got %r' % target)
    sys.path.insert(0, os.path.abspath(app_dir))
    module = importlib.import_module(module_name)
    app: Any = module
    for name in attribute.split('.'):
        try:
            app = getattr(app, name)
        except AttributeError:
            raise AppNotFound('%r has no attribute %r' % (module_name, attribute)) from None
    return app() if factory else app
