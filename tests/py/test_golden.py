"""The committed goldens (tests/fixtures/golden) are what PyTorch computes today from what the generator makes.

Regenerates every golden file into a temporary folder with tools/fixtures/make_golden.py (PyTorch, float32) and
compares: the same token ids and weights (sha256), and outputs within 1e-5 (PyTorch on another CPU may
take another kernel path; the engine is held to 1e-4 against these numbers). Skips, saying so, where
PyTorch is not installed (`make setup` installs it).

    /usr/bin/python3 -m unittest tests.py.test_golden
"""

import json
import os
import tempfile
import unittest

from tools import ROOT

try:
    import torch  # noqa: F401
    from tools.fixtures import make_golden
except ImportError as e:  # pragma: no cover - depends on the machine
    make_golden = None
    IMPORT_ERROR = str(e)

TOLERANCE = 1e-5


def flat(x):
    if isinstance(x, list):
        for v in x:
            yield from flat(v)
    else:
        yield x


@unittest.skipIf(make_golden is None, "PyTorch is not installed (apt python3-torch; `make setup`): cannot regenerate goldens")
class GoldensAreCurrent(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.tmp = tempfile.TemporaryDirectory()
        out, work = os.path.join(cls.tmp.name, "golden"), os.path.join(cls.tmp.name, "ref")
        cls.fresh = {}
        for shape in ("tiny", "minilm", "odd"):
            make_golden.golden_for_shape(shape, out, work)
            with open(os.path.join(out, shape + ".json"), encoding="utf-8") as f:
                cls.fresh[shape] = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_each_golden_matches_a_fresh_pytorch_run(self):
        for shape, fresh in self.fresh.items():
            with open(os.path.join(ROOT, "tests", "fixtures", "golden", shape + ".json"), encoding="utf-8") as f:
                committed = json.load(f)
            self.assertEqual(committed["model"], fresh["model"], shape + ": weights or model changed; run `make golden`")
            self.assertEqual(len(committed["cases"]), len(fresh["cases"]))
            for a, b in zip(committed["cases"], fresh["cases"]):
                self.assertEqual((a["name"], a["ids"], a["type_ids"]), (b["name"], b["ids"], b["type_ids"]))
                for key in ("logits", "mean"):
                    x, y = list(flat(a[key])), list(flat(b[key]))
                    self.assertEqual(len(x), len(y))
                    worst = max(abs(p - q) for p, q in zip(x, y))
                    self.assertLessEqual(worst, TOLERANCE, "%s/%s %s: %g" % (shape, a["name"], key, worst))


if __name__ == "__main__":
    unittest.main()
