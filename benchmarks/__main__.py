"""``python -m benchmarks``: the same as ``python -m benchmarks.bench`` (``make bench``)."""

import sys

from benchmarks.bench import main

sys.exit(main())
