"""`make test-reliability`: the scenarios of test/integration/reliability at full size.

The code is the same (one piece of code serves both sizes, see `_reliability.SCALE`); this folder only sets
`OPSTACK_RELIABILITY_SCALE=full` (unless already set) before that code is imported, and makes the fixtures
and helpers of test/integration/reliability available here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OPSTACK_RELIABILITY_SCALE", "full")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "reliability"))

from _fixtures import admin, operators, reliability_logs  # noqa: F401
