"""Where the shared fixtures are: ``../shared/fixtures`` beside the checkout, or $NEXUS_FIXTURES."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("NEXUS_FIXTURES") or ROOT.parent / "shared" / "fixtures")
if not FIXTURES.is_dir():
    raise RuntimeError(f"fixtures not found at {FIXTURES}: put shared/ beside the checkout or set NEXUS_FIXTURES")
