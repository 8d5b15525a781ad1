"""Any byte string given as a baseline file is valid or a located, bounded error: never a crash.

The review's breaks, each first as the example that broke, then fuzzed: the real baseline files
mutated thousands of ways, and arbitrary YAML-ish text.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_perfdata.baseline import BaselineError, load_baseline_file, parse_baseline_text

REPO = Path(__file__).resolve().parent.parent
REAL_FILES = sorted((REPO / "baselines").glob("*.yaml"))
#: Every error fits in this, whatever the file held (the review got a 39 MB message from 312 bytes).
MESSAGE_LIMIT = 4096


def judged(data: bytes, tmp_path: Path) -> BaselineError | None:
    """Load ``data`` as a baseline file: None when valid, else the error (anything else fails)."""
    path = tmp_path / "x86_64.yaml"
    path.write_bytes(data)
    try:
        load_baseline_file(path, "x86_64")
    except BaselineError as error:
        text = str(error)
        assert text.startswith(f"{path}"), text[:200]
        assert len(text.encode()) <= MESSAGE_LIMIT, (len(text), text[:300])
        return error
    return None


def nested(depth: int) -> str:
    return "m:\n  note: " + "[" * depth + "]" * depth + "\n"


@pytest.mark.parametrize(("text", "fragments"), [
    (f"m: {{max: 1{'0' * 400}}}\n", ["m: max:", "not a finite number"]),  # YAML makes it an int: OverflowError
    (f"m: {{max: 1{'0' * 400} ms}}\n", ["m: max:", "not a finite number"]),
    ("m: {max: 1e400 ms}\n", ["m: max:", "not a finite number"]),
    ("m: {max: .nan}\n", ["m: max:", "not a finite number"]),
    ("m: {max: 1e305 h}\n", ["m: max:", "not a finite number"]),  # finite as written, infinite in seconds
    (nested(300), [":2:", "nested more than"]),
    (nested(990), [":2:", "nested more than"]),
])
def test_the_review_s_examples_are_located_errors(tmp_path: Path, text: str, fragments: list[str]) -> None:
    error = judged(text.encode(), tmp_path)
    assert error is not None
    for fragment in fragments:
        assert fragment in str(error), str(error)[:300]


def billion_laughs(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, levels + 1)]
    return "m:\n  note:\n    " + "\n    ".join(f"- {line}" for line in lines) + "\n"


@pytest.mark.parametrize("levels", [1, 6, 7])
def test_aliases_are_refused_where_they_are_used_and_never_expanded(tmp_path: Path, levels: int) -> None:
    """Seven levels of nine-fold aliases would be 4.8 billion items in a message."""
    error = judged(billion_laughs(levels).encode(), tmp_path)
    assert error is not None and ":4:" in str(error) and "alias" in str(error), str(error)
    assert "*a0" in str(error)


def test_an_anchor_alone_is_harmless_and_a_merge_key_is_an_alias(tmp_path: Path) -> None:
    assert judged(b"m: &first {max: 6 ms}\n", tmp_path) is None
    error = judged(b"a: &base {max: 6 ms}\nb:\n  <<: *base\n", tmp_path)
    assert error is not None and ":3:" in str(error) and "alias" in str(error)


def mutate(text: bytes, rng: random.Random) -> bytes:
    """One to four edits: replace, insert, delete or duplicate a span, often with YAML's own bytes."""
    data = bytearray(text)
    alphabet = b"{}[]:,-&*!|>'\"#%@`\n \t0123456789.e+abcdefghijklmnopqrstuvwxyz\xff\x00\xe2\x80\x8b"
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data) + 1)
        width = rng.randint(1, 40)
        piece = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        choice = rng.randrange(4)
        if choice == 0:
            data[at:at + width] = piece
        elif choice == 1:
            data[at:at] = piece
        elif choice == 2:
            del data[at:at + width]
        else:
            data[at:at] = data[at:at + width * 8]
    return bytes(data)


@pytest.mark.parametrize("seed", range(4))
def test_thousands_of_mutations_of_the_real_files(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    sources = [path.read_bytes() for path in REAL_FILES]
    assert sources, "the project's baselines/*.yaml are the fuzzing corpus"
    valid = 0
    for _ in range(750):
        valid += judged(mutate(rng.choice(sources), rng), tmp_path) is None
    assert valid < 750  # the mutations did reach the validator's errors, not only the happy path


_YAMLISH = st.lists(st.sampled_from([*"{}[]:,-&*!|>'\"#\n  abcmx0123456789.e%", "max", "ms", "value", "<<", "  "]),
                    max_size=80).map("".join)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(_YAMLISH.map(str.encode), st.binary(max_size=200)))
def test_any_bytes_are_valid_or_a_located_error(tmp_path: Path, data: bytes) -> None:
    judged(data, tmp_path)


def test_a_hostile_file_stops_the_run_with_exit_4_and_its_line(pytester: pytest.Pytester) -> None:
    (pytester.path / "baselines").mkdir()
    (pytester.path / "baselines" / "x86_64.yaml").write_text(billion_laughs(7))
    pytester.makepyfile("def test_a(perf):\n    perf.record_value('m', 1.0, unit='ms')\n")
    result = pytester.runpytest("--perf-target=x86_64", "-p", "no:cacheprovider")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*x86_64.yaml:4: *alias*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert len(result.stderr.str()) < MESSAGE_LIMIT


def test_parse_errors_name_the_path_given(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match=r"^given\.yaml:2: m: max: .*not a finite number"):
        parse_baseline_text("\nm: {max: 1e999 s}\n", Path("given.yaml"), "x86_64")
