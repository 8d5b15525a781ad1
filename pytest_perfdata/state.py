"""Where the plugin keeps its state (``config.stash``, ``item.stash``), and the run made on first use.

The run (settings, the target's baselines, the records) is started only when a test measures, so a
pytest run with no measuring test never reads a baseline file or imports the measuring core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .marker import PerfMarker
    from .perf import Perf
    from .session import PerfRun
    from .settings import Settings

__all__ = ["MARKER_KEY", "PERF_KEY", "RUN_KEY", "SETTINGS_KEY", "marker_of", "perf_for", "run_for", "started_run"]

SETTINGS_KEY: pytest.StashKey[Settings] = pytest.StashKey()
RUN_KEY = pytest.StashKey["PerfRun"]()
PERF_KEY = pytest.StashKey["Perf"]()
MARKER_KEY: pytest.StashKey[PerfMarker] = pytest.StashKey()


def marker_of(item: pytest.Item) -> PerfMarker:
    """The item's checked ``perf`` marker: checked once, at collection, and kept on the item."""
    marker = item.stash.get(MARKER_KEY, None)
    if marker is None:
        from .marker import PerfMarker

        marker = item.stash[MARKER_KEY] = PerfMarker.of(item)
    return marker


def started_run(config: pytest.Config) -> PerfRun | None:
    """The run if something has started it, else None (nothing was measured)."""
    return config.stash.get(RUN_KEY, None)


def run_for(config: pytest.Config) -> PerfRun:
    """This process's run, started on first use: reads the target's baselines (a bad file is a usage error)."""
    run = config.stash.get(RUN_KEY, None)
    if run is not None:
        return run
    from .baseline import BaselineError
    from .session import PerfRun

    try:
        run = PerfRun.start(config.stash[SETTINGS_KEY])
    except BaselineError as error:
        raise pytest.UsageError(str(error)) from None
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        run.run_id = workerinput.get("perfdata_run_id", run.run_id)
    else:  # xdist tells only its workers how many there are; the controller reads its option
        run.xdist_workers = int(getattr(config.option, "numprocesses", 0) or 0)
    from .progress import progress_for

    run.progress = progress_for(config, run.settings.progress)
    config.stash[RUN_KEY] = run
    return run


def perf_for(item: pytest.Item) -> Perf:
    """The item's :class:`Perf`, created on first use (by the fixture or an integration)."""
    perf = item.stash.get(PERF_KEY, None)
    if perf is None:
        from .perf import Perf

        perf = Perf(
            run=run_for(item.config),
            test=item.nodeid,
            marker=marker_of(item),
            user_properties=item.user_properties,
        )
        item.stash[PERF_KEY] = perf
    return perf
