"""`python3 -m bundle_runner` in a bundle's folder: the same as `python3 run.py`."""

import sys

from .cli import main

sys.exit(main())
