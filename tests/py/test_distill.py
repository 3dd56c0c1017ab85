"""tools/distill's parts that decide what a round may use and what it may publish: the portions of the dev split,
the checks of captured records, the gate. The rounds themselves (a poisoned teacher refused; the real round)
are slower: tests/py/slow_distill_round.py (make test-distill) and make distill."""

import json
import os
import tempfile
import unittest

from tools.distill import capture, splits
from tools.distill.evaluate import compare, escalation_for

LABELS = ["balance", "book_flight", "oos"]


def record(**over):
    r = {"schema": "edgetag.capture/1", "task": "classify", "model": {"name": "intent-clinc", "version": "v1"},
         "text": "what is my balance", "teacher": {"label": "balance", "score": 0.9}, "local": {"label": "oos", "score": 0.3}}
    r.update(over)
    return r


class Portions(unittest.TestCase):
    def test_portions_are_disjoint_stable_and_sized(self):
        texts = ["text number %d" % i for i in range(4000)]
        parts = splits.split([(t, "x") for t in texts])
        self.assertEqual(sum(len(v) for v in parts.values()), 4000)
        seen = [set(t for t, _ in v) for v in parts.values()]
        self.assertFalse(seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
        for (name, share), got in zip(splits.PORTIONS, parts.values()):
            self.assertAlmostEqual(len(got) / 4000, share / 100, delta=0.03, msg=name)
        self.assertEqual(splits.portion("what is my balance"), splits.portion("what is my balance"))


class CapturedRecords(unittest.TestCase):
    def test_only_valid_records_of_this_model_become_examples(self):
        recs = [record(), record(text="book a flight", teacher={"label": "book_flight"}),
                record(text="x", teacher={"label": "not_a_label"}), record(model={"name": "maint-ner"}),
                record(task="extract"), record(text="  "), record(text="book a flight", teacher={"label": "oos"})]
        ex, refused = capture.teacher_examples(recs, LABELS, "intent-clinc")
        self.assertEqual(sorted(ex), [("book a flight", "oos"), ("what is my balance", "balance")])
        self.assertEqual(refused, {"label": 1, "model": 1, "task": 1, "text": 1})

    def test_unreadable_lines_are_counted_not_used(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "c.jsonl")
            with open(p, "w") as f:
                f.write(json.dumps(record()) + "\n{not json\n" + json.dumps({"schema": "other/1"}) + "\n\n")
            recs, bad = capture.read_records(p)
        self.assertEqual(len(recs), 1)
        self.assertEqual([r for _, r in bad], ["not_json", "schema"])


def model(accuracy, curve):
    return {"accuracy": accuracy, "local_accuracy": 0.95, "curve": curve}


class Gate(unittest.TestCase):
    OLD = [{"threshold": 0.5, "escalation_rate": 0.2, "local_accuracy": 0.95},
           {"threshold": 0.3, "escalation_rate": 0.1, "local_accuracy": 0.90}]

    def test_better_on_both_counts_is_accepted(self):
        new = [{"threshold": 0.4, "escalation_rate": 0.15, "local_accuracy": 0.95}]
        ok, reasons, matched = compare(model(0.88, self.OLD), model(0.90, new))
        self.assertTrue(ok, reasons)
        self.assertEqual(matched["old"]["escalation_rate"], 0.2)
        self.assertEqual(matched["new"]["escalation_rate"], 0.15)

    def test_worse_accuracy_or_more_escalation_is_refused_with_reasons(self):
        more = [{"threshold": 0.6, "escalation_rate": 0.3, "local_accuracy": 0.95}]
        ok, reasons, _ = compare(model(0.88, self.OLD), model(0.87, more))
        self.assertFalse(ok)
        self.assertEqual(len(reasons), 2)
        self.assertIn("held-out accuracy", reasons[0])
        self.assertIn("escalates 30.0 %", reasons[1])
        ok, reasons, _ = compare(model(0.88, self.OLD), model(0.885, self.OLD), min_gain=0.01)
        self.assertFalse(ok)

    def test_unreachable_accuracy_means_everything_escalates(self):
        self.assertEqual(escalation_for(self.OLD, 0.99)["escalation_rate"], 1.0)


if __name__ == "__main__":
    unittest.main()
