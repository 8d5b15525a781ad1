"""What every process-level Wasm launcher shares: build argv, run it bounded, name the limit hit."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from .protocol import Limits, LimitKind, WasmAotUnavailable, WasmError, WasmLimitExceeded
from ..process import CompletedRun, RunTimeout, run_bounded

__all__ = ["Classifier", "ProcessCli", "run_cli"]

#: Reads a failed run's error text and says which limit it hit, if any.
Classifier = Callable[[str], "LimitKind | None"]

_GRACE_S: Final = 5.0  # process start-up and compilation, on top of the run's own time limit
_COMPILE_TIMEOUT_S: Final = 300.0


def run_cli(argv: Sequence[str | os.PathLike[str]], limits: Limits, classify: Classifier) -> CompletedRun:
    """Run with a process timeout of the limit plus a grace; map the engine's limit messages.

    The limit is read from the run's error text (:attr:`CompletedRun.error_text`), wherever the
    engine printed it: WasmEdge logs its errors on stdout.
    """
    env = dict(os.environ, RUST_BACKTRACE="0")
    try:
        done = run_bounded(argv, timeout_s=limits.timeout_s + _GRACE_S, env=env)
    except RunTimeout as exc:
        raise WasmLimitExceeded(
            LimitKind.TIMEOUT,
            f"process killed after {exc.timeout_s:g} s"
            f" (time limit {limits.timeout_s:g} s + {_GRACE_S:g} s grace)",
        ) from None
    if done.exit_code != 0:
        text = done.error_text
        hit = classify(text)
        if hit is not None:
            raise WasmLimitExceeded(hit, f"{hit} limit hit: {_limit_line(text)}")
    return done


class ProcessCli:
    """The common half of a CLI backend; subclasses say how their own CLI is spelt.

    Subclasses provide ``options_argv`` (the command and its limit flags) and ``classify``
    (error text -> which limit, if any), and override ``target_argv`` where a CLI names the
    module and the function to call differently; binary CLIs also provide ``compile_argv`` and
    ``artefact_path`` for their precompiled form, and ``aot_unavailable`` where a build of the
    tool may lack its compiler.
    """

    classify: Classifier

    def run_argv(
        self,
        wasm: Path,
        limits: Limits = Limits(),
        *,
        invoke: str | None = None,
        args: Sequence[int | str] = (),
        precompiled: bool = False,
    ) -> list[str]:
        return [
            *self.options_argv(limits, precompiled=precompiled),
            *self.target_argv(wasm, invoke),
            *map(str, args),
        ]

    def options_argv(self, limits: Limits, *, precompiled: bool) -> list[str]:
        raise NotImplementedError

    def target_argv(self, wasm: Path, invoke: str | None) -> list[str]:
        """The module to run, after ``--invoke NAME`` when a function other than ``_start`` is called."""
        return [*(["--invoke", invoke] if invoke is not None else []), os.fspath(wasm)]

    def compile_argv(self, wasm: Path, out: Path) -> list[str]:
        raise NotImplementedError

    def artefact_path(self, wasm: Path, out_dir: Path) -> Path:
        raise NotImplementedError

    def aot_unavailable(self, done: CompletedRun) -> str | None:
        """Why this build cannot precompile at all, read from a failed compile; None if it can."""
        return None

    def run(
        self,
        wasm: Path,
        limits: Limits = Limits(),
        *,
        invoke: str | None = None,
        args: Sequence[int | str] = (),
    ) -> CompletedRun:
        return run_cli(self.run_argv(wasm, limits, invoke=invoke, args=args), limits, self.classify)

    def run_precompiled(
        self,
        artefact: Path,
        limits: Limits = Limits(),
        *,
        invoke: str | None = None,
        args: Sequence[int | str] = (),
    ) -> CompletedRun:
        argv = self.run_argv(artefact, limits, invoke=invoke, args=args, precompiled=True)
        return run_cli(argv, limits, self.classify)

    def precompile(self, wasm: Path, out_dir: Path) -> Path:
        """Compile ``wasm`` ahead of time into ``out_dir``; the artefact's path.

        :class:`WasmAotUnavailable` when the tool cannot precompile here (its compiler is
        missing or was not built in), with the tool's own reason; :class:`WasmError` when
        compiling this module failed.
        """
        out = self.artefact_path(wasm, out_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        argv = self.compile_argv(wasm, out)
        what = f"{Path(argv[0]).name} {argv[1] if len(argv) > 1 else ''}".strip()
        try:
            done = run_bounded(argv, timeout_s=_COMPILE_TIMEOUT_S, env=dict(os.environ, RUST_BACKTRACE="0"))
        except FileNotFoundError:
            raise WasmAotUnavailable(f"{what}: the compiler {argv[0]} is not installed") from None
        except RunTimeout as exc:
            raise WasmError(f"{what} did not finish: {exc}") from None
        if done.exit_code != 0:
            reason = self.aot_unavailable(done)
            if reason is not None:
                raise WasmAotUnavailable(f"{what} cannot precompile with this build: {reason}")
            raise WasmError(f"{what} failed: {done.error_line()}", detail=done.error_text)
        return out


def _limit_line(text: str) -> str:
    """The line of an engine's error text that names the limit, else its last line."""
    for line in text.splitlines():
        if re.search(r"fuel|interrupt|limit|growing memory|time", line, re.IGNORECASE):
            return line.strip()
    for line in reversed(text.splitlines()):
        if line.strip():
            return line.strip()
    return ""
