"""Benchmark: the apply_patch reader and planner, and lark on the same grammar (ADR 0155).

Standalone script (no pytest), figures measured in one run:
1. parse a generated 600-operation patch (~20,000 lines) with `parse_patch` and with a lark
   LALR parser of spec Appendix A's grammar (`bench/v4a_reference.lark`) that builds the same
   `Patch`; prints both and the ratio;
2. how many patches of the corpus (`fixtures/patches/`) each parser accepts;
3. plan a 40-hunk patch against a 20,000-line file, exact and with every context line's
   whitespace changed (the lenient levels).

    python bench/bench_patch.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lark import Lark, Token, Transformer

from attractor.agent.patch import (
    AddFile,
    DeleteFile,
    Hunk,
    HunkLine,
    Patch,
    UpdateFile,
    format_patch,
    parse_patch,
    plan_patch,
)

HERE = Path(__file__).parent
_KINDS = {" ": "context", "-": "removed", "+": "added"}


class _ToPatch(Transformer[Token, Patch]):
    """The lark tree as our `Patch` (so both parsers produce the same value)."""

    def start(self, items: list[object]) -> Patch:
        return Patch(tuple(i for i in items[1:-1] if not isinstance(i, Token)))  # type: ignore[misc]

    def add_file(self, items: list[Token]) -> AddFile:
        return AddFile(_after_colon(items[0]), tuple(str(t)[1:-1] for t in items[1:]))

    def delete_file(self, items: list[Token]) -> DeleteFile:
        return DeleteFile(_after_colon(items[0]))

    def update_file(self, items: list[object]) -> UpdateFile:
        move = items[1] if isinstance(items[1], Token) else None
        hunks = tuple(i for i in items[1:] if isinstance(i, Hunk))
        path = _after_colon(items[0])  # type: ignore[arg-type]
        return UpdateFile(path=path, move_to=_after_colon(move) if move else None, hunks=hunks)

    def hunk(self, items: list[Token]) -> Hunk:
        hint = str(items[0])[3:-1]
        eof = items[-1].type == "END_OF_FILE"
        body = items[1:-1] if eof else items[1:]
        lines = tuple(HunkLine(_KINDS[t[0]], str(t)[1:-1]) for t in body)  # type: ignore[arg-type]
        return Hunk(hints=(hint,) if hint else (), lines=lines, end_of_file=eof)


def _after_colon(token: Token) -> str:
    return str(token).split(":", 1)[1].strip()


def _generated_patch(operations: int) -> str:
    ops: list[AddFile | DeleteFile | UpdateFile] = []
    for i in range(operations):
        if i % 6 == 0:
            ops.append(AddFile(f"pkg/new_{i}.py", tuple(f"line {k} of {i}" for k in range(20))))
        elif i % 6 == 1:
            ops.append(DeleteFile(f"pkg/old_{i}.py"))
        else:
            hunks = tuple(_hunk(i, h) for h in range(5))
            ops.append(UpdateFile(path=f"pkg/mod_{i}.py", hunks=hunks))
    return format_patch(Patch(tuple(ops)))


def _hunk(i: int, h: int) -> Hunk:
    lines = [HunkLine("context", f"    context {i}.{h}.{k}") for k in range(3)]
    lines += [HunkLine("removed", f"    old = {h}"), HunkLine("added", f"    new = {h}")]
    lines += [HunkLine("context", f"    after {i}.{h}.{k}") for k in range(3)]
    return Hunk(hints=(f"def f_{h}():",), lines=tuple(lines))


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _accepts(parse: Callable[[str], object], text: str) -> bool:
    try:
        parse(text)
    except Exception:  # lark's errors and ours: any failure counts as "rejected"
        return False
    return True


def _corpus_figures(lark_parse: Callable[[str], object]) -> None:
    cases = sorted(p for p in (HERE.parent / "fixtures" / "patches").iterdir() if p.is_dir())
    valid = [c for c in cases if not (c / "error.txt").exists() or "invalid patch" not in
             (c / "error.txt").read_text()]  # fmt: skip
    texts = [(c / "patch.txt").read_bytes().decode() for c in valid]
    ours = sum(_accepts(parse_patch, t) for t in texts)
    theirs = sum(_accepts(lark_parse, t) for t in texts)
    print(f"corpus patches that are valid v4a as models write it: {len(texts)}")
    print(f"  accepted by parse_patch: {ours}; by the Appendix A grammar in lark: {theirs}")


def _plan_figures(repeat: int) -> None:
    size, hunks = 20_000, 40
    lines = [f"    statement_{k} = compute({k})" for k in range(size)]
    step = size // hunks
    patch_hunks = []
    for h in range(hunks):
        at = h * step + step // 2
        body = [HunkLine("context", lines[at - k]) for k in (3, 2, 1)]
        body += [HunkLine("removed", lines[at]), HunkLine("added", f"    changed_{h} = 1")]
        body += [HunkLine("context", lines[at + k]) for k in (1, 2, 3)]
        patch_hunks.append(Hunk(lines=tuple(body)))
    patch = Patch((UpdateFile(path="big.py", hunks=tuple(patch_hunks)),))
    exact = {"big.py": "\n".join(lines) + "\n"}
    sloppy = {"big.py": "\n".join("\t" + line.strip() + "  " for line in lines) + "\n"}
    t_exact = _best(lambda: plan_patch(patch, exact.get), repeat)
    t_sloppy = _best(lambda: plan_patch(patch, sloppy.get), repeat)
    print(f"plan {hunks} hunks in a {size:,}-line file: exact {t_exact * 1000:.1f} ms, "
          f"whitespace-changed context {t_sloppy * 1000:.1f} ms")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    grammar = (HERE / "v4a_reference.lark").read_text()
    lark = Lark(grammar, parser="lalr", transformer=_ToPatch())
    text = _generated_patch(600)
    assert lark.parse(text) == parse_patch(text), "both parsers must build the same Patch"
    ours = _best(lambda: parse_patch(text), args.repeat)
    theirs = _best(lambda: lark.parse(text), args.repeat)
    lines = text.count("\n")
    print(f"parse a {lines:,}-line patch ({len(text) / 1e6:.2f} MB), median of {args.repeat}:")
    print(f"  parse_patch {ours * 1000:.1f} ms; lark LALR (Appendix A grammar) "
          f"{theirs * 1000:.1f} ms; lark / ours = {theirs / ours:.1f}x")  # fmt: skip
    _corpus_figures(lark.parse)
    _plan_figures(args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
