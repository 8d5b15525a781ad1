"""Puts ``admission.py`` and ``opa_suite.py`` (the suite's inputs and policies) on the import path."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
