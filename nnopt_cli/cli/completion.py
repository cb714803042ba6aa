"""What the shell completes, through Click's own mechanism (`eval "$(_NNOPT_COMPLETE=bash_source nnopt)"`).

- `--set` and `--grid`: the config key paths (`optimizer.lr=`), and after the `=` the values of a key that
  has a finite set of them (`optimizer.name=adam`; in a `--grid` list, the next value after a comma). The
  keys are config.declared(), their values what each key's own check accepts (`Key.choices`).
- a config argument: the shipped examples (nnopt_cli.examples) and the .yaml files and folders of the path.
- a run: the folders under the runs root (`--runs-root`, default runs), as `nnopt show` resolves them.

bash and zsh add no space after an answer that ends in `=` or `/`, so the value or the rest of the path
follows (bash also breaks words at `=` and `:`: `_Bash` joins them again). Completing a run or a config
file never imports numpy; completing a key does (the components declare their keys beside their numbers);
nothing imports matplotlib.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from click.shell_completion import (
    BashComplete,
    CompletionItem,
    ZshComplete,
    add_completion_class,
    split_arg_string,
)

_CONFIG_SUFFIXES = (".yaml", ".yml")
_BREAKS = ("=", ":")  # where bash breaks words (COMP_WORDBREAKS): `--set a.b=c`, `compare sgdm:beta=0.9`


def key_values(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """`--set`: a key path, or after its `=` one of the key's values."""
    return _keys_or_values(incomplete, listing=False)


