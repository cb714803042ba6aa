"""Fixtures shared by the test modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nnopt_cli.figures import plots


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every figure plots.save writes (still written to disk)."""
    figures: list[Any] = []
    original = plots.save

    def spy(fig: Any, path: Path) -> None:
        figures.append(fig)
        original(fig, path)

    monkeypatch.setattr(plots, "save", spy)
    return figures
