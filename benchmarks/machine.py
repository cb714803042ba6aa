"""What every benchmark records beside its figures: the machine, the versions and how busy it was."""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np


def describe() -> dict[str, Any]:
    """Platform, processor, cores, Python, NumPy, matplotlib (when installed), nnopt and the load average."""
    from nnopt_cli import __version__

    out: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "nnopt": __version__,
        "load_average": os.getloadavg(),
    }
    try:
        import matplotlib

        out["matplotlib"] = matplotlib.__version__
    except ImportError:
        pass
    return out