def grid_values(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """`--grid`: a key path, or after its `=` the next value of a comma list (`optimizer.name=sgd,ad`)."""
    return _keys_or_values(incomplete, listing=True)


def _keys_or_values(incomplete: str, *, listing: bool) -> list[CompletionItem]:
    from nnopt_cli import config

    path, equals, value = incomplete.partition("=")
    if not equals:
        return [CompletionItem(f"{p}=") for p in config.key_paths() if p.startswith(incomplete)]
    key = config.by_path().get(path)
    if key is None:
        return []
    done, comma, last = value.rpartition(",") if listing else ("", "", value)
    before = f"{path}={done}{comma}"
    texts = [_yaml_text(v) for v in key.choices()]
    return [CompletionItem(before + t) for t in texts if t.startswith(last)]


def _yaml_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def config_files(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """A config: the example names, and the .yaml files and folders the path leads to."""
    from nnopt_cli import examples

    found = [CompletionItem(n) for n in examples.names() if n.startswith(incomplete)]
    return found + _paths(incomplete, files=_CONFIG_SUFFIXES)


def compare_entries(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """A compare entry: an optimizer name, then what a config argument completes to (an example named as an
    optimizer is that optimizer here); after `NAME:` (or a `,` there) one of that optimizer's settings,
    `sgdm:beta=`, and after its `=` the setting's values where they are a finite set."""
    from nnopt_cli import config

    names = [str(n) for n in config.by_path()["optimizer.name"].choices()]
    head, colon, rest = incomplete.partition(":")
    if colon and head in names:
        return _entry_settings(head, rest)
    own = [CompletionItem(n) for n in names if n.startswith(incomplete)]
    return own + [c for c in config_files(ctx, param, incomplete) if c.value not in names]


def _entry_settings(optimizer: str, typed: str) -> list[CompletionItem]:
    """`sgdm:lr=0.01,b` -> `sgdm:lr=0.01,beta=`; `momentum:nesterov=t` -> `momentum:nesterov=true`."""
    from nnopt_cli import config
    from nnopt_cli.experiments import compare

    done, comma, last = typed.rpartition(",")
    before = f"{optimizer}:{done}{comma}"
    key, equals, value = last.partition("=")
    if not equals:
        given = {item.partition("=")[0] for item in done.split(",")}
        keys = [k for k in compare.entry_settings(optimizer) if k.startswith(key) and k not in given]
        return [CompletionItem(f"{before}{k}=") for k in keys]
    found = config.by_path().get(f"optimizer.{key}")
    texts = [_yaml_text(v) for v in found.choices()] if found is not None else []
    return [CompletionItem(f"{before}{key}={t}") for t in texts if t.startswith(value)]


def example_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """An example's name."""
    from nnopt_cli import examples

    return [CompletionItem(n) for n in examples.names() if n.startswith(incomplete)]


def run_folders(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """A run: the folders under the runs root whose name starts with what is typed; a path: its folders."""
    from nnopt_cli.store import folders

    if os.sep in incomplete or incomplete.startswith("."):
        return _paths(incomplete, files=())
    root = ctx.params.get("runs_root") or Path("runs")
    try:
        names = folders.names_under(root)
    except OSError:
        names = []
    under = [CompletionItem(n) for n in names if n.startswith(incomplete)]
    return under or _paths(incomplete, files=())


def _paths(incomplete: str, *, files: tuple[str, ...]) -> list[CompletionItem]:
    """The folders (with a trailing /) and the files ending in one of `files` that `incomplete` starts."""
    folder, sep, start = incomplete.rpartition(os.sep)
    prefix = folder + sep  # "" for a bare word, "/" for the root
    where = Path(prefix or ".")
    try:
        entries = sorted(os.scandir(where), key=lambda e: e.name)
    except OSError:
        return []
    out = []
    for entry in entries:
        if not entry.name.startswith(start) or (entry.name.startswith(".") and not start.startswith(".")):
            continue
        if entry.is_dir():
            out.append(CompletionItem(f"{prefix}{entry.name}{os.sep}"))
        elif entry.name.endswith(files):
            out.append(CompletionItem(f"{prefix}{entry.name}"))
    return out


class _Bash(BashComplete):
    """Click's bash completion, adjusted to bash's word breaks at `=`.

    bash splits `--set optimizer.name=ad` into `optimizer.name`, `=`, `ad` and replaces only the part after
    the last `=`: the words are joined again before Click parses them, the part up to the `=` is left out of
    each answer, and an answer that ends in `=` or `/` (a key path, a folder) gets no space after it."""

    source_template = BashComplete.source_template.replace(
        "COMPREPLY+=($value)",
        "COMPREPLY+=($value)\n            [[ $value == *[=/] ]] && compopt -o nospace",
    )

    typed = ""  # the part of the word being completed that bash keeps (up to its last `=` or `:`)

    def get_completion_args(self) -> tuple[list[str], str]:
        words = split_arg_string(os.environ["COMP_WORDS"])
        cword = int(os.environ["COMP_CWORD"])
        words = words[1 : cword + 1] + ([""] if cword >= len(words) else [])
        joined: list[str] = []
        glue = False  # the word after an `=` (or a `:`) continues the word before it
        for word in words:
            if word in _BREAKS and joined:
                joined[-1] += word
                glue = True
            elif glue:
                joined[-1] += word
                glue = False
            else:
                joined.append(word)
        incomplete = joined.pop() if joined else ""
        cut = max(incomplete.rfind(b) for b in _BREAKS) + 1
        self.typed = incomplete[:cut]
        return joined, incomplete

    def format_completion(self, item: CompletionItem) -> str:
        value = item.value
        if self.typed and value.startswith(self.typed):
            value = value[len(self.typed) :]
        return f"{item.type},{value}"


class _Zsh(ZshComplete):
    """Click's zsh completion, with no space after an answer that ends in `=` or `/` (a key path, a folder):
    the value or the rest of the path follows it."""

    source_template = (
        ZshComplete.source_template.replace(
            "    local -a completions\n", "    local -a completions\n    local -a completions_nospace\n"
        )
        .replace(
            '            if [[ "$descr" == "_" ]]; then',
            '            if [[ "$key" == *[=/] ]]; then\n'
            '                completions_nospace+=("$key")\n'
            '            elif [[ "$descr" == "_" ]]; then',
        )
        .replace(
            '    if [ -n "$completions" ]; then',
            '    if [ -n "$completions_nospace" ]; then\n'
            "        compadd -U -S '' -V unsorted -a completions_nospace\n"
            "    fi\n\n"
            '    if [ -n "$completions" ]; then',
        )
    )


def install() -> None:
    """Use `_Bash` and `_Zsh` (fish adds no space after `=` or `/` itself: Click's own class serves it)."""
    add_completion_class(_Bash, "bash")
    add_completion_class(_Zsh, "zsh")
