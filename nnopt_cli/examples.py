"""The example configs nnopt ships: where they are, their names, what each teaches, and how a config argument
resolves to a file. Every command that takes a config asks `resolve`; completion asks `names`.

An example's name is its path under the examples folder without `.yaml`: `adam`, `l2`, `iris/adam`. What it
teaches is the first line of its leading comment. The folder is the repository's `configs/`: a source
checkout (an editable install, or PYTHONPATH) reads it in place, and the wheel carries it as the package data
`nnopt_cli/configs/` (pyproject.toml maps that package to `configs/`, so there is one copy).

No numpy, no YAML: shell completion imports this module and must stay fast.
"""

from __future__ import annotations

import contextlib
import difflib
import os
from collections.abc import Sequence
from pathlib import Path

SUFFIX = ".yaml"
_PACKAGE = Path(__file__).resolve().parent


class ExampleError(ValueError):
    """A config argument that names no file and no example, or examples that cannot be copied; str() is one
    line."""


def folder() -> Path:
    """The folder holding the examples: the installed package's `configs/`, else the checkout's `configs/`."""
    shipped = _PACKAGE / "configs"
    return shipped if shipped.is_dir() else _PACKAGE.parent / "configs"


def names() -> tuple[str, ...]:
    """Every example's name: the top-level ones first, then each subfolder's (`iris/adam`), alphabetically."""
    root = folder()
    found = [p.relative_to(root).with_suffix("").as_posix() for p in root.rglob(f"*{SUFFIX}") if p.is_file()]
    return tuple(sorted(found, key=lambda n: (n.count("/"), n)))


def path(name: str) -> Path | None:
    """The file of the example `name`, or None when there is no such example."""
    return folder() / f"{name}{SUFFIX}" if name in names() else None


def summary(name: str) -> str:
    """What the example teaches: the first line of its leading comment ("" without one)."""
    file = path(name)
    if file is None:
        raise ExampleError(f"{name!r} is not an example; {hint(name)}")
    for line in file.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text.startswith("#"):
            return text.lstrip("#").strip()
        if text:
            break
    return ""


def resolve(config: str | Path) -> Path:
    """The file a config argument names: an existing path as given (it always wins), else the example of that
    name (`adam`, `iris/adam`).

    Raises:
      ExampleError: neither; the message names the nearest existing files and examples.
    """
    given = Path(config)
    if given.exists():
        return given
    found = path(given.as_posix())
    if found is not None:
        return found
    raise ExampleError(f"{config}: no such config file or example; {hint(str(config))}")


def is_example(word: str) -> bool:
    """`word` names a shipped example (and no existing file: a path always wins)."""
    return not Path(word).exists() and path(word) is not None


def nearest(word: str, limit: int = 3) -> list[str]:
    """The config files beside the path `word` names and the examples closest to it, best first.

    Compared both as written and without a `configs/` folder and a .yaml/.yml suffix, so `configs/l2.yml`
    finds `configs/l2.yaml` in a checkout and the example `l2` anywhere else."""
    candidates: dict[str, float] = {}
    parent = Path(word).parent
    try:
        beside = [e.name for e in os.scandir(parent) if e.is_file() and e.name.endswith((".yaml", ".yml"))]
    except OSError:
        beside = []
    for name in beside:
        shown = name if str(parent) == "." else (parent / name).as_posix()
        candidates[shown] = _likeness(word, shown) + 0.01  # an existing file first at equal likeness
    for name in names():
        candidates.setdefault(name, _likeness(word, name))
    close = [c for c in candidates if candidates[c] >= 0.6]
    # fewest edits first ("adma" is one swap from adam, two edits from adamax), only the closest
    edits = {c: _edits(_bare(word), _bare(c)) for c in close}
    ranked = sorted(close, key=lambda c: (edits[c], -candidates[c]))
    if not ranked:
        return []
    return [c for c in ranked if edits[c] == edits[ranked[0]]][:limit]


def _bare(word: str) -> str:
    word = word.replace(os.sep, "/")
    word = word.removeprefix("./").removeprefix("configs/")
    for suffix in (".yaml", ".yml"):
        word = word.removesuffix(suffix)
    return word


def _likeness(a: str, b: str) -> float:
    return max(
        difflib.SequenceMatcher(None, a, b).ratio(), difflib.SequenceMatcher(None, _bare(a), _bare(b)).ratio()
    )


def _edits(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of neighbours that turn `a` into `b`."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def _either(options: Sequence[str]) -> str:
    quoted = [repr(o) for o in options]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def hint(word: str) -> str:
    """ "did you mean 'l2'?" with the nearest names, else the list of examples."""
    close = nearest(word)
    return f"did you mean {_either(close)}?" if close else f"the examples are {', '.join(names())}"


def copy(destination: str | Path, chosen: Sequence[str] = ()) -> list[Path]:
    """Write the examples (all, or those `chosen`) into `destination`, keeping their subfolders, to edit.

    Nothing is overwritten and nothing is half-written: every target is checked first, and the files already
    written are removed again when one cannot be.

    Returns:
      The files written, in the order chosen (all: the order of `names()`).
    Raises:
      ExampleError: an unknown name, or a file that exists already (named).
      OSError: a file that cannot be written.
    """
    from nnopt_cli import files

    wanted = list(chosen) or list(names())
    for name in wanted:
        if path(name) is None:
            raise ExampleError(f"{name!r} is not an example; {hint(name)}")
    out = Path(destination)
    if out.exists() and not out.is_dir():
        raise ExampleError(f"{out}: exists and is not a folder")
    targets = {name: out / f"{name}{SUFFIX}" for name in wanted}
    for target in targets.values():
        if target.exists() or target.is_symlink():
            raise ExampleError(f"{target}: exists already; nothing was copied (choose another folder)")
    made: list[Path] = []
    written: list[Path] = []
    try:
        for name, target in targets.items():
            _make_folder(target.parent, made)
            source = path(name)
            assert source is not None
            with files.replacing(target, "wb") as f:
                f.write(source.read_bytes())
            written.append(target)
    except BaseException:
        for file in written:
            file.unlink(missing_ok=True)
        for made_folder in reversed(made):
            with contextlib.suppress(OSError):
                made_folder.rmdir()
        raise
    return written


def _make_folder(folder: Path, made: list[Path]) -> None:
    """Make `folder` and its missing parents, recording each made (to remove them again on failure)."""
    if folder.is_dir():
        return
    _make_folder(folder.parent, made)
    folder.mkdir()
    made.append(folder)
