"""A round fed a deliberately poisoned teacher is refused, and publishes nothing (make test-distill: a few minutes).

The capture is the simulated one (tools/distill/simulate.py: the shipped student's escalations on the traffic
portion of the dev split), then poisoned: every teacher label replaced by another valid label of the set
(the next one in label order), so every record passes the record checks and only the held-out gate can stop
it. A short fine-tune (1 epoch, 800 replayed train texts, the teacher examples 3×) learns the wrong labels;
the round must refuse with its reasons, write no new model, and leave the release folder untouched."""

import json
import os
import tempfile
import unittest

from tools import ROOT
from tools.data import tasks
from tools.distill.round import DEFAULTS, run_round
from tools.distill.simulate import simulate

MODEL = os.path.join(ROOT, "models", "intent-clinc-f32.gguf")
HAVE = os.path.isdir(tasks.DEFAULT_DATA_DIR) and os.path.exists(MODEL)


@unittest.skipUnless(HAVE, "needs ../shared/data and models/intent-clinc-f32.gguf")
class PoisonedTeacher(unittest.TestCase):
    def test_a_poisoned_teacher_set_is_refused_and_nothing_is_published(self):
        labels = tasks.get("intent-clinc").labels
        with tempfile.TemporaryDirectory() as d:
            clean = os.path.join(d, "captured.jsonl")
            summary = simulate(MODEL, clean, tasks.DEFAULT_DATA_DIR, os.path.join(d, "sim"))
            self.assertGreater(summary["escalated"], 100)
            poisoned = os.path.join(d, "poisoned.jsonl")
            with open(clean) as f, open(poisoned, "w") as g:
                for line in f:
                    r = json.loads(line)
                    r["teacher"]["label"] = labels[(labels.index(r["teacher"]["label"]) + 1) % len(labels)]
                    g.write(json.dumps(r) + "\n")
            release = os.path.join(d, "release")
            os.makedirs(release)
            hp = dict(DEFAULTS, epochs=1, replay=800, teacher_weight=3)
            out = os.path.join(d, "round")
            decision = run_round(MODEL, poisoned, out, tasks.DEFAULT_DATA_DIR, hp, os.path.join(ROOT, "build", "edgetag"),
                                 ["node"], release={"dir": release, "key": os.path.join(d, "no-key"), "channel": "intent-clinc/stable",
                                                    "rollout": 10})
            self.assertFalse(decision["accepted"])
            self.assertTrue(decision["reasons"])
            self.assertEqual(decision["teacher_examples"], summary["escalated"], "every poisoned record passed the record checks")
            # The fine-tune learnt the wrong labels: worse on the selection portion, so the old weights were kept
            # (the new student is the old one, not better), and the poisoned weights were worse on the held-out
            # portion too (recorded, never used for a choice).
            self.assertLess(decision["history"][1]["selection_accuracy"], decision["history"][0]["selection_accuracy"])
            self.assertEqual(decision["best_epoch"], 0)
            self.assertIn("no epoch of fine-tuning beat the old student on the selection portion", decision["reasons"])
            self.assertLessEqual(decision["new"]["accuracy"], decision["old"]["accuracy"])
            self.assertLess(decision["last_epoch_heldout_accuracy"], decision["old"]["accuracy"])
            self.assertFalse(os.path.exists(os.path.join(out, "new")), "no new model written")
            self.assertEqual(os.listdir(release), [], "nothing published")
            self.assertEqual([n for n in os.listdir(out) if n.endswith(".gguf")], [], "no GGUF converted")
            with open(os.path.join(out, "decision.json")) as f:
                self.assertEqual(json.load(f)["accepted"], False)
            print("poisoned round refused: selection accuracy %.4f -> %.4f after the fine-tune; held-out accuracy old %.4f, "
                  "poisoned weights %.4f; %s" % (decision["history"][0]["selection_accuracy"],
                                                   decision["history"][1]["selection_accuracy"], decision["old"]["accuracy"],
                                                   decision["last_epoch_heldout_accuracy"], "; ".join(decision["reasons"])))


if __name__ == "__main__":
    unittest.main()
