"""python3 -m tools.train STAGE [options]: see tools/train/train.py."""

import sys

from tools.train import train

train.reexec_with_run_env()
sys.exit(train.main())
