"""The parsed-data cache (core/packaged_data.py) of the test processes and the commands they start: a
temporary folder, never the user's own cache folder; removed when the process ends.
tests/test_packaged_data.py points it elsewhere where it tests the cache itself."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

FOLDER = tempfile.mkdtemp(prefix="napkin-test-cache-")
os.environ["NAPKIN_CACHE"] = FOLDER
atexit.register(shutil.rmtree, FOLDER, True)
