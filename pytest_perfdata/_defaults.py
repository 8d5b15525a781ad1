"""The plugin's default settings, each stated once: options, settings objects and help read them here."""

from __future__ import annotations

from typing import Final

#: Confidence level of every interval a verdict reads.
CONFIDENCE: Final = 0.99
#: Allowed worsening against a stored value when a baseline names no ``regression:``.
REGRESSION: Final = 0.10
#: Days after which a stored figure counts as expired.
MAX_AGE_DAYS: Final = 365
#: Wall-clock budget for sampling one metric, in seconds (warm-up excluded).
BUDGET_S: Final = 1.0
#: Extra attempts a test whose verdict failed gets before the failure stands.
CONFIRM: Final = 1
#: Where baseline files live, relative to the rootdir.
BASELINES_DIR: Final = "baselines"
#: Where each run's records JSON is written, relative to the rootdir.
RECORDS_DIR: Final = ".perfdata/runs"
#: Where the claims ledger's files live, relative to the rootdir.
CLAIMS_DIR: Final = "claims"
#: Days after which a claim's newest deciding evidence no longer verifies or refutes it.
CLAIM_MAX_AGE_DAYS: Final = 180
#: Set in a counting child (see :mod:`.counting`) to ``<metric>=<calls>``; read at start-up, so kept here.
COUNTING_CHILD_ENV: Final = "PERFDATA_COUNT_CALLS"
