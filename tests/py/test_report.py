"""tools/report's numbers against the evaluator's (tools/eval/engine.py) on a fixed small set: the first 60 dev
texts of intent-clinc and of maint-ner, through the same native CLI on the shipped int8 files. The report runs
whole (its JSON, --no-html), latency through the wasm build included; then its accuracy, in-scope accuracy,
oos recall, span P/R/F1, per-type F1 and escalation rates must be the evaluator's, and its cost rows must follow
from its own token counts and escalation rates."""

import json
import os
import tempfile
import unittest

from tools import ROOT
from tools.data import tasks
from tools.eval.engine import eval_intent, eval_ner
from tools.report.__main__ import main as report_main

CLI = os.path.join(ROOT, "build", "edgetag")
HAVE = os.path.isdir(tasks.DEFAULT_DATA_DIR) and os.path.exists(CLI) and os.path.exists(os.path.join(ROOT, "build", "edgetag.wasm"))
N = 60


@unittest.skipUnless(HAVE, "needs ../shared/data, build/edgetag and build/edgetag.wasm (make native wasm)")
class ReportMatchesEvaluator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        report_main(["--out", cls.dir.name, "--models-list", "intent-clinc,maint-ner", "--limit", str(N),
                     "--latency-texts", "12", "--warmup", "3", "--no-html"])
        cls.r = {}
        for name in ("intent-clinc", "maint-ner"):
            with open(os.path.join(cls.dir.name, name + ".json")) as f:
                cls.r[name] = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def examples(self, name):
        return tasks.get(name).examples("dev")[:N]

    def test_intent_matches_eval(self):
        e = eval_intent(CLI, os.path.join(ROOT, "models", "intent-clinc.gguf"), self.examples("intent-clinc"))
        q = self.r["intent-clinc"]["quality"]
        self.assertEqual(q["texts"], e["texts"])
        for k in ("accuracy", "in_scope_accuracy", "oos_recall", "escalation_rate"):
            self.assertAlmostEqual(q[k], e[k], places=12, msg=k)

    def test_ner_matches_eval(self):
        e = eval_ner(CLI, os.path.join(ROOT, "models", "maint-ner.gguf"), self.examples("maint-ner"))
        q = self.r["maint-ner"]["quality"]
        for k in ("precision", "recall", "f1", "escalation_rate"):
            self.assertAlmostEqual(q[k], e[k], places=12, msg=k)
        per = {c["label"]: c for c in q["classes"]}
        self.assertEqual(set(per), set(e["per_type"]))
        for t, v in e["per_type"].items():
            self.assertAlmostEqual(per[t]["f1"], v["f1"], places=12, msg=t)
            self.assertEqual(per[t]["support"], v["support"])

    def test_cost_rows_follow_from_the_measures(self):
        for name, r in self.r.items():
            c = r["cost"]
            cloud_only = c["rows"][0]
            expected = (c["mean_input_tokens"] * c["prices"]["input"] + c["mean_output_tokens"] * c["prices"]["output"])
            self.assertAlmostEqual(cloud_only["device_total"], expected, places=6, msg=name)
            self.assertEqual(cloud_only["escalation_rate"], 1.0)
            for row in c["rows"][1:]:
                self.assertLessEqual(row["device_total"], cloud_only["device_total"] + 1e-9)
                self.assertGreater(row["edge_total"], row["device_total"])
            self.assertGreater(r["latency"]["p95_ms"], 0)
            self.assertGreaterEqual(r["latency"]["p95_ms"], r["latency"]["p50_ms"])
            self.assertEqual(r["latency"]["texts"], 12)
            self.assertGreater(r["ownership"]["wasm_memory_after_load"], r["ownership"]["int8_bytes"])


if __name__ == "__main__":
    unittest.main()
