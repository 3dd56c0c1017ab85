"""python3 -m tools.convert HF_DIR -o OUT.gguf [options]: see tools/convert/convert.py."""

import sys

from tools.convert import convert

sys.exit(convert.main())
