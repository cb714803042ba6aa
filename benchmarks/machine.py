"""What every benchmark records beside its figures (the machine, the versions, how busy it was), and how it
writes them."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
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


def save(report: dict[str, Any], path: Path) -> None:
    """Write a benchmark's report as JSON, with the machine's description under "machine"."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**report, "machine": describe()}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
