"""The ``perf`` fixture's object: turns a test's measurements into judged, annotated records."""

from __future__ import annotations

import datetime as dt
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import final

import pytest

from ._shown import shown
from .baseline import Baseline
from .counting import (
    COUNT_SUFFIX,
    CountError,
    ValgrindMissing,
    calls_in_this_process,
    count_calls,
    extra_calls_for,
    is_counting_child,
)
from .measure import (
    CPU_REFERENCE,
    DriftReference,
    Measurement,
    SamplingPolicy,
    StopReason,
    sample,
    sample_paired,
)
from .marker import PerfMarker
from .record import Better, Confirmation, DataSource, Engine, Outcome, Record, SourceKind, VerificationStatus, metric_name_problem
from .session import PerfRun
from .settings import CounterMode
from .stats import Interval, interval_for, statistic_value, summarize
from .units import UnitError, format_quantity, parse_quantity, parse_unit
from .verdict import judged

__all__ = ["Perf", "PerfFailure"]


class PerfFailure(pytest.fail.Exception):
    """Raised after a test whose records failed their verdicts; the message lists each miss.

    A test outcome (pytest's ``Failed``) without a traceback: the verdict lines are the whole
    story, and the frames they would show are the plugin's, not the user's test.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, pytrace=False)


def _budget_seconds(budget: float | str | None, default: float) -> float:
    if budget is None:
        return default
    quantity = parse_quantity(budget, "s")
    seconds = quantity.to(parse_unit("s"))
    if quantity.unit.dimension != "time" or seconds <= 0:
        raise UnitError(f"budget must be a positive time such as '2 s', got {budget!r}")
    return seconds


def _in_us(ns: float | None) -> float | None:
    return ns / 1e3 if ns else None


def _time_per_call(fn: Callable[[], object], calls: int = 1) -> float:
    """Nanoseconds of one call of ``fn``, from ``calls`` calls (more than one only in a counting child)."""
    started = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - started) / calls


@final
@dataclass(frozen=True, slots=True)
class _Figure:
    """What a record is of, stated once per call: metric, unit, statistic, direction, engine, source."""

    metric: str
    unit: str
    statistic: str
    better: Better | str
    engine: Engine | None = None
    source: DataSource | None = None
    target: str | None = None  # None: the run's target

    def __post_init__(self) -> None:
        problem = metric_name_problem(self.metric)
        if problem is not None:
            raise ValueError(f"metric {shown(self.metric)}: {problem}")
        try:
            object.__setattr__(self, "better", Better(self.better))
        except ValueError:
            raise ValueError(f"better must be 'lower' or 'higher', got {self.better!r}") from None


@dataclass
class Perf:
    """Measure, record and judge metrics of one test (the object behind the ``perf`` fixture).

    ``measure`` times a callable; ``compare`` times two in turns and records their ratio;
    ``record_samples`` and ``record_value`` take figures measured some other way (pod latencies
    from a cluster, a file size); ``record_ratio`` divides two figures already made. Each
    returns the judged :class:`Record`; a failing verdict fails the test once the test body has
    finished, so every metric of the test is measured and reported first.
    """

    run: PerfRun
    test: str
    marker: PerfMarker = field(default_factory=PerfMarker)
    user_properties: list[tuple[str, object]] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    runtimes: dict[str, str] = field(default_factory=dict)

    # -- public API ---------------------------------------------------------------------------

    def measure(
        self,
        metric: str,
        fn: Callable[[], object],
        *,
        unit: str = "ms",
        statistic: str | None = None,
        better: Better | str = Better.LOWER,
        engine: Engine | None = None,
        budget: float | str | None = None,
        memory: bool = False,
        batch: bool = True,
        reference: bool | DriftReference = True,
        collect_garbage: bool = True,
        min_samples: int = 20,
        source: DataSource | None = None,
    ) -> Record:
        """Time ``fn`` until its statistic is known precisely enough to be judged.

        ``unit`` is the unit the figure is reported and stored in (a time unit). The statistic
        defaults to the baseline's, else ``p50``. Sampling stops when the statistic's confidence
        interval is within the run's precision and the verdict is decided, or the time budget
        (``--perf-budget``, the ``perf`` marker's ``budget=`` or ``budget=`` here) is spent.

        ``reference`` is the drift reference timed between samples: the CPU loop by default,
        another :class:`DriftReference` for work of another kind (process creation), or
        ``False`` for none; ``collect_garbage=False`` pauses Python's cyclic collector while timing, for
        figures that should not depend on how much else the process happens to hold.
        """
        time_unit = parse_unit(unit)
        if time_unit.dimension != "time":
            raise UnitError(f"measure() times calls: unit must be a time unit, got {unit!r}")
        baseline = self.run.baselines.get(metric)
        statistic = self._statistic(statistic, baseline)
        figure = _Figure(metric, unit, statistic, better, engine, source)
        settings = self.run.settings
        scale = 1e-9 / time_unit.scale  # ns -> unit
        if settings.disabled:
            calls = calls_in_this_process(metric)
            how = "one call, timed once" if calls == 1 else f"{calls} calls for an instruction count"
            return self._disabled_record(figure, _time_per_call(fn, calls) * scale, how)
        policy = self._policy(
            statistic, budget, min_samples, batch=batch,
            reference=CPU_REFERENCE if reference is True else (reference or None),
            collect_garbage=collect_garbage,
        )
        overhead = self.run.overhead_ns

        def decided(value_ns: float, interval_ns: Interval, reference_ns: float | None) -> bool:
            return self._decided(baseline, self._build(
                figure,
                value=value_ns * scale,
                interval=Interval(interval_ns.low * scale, interval_ns.high * scale, interval_ns.confidence),
                samples=[value_ns * scale],
                reference_us=_in_us(reference_ns),
                reference_kind=policy.reference.name if policy.reference else None,
            ))

        self.run.progress.started(metric, statistic, policy.budget_s)
        measurement = sample(fn, policy, decided, memory=memory)
        samples = [x * scale for x in measurement.samples_ns]
        ordered = sorted(samples)  # the record keeps time order; the statistics re-sort this in linear time
        record = self._build(
            figure,
            value=statistic_value(statistic, ordered),
            interval=interval_for(statistic, ordered, policy.confidence),
            samples=samples,
            reference_us=_in_us(measurement.paired_reference_ns(statistic)),
            reference_kind=policy.reference.name if policy.reference else None,
            measurement=measurement,
            overhead_ns=overhead,
        )
        self.run.progress.finished(record)
        record = self._keep(record, baseline)
        self.count_instructions(metric, record.value / scale)
        return record

    def count_instructions(self, metric: str, ns_per_call: float | None = None) -> Record | None:
        """Count one call of ``metric``'s callable in instructions, if the test asks (see :mod:`.counting`).

        ``ns_per_call`` (the timing) sizes the number of calls counted. Asked by
        ``@pytest.mark.perf(counter="instructions")``; done after the timing by
        ``measure`` and the pytest-benchmark interop, unless ``--perf-counter=off``, measuring is
        disabled or this is itself a counting child. The record, ``<metric>.instructions``, is
        judged against its own baseline entry like any other. Without valgrind the count is left
        out with a warning that says how to get it.
        """
        settings = self.run.settings
        if (self.marker.counter is None or settings.counter is CounterMode.OFF or settings.disabled
                or is_counting_child()):
            return None
        try:
            count = count_calls(self.test, metric, settings.rerun_args, settings.rootdir,
                                extra_calls_for(ns_per_call))
        except ValgrindMissing as missing:
            warnings.warn(pytest.PytestWarning(f"{metric}: instructions not counted: {missing}"), stacklevel=2)
            return None
        except CountError as error:
            raise PerfFailure(f"{metric}: instructions not counted: {error}") from None
        return self.record_value(metric + COUNT_SUFFIX, count.per_call, unit="instructions", notes=(count.describe(),))

    def record_samples(
        self,
        metric: str,
        samples: Sequence[float],
        *,
        unit: str,
        statistic: str | None = None,
        better: Better | str = Better.LOWER,
        engine: Engine | None = None,
        source: DataSource | None = None,
        confidence: float | None = None,
        notes: Sequence[str] = (),
        reference_us: float | None = None,
        target: str | None = None,
        family: str | None = None,
    ) -> Record:
        """Record figures measured elsewhere (e.g. per-pod start-up latencies), in ``unit``.

        ``reference_us`` is the drift reference's median time around them (see
        :func:`~.measure.time_reference`), when it was timed: the regression check is then
        drift-corrected, as for :meth:`measure`. ``target`` is the target of the machine the
        figures are of when it is not the run's (an arm64 node of a cluster measured from an
        x86_64 runner): the record is judged against, and saved to, that target's baselines.
        ``family`` is the metric this one belongs to, a prefix of its name (``k3s.density.pods``
        of ``k3s.density.pods.rpi5-agent``): without a baseline of its own, the record is judged
        by the family's, so one limit covers every node of a target.
        """
        parse_unit(unit)
        values = [float(x) for x in samples]
        if not values or not all(math.isfinite(x) for x in values):
            raise ValueError(f"{metric}: record_samples needs at least one finite sample")
        baseline = self._baseline(metric, target, family)
        statistic = self._statistic(statistic, baseline)
        figure = _Figure(metric, unit, statistic, better, engine, source, target)
        level = confidence or self._confidence()
        record = self._build(
            figure,
            value=statistic_value(statistic, values),
            interval=interval_for(statistic, values, level),
            samples=values,
            reference_us=reference_us,
            reference_kind=CPU_REFERENCE.name if reference_us else None,
            notes=tuple(notes),
        )
        return self._keep(record, baseline)

    def record_value(
        self,
        metric: str,
        value: float,
        *,
        unit: str,
        better: Better | str = Better.LOWER,
        engine: Engine | None = None,
        source: DataSource | None = None,
        notes: Sequence[str] = (),
        target: str | None = None,
        family: str | None = None,
    ) -> Record:
        """Record one exact figure (a file size, a count): its interval is the value itself.

        ``target`` and ``family`` as for :meth:`record_samples`.
        """
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{metric}: record_value needs a finite value, got {value!r}")
        parse_unit(unit)
        baseline = self._baseline(metric, target, family)
        record = self._build(
            _Figure(metric, unit, "p50", better, engine, source, target),
            value=value, interval=Interval(value, value, 1.0), samples=[value], reference_us=None,
            notes=tuple(notes),
        )
        return self._keep(record, baseline)

    def compare(
        self,
        metric: str,
        fn: Callable[[], object],
        against: Callable[[], object],
        *,
        better: Better | str = Better.LOWER,
        budget: float | str | None = None,
        engines: Sequence[Engine | None] = (),
        min_samples: int = 20,
        collect_garbage: bool = True,
        source: DataSource | None = None,
        notes: Sequence[str] = (),
    ) -> Record:
        """Record how many times longer ``fn`` takes than ``against`` (unit ``x``), timed in turns.

        Each turn times both callables back to back, in alternating order, and keeps the ratio
        of the two times; the record's statistic (``p50`` unless the baseline says otherwise)
        and its interval are those of the per-turn ratios. On a shared machine this is the
        figure to trust for "X is n times slower than Y": load that comes and goes hits both
        sides of a turn alike, where two separate ``measure`` calls would each catch it at
        a different moment (see :meth:`record_ratio`).
        """
        baseline = self.run.baselines.get(metric)
        statistic = self._statistic(None, baseline)
        figure = _Figure(metric, "x", statistic, better, None, source)
        settings = self.run.settings
        named = " ÷ ".join(str(e) for e in engines if e)
        described = (f"paired turns, time ratio ({named})" if named else "paired turns, time ratio",)
        if settings.disabled:
            took, baseline_took = _time_per_call(fn), _time_per_call(against)
            return self._disabled_record(figure, took / max(baseline_took, 1), "one call of each, timed once")
        policy = self._policy(
            statistic, budget, min_samples, batch=True, reference=None, collect_garbage=collect_garbage
        )

        def decided(value: float, interval: Interval, _reference: float | None) -> bool:
            return self._decided(baseline, self._build(
                figure,
                value=value, interval=interval, samples=[value], reference_us=None,
            ))

        self.run.progress.started(metric, statistic, policy.budget_s)
        paired = sample_paired(fn, against, policy, decided)
        ratios = list(paired.ratios)
        ordered = sorted(ratios)
        extra = (f"time budget spent after {len(ratios)} turns",) if paired.stopped_because is StopReason.BUDGET else ()
        record = self._build(
            figure,
            value=statistic_value(statistic, ordered),
            interval=interval_for(statistic, ordered, policy.confidence),
            samples=ratios,
            reference_us=None,
            notes=(*described, *extra, *notes),
        )
        self.run.progress.finished(record)
        return self._keep(record, baseline)

    def record_ratio(
        self,
        metric: str,
        numerator: Record,
        denominator: Record,
        *,
        better: Better | str = Better.LOWER,
        notes: Sequence[str] = (),
    ) -> Record:
        """Record ``numerator / denominator`` of two figures already made (unit ``x``).

        The ratio's interval is the widest the two intervals allow (low/high, high/low), so a
        ratio of two noisy figures is never presented as more certain than its parts. Right for
        exact figures (sizes, counts) and figures of one moment; two timings taken one after
        the other on a shared machine also differ by whatever the load did in between, which
        no interval of either shows: time those with :meth:`compare` instead.
        """
        to_common_unit = parse_unit(numerator.unit).convert(1.0, parse_unit(denominator.unit))
        top, bottom = numerator.interval, denominator.interval
        if denominator.value <= 0 or bottom.low <= 0 or not (top.bounded and bottom.bounded):
            interval = Interval(-math.inf, math.inf, min(top.confidence, bottom.confidence))
        else:
            interval = Interval(
                top.low * to_common_unit / bottom.high,
                top.high * to_common_unit / bottom.low,
                min(top.confidence, bottom.confidence),
            )
        value = numerator.value * to_common_unit / denominator.value if denominator.value else math.inf
        baseline = self.run.baselines.get(metric)
        engines = " ÷ ".join(str(r.engine) for r in (numerator, denominator) if r.engine)
        record = self._build(
            _Figure(metric, "x", "p50", better),
            value=value, interval=interval, samples=[value], reference_us=None,
            notes=(f"ratio {numerator.metric} ÷ {denominator.metric}" + (f" ({engines})" if engines else ""), *notes),
        )
        return self._keep(record, baseline)

    def runtime(self, name: str, version: str) -> None:
        """Declare a runtime this test used, so its version lands in every record's environment."""
        self.runtimes[name] = version

    def discard_records(self) -> None:
        """Forget this test's records (before the test measures again to confirm a failure)."""
        mine = {id(record) for record in self.records}
        self.run.records[:] = [record for record in self.run.records if id(record) not in mine]
        self.user_properties[:] = [p for p in self.user_properties if not str(p[0]).startswith("perf.")]
        self.records.clear()

    def confirmed_after(self, earlier: Sequence[str]) -> None:
        """Say on every kept record that earlier attempts failed and this one did not confirm them.

        ``earlier`` holds each failed attempt's verdict reasons, oldest first. The records carry
        it as data (:class:`Confirmation`) and, for readers of the notes, as one sentence.
        """
        if not earlier:
            return
        confirmation = Confirmation(attempts=len(earlier) + 1, earlier_failures=tuple(earlier))
        self._rewrite(lambda record: replace(record, confirmation=confirmation,
                                             notes=(*record.notes, confirmation.note)))

    def failed_unconfirmed(self) -> None:
        """Mark failed records of a test that had one attempt: pending, not refuted.

        One run's failure says "look again", not "the published figure is wrong": ``refuted``
        needs the failure in every one of two or more attempts (``--perf-confirm``).
        """
        note = "failed in its only attempt: pending until a run with --perf-confirm confirms it"
        self._rewrite(lambda record: replace(record, status=VerificationStatus.PENDING, notes=(*record.notes, note))
                      if record.verdict is not None and record.verdict.outcome == Outcome.FAIL else record)

    def annotate(self, note: str) -> None:
        """Add ``note`` to every record this test kept (in the run's list too)."""
        self._rewrite(lambda record: replace(record, notes=(*record.notes, note)))

    def _rewrite(self, change: Callable[[Record], Record]) -> None:
        annotated = {id(record): change(record) for record in self.records}
        self.run.records[:] = [annotated.get(id(record), record) for record in self.run.records]
        self.records[:] = list(annotated.values())

    @property
    def failures(self) -> list[Record]:
        """Records of this test whose verdict fails the test under the run's settings."""
        failing = {Outcome.FAIL}
        if self.run.settings.inconclusive_fails:
            failing.add(Outcome.INCONCLUSIVE)
        return [r for r in self.records if r.verdict is not None and r.verdict.outcome in failing]

    # -- internals ----------------------------------------------------------------------------

    def _policy(
        self,
        statistic: str,
        budget: float | str | None,
        min_samples: int,
        *,
        batch: bool,
        reference: DriftReference | None,
        collect_garbage: bool,
    ) -> SamplingPolicy:
        settings = self.run.settings
        return SamplingPolicy(
            statistic=statistic,
            confidence=self._confidence(),
            precision=settings.precision,
            budget_s=_budget_seconds(budget, self.marker.budget or settings.budget_s),
            min_samples=min_samples,
            batch=batch,
            reference=reference,
            collect_garbage=collect_garbage,
        )

    def _decided(self, baseline: Baseline | None, provisional: Record) -> bool:
        """Whether a provisional figure already settles its verdict (so sampling may stop)."""
        if baseline is None:
            return True
        verdict = judged(provisional, baseline, self.run.settings.judge_settings()).verdict
        return verdict is not None and verdict.outcome != Outcome.INCONCLUSIVE

    def _baseline(self, metric: str, target: str | None, family: str | None) -> Baseline | None:
        """The baseline a record is judged by: its metric's in its target's file, else its family's."""
        if family is not None and not metric.startswith(f"{family}."):
            raise ValueError(f"metric {shown(metric)}: family {shown(family)} must be a prefix of its name, up to a '.'")
        baselines = self.run.baselines_of(target)
        own = baselines.get(metric)
        return own if own is not None or family is None else baselines.get(family)

    def _statistic(self, requested: str | None, baseline: Baseline | None) -> str:
        return requested or self.marker.statistic or (baseline.statistic if baseline else None) or "p50"

    def _confidence(self) -> float:
        return self.marker.confidence or self.run.settings.confidence

    def _build(
        self,
        figure: _Figure,
        *,
        value: float,
        interval: Interval,
        samples: Sequence[float],
        reference_us: float | None,
        reference_kind: str | None = None,
        measurement: Measurement | None = None,
        overhead_ns: float = 0.0,
        notes: tuple[str, ...] = (),
    ) -> Record:
        engine = figure.engine
        runtimes = dict(self.runtimes)
        if engine is not None:
            runtimes.setdefault(engine.name, engine.version)
        if measurement is not None and measurement.stopped_because is StopReason.BUDGET:
            notes += (f"time budget spent after {len(samples)} samples",)
        return Record(
            metric=figure.metric,
            test=self.test,
            target=figure.target or self.run.settings.target,
            unit=figure.unit,
            statistic=figure.statistic,
            better=figure.better,
            value=value,
            interval=interval,
            summary=summarize(samples),
            source=figure.source or DataSource(SourceKind.BENCHMARK, f"pytest-perfdata, {self.test}"),
            environment=self.run.environment(runtimes),
            status=VerificationStatus.PENDING,
            collected=dt.date.today(),
            engine=engine,
            loops=measurement.loops if measurement else 1,
            overhead_ns=overhead_ns,
            cpu_time=(measurement.cpu_ns_per_call * 1e-9 / parse_unit(figure.unit).scale) if measurement else None,
            peak_memory_bytes=measurement.peak_memory_bytes if measurement else None,
            reference_us=reference_us,
            reference_kind=reference_kind if reference_us else None,
            notes=notes,
        )

    def _disabled_record(self, figure: _Figure, value: float, how: str) -> Record:
        """The one timing a disabled measurement made: returned to the test, never stored, judged or saved.

        Its interval is unbounded (one sample bounds nothing), so nothing downstream mistakes it
        for a measurement; ``value`` is real, so a test's own ``assert record.value > 0`` holds.
        """
        return self._build(
            figure,
            value=value, interval=Interval(-math.inf, math.inf, 0.0), samples=[value], reference_us=None,
            notes=(f"measurement disabled (--perf-disable): {how}; not judged, not saved",),
        )

    def _keep(self, record: Record, baseline: Baseline | None) -> Record:
        record = judged(record, baseline, self.run.settings.judge_settings())
        self.records.append(record)
        self.run.records.append(record)
        prefix = f"perf.{record.metric}"
        self.user_properties += [
            (f"{prefix}.{record.statistic}", format_quantity(record.value, record.unit)),
            (f"{prefix}.n", record.summary.n),
            (f"{prefix}.verdict", record.verdict.outcome.value if record.verdict else "none"),
            (f"{prefix}.status", record.status.value),
        ]
        if record.interval.bounded:
            ci = f"{format_quantity(record.interval.low, record.unit)} .. {format_quantity(record.interval.high, record.unit)}"
            self.user_properties.append((f"{prefix}.ci", ci))
        return record
