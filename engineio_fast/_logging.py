"""The ``logger`` option of servers and clients."""
# S-01, CL-01

from __future__ import annotations

import logging
from typing import Any


def choose_logger(logger: Any, default: logging.Logger) -> logging.Logger:
    """A given Logger, or ``default`` at INFO (True) or ERROR (False).

    The default logger gets a stream handler the first time, unless the
    application configured its level already.
    """
    if not isinstance(logger, bool):
        return logger
    if default.level == logging.NOTSET:
        default.setLevel(logging.INFO if logger else logging.ERROR)
        default.addHandler(logging.StreamHandler())
    return default
