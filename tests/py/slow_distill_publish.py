"""The publishing half of a round, on its own (make test-distill): the shipped student taken back into a
checkpoint (tools/distill/student.py) and published as an accepted round publishes — converted to GGUF, quantized
to int8, a signed manifest written by tools/release.mjs (its smoke test included). The round trip must be exact
(the re-converted f32 file answers as the shipped f32 file does, to the last digit the CLI prints), and the
manifest must verify against the file with the public key."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from unittest import mock

from tools import ROOT
from tools.data import tasks
from tools.distill import round as round_mod
from tools.distill.round import DEFAULTS, publish_files, run_round
from tools.distill.simulate import simulate
from tools.distill.student import to_folder

MODEL = os.path.join(ROOT, "models", "intent-clinc-f32.gguf")
CLI = os.path.join(ROOT, "build", "edgetag")
NODE = ["npx", "-y", "-p", "node@24.21.0", "node"]
TEXTS = ["book a table for two at 7pm", "what is my balance", "how tall is the eiffel tower", "set an alarm for 6am"]


def classify(model):
    out = subprocess.run([CLI, "classify", "--model", model, "--json", "--", *TEXTS], check=True, capture_output=True, text=True)
    return [json.loads(line) for line in out.stdout.splitlines()]


@unittest.skipUnless(os.path.exists(MODEL) and os.path.exists(CLI), "needs models/intent-clinc-f32.gguf and build/edgetag")
class Publish(unittest.TestCase):
    def test_round_trip_and_signed_release(self):
        with tempfile.TemporaryDirectory() as d:
            folder = os.path.join(d, "student")
            edge = to_folder(MODEL, folder)
            with open(os.path.join(folder, "edgetag.json"), "w") as f:
                json.dump({k: edge[k] for k in ("temperature", "threshold", "abstain_label", "model_version", "provenance")}, f)
            key = os.path.join(d, "keys", "release.key")
            subprocess.run(NODE + ["tools/release.mjs", "keygen", "--out", key], check=True, cwd=ROOT, capture_output=True)
            release = os.path.join(d, "release")
            files = publish_files(folder, d, "intent-clinc", edge["model_version"] + "+rt", CLI, NODE,
                                  {"dir": release, "key": key, "channel": "intent-clinc/stable", "rollout": 10})
            self.assertEqual(classify(files["f32"]), classify(MODEL), "the f32 round trip is exact")
            self.assertEqual([a["label"] for a in classify(files["int8"])], [a["label"] for a in classify(os.path.join(ROOT, "models", "intent-clinc.gguf"))])
            manifest = os.path.join(release, "intent-clinc", "stable.json")
            with open(manifest) as f:
                m = json.load(f)
            self.assertEqual(m["version"], edge["model_version"] + "+rt")
            self.assertEqual(m["rollout"], 10)
            self.assertEqual(m["test"]["expect"]["label"], "restaurant_reservation")
            r = subprocess.run(NODE + ["tools/release.mjs", "verify", manifest, "--public-key-file", key + ".pub", "--model", files["int8"]],
                               cwd=ROOT, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            shutil.rmtree(os.path.join(d, "keys"))


    @unittest.skipUnless(os.path.isdir(tasks.DEFAULT_DATA_DIR), "needs ../shared/data")
    def test_the_accepted_branch_runs_to_a_verified_release(self):
        """The round's accepted branch, whatever the gate would say of this short fine-tune (the gate is replaced
        by one that accepts): a new folder, GGUF f32 and int8 with the new calibration and version, the int8 file
        checked through the engine on the held-out portion, a signed manifest that verifies."""
        with tempfile.TemporaryDirectory() as d:
            captured = os.path.join(d, "captured.jsonl")
            simulate(MODEL, captured, tasks.DEFAULT_DATA_DIR, os.path.join(d, "sim"))
            key = os.path.join(d, "keys", "release.key")
            subprocess.run(NODE + ["tools/release.mjs", "keygen", "--out", key], check=True, cwd=ROOT, capture_output=True)
            release = os.path.join(d, "release")
            real = round_mod.compare
            accept = lambda old, new, min_gain=0.0: (True, [], real(old, new, min_gain)[2])
            with mock.patch.object(round_mod, "compare", accept):
                decision = run_round(MODEL, captured, os.path.join(d, "round"), tasks.DEFAULT_DATA_DIR,
                                     dict(DEFAULTS, epochs=1, replay=400), CLI, NODE,
                                     {"dir": release, "key": key, "channel": "intent-clinc/stable", "rollout": 10},
                                     int8_gguf=os.path.join(ROOT, "models", "intent-clinc.gguf"))
            self.assertTrue(decision["accepted"], decision.get("reasons"))
            self.assertRegex(decision["version"], r"^intent-clinc-1\+d\.[0-9a-f]{8}$")
            engine = decision["engine_heldout"]
            self.assertEqual(engine["new_int8"]["texts"], decision["portions"]["heldout"])
            self.assertAlmostEqual(engine["new_int8"]["accuracy"], decision["new"]["accuracy"], delta=0.01,
                                   msg="int8 through the engine within a point of f32 through PyTorch")
            out = subprocess.run([CLI, "inspect", decision["files"]["int8"]], check=True, capture_output=True, text=True).stdout
            self.assertIn(decision["version"], out)
            manifest = os.path.join(release, "intent-clinc", "stable.json")
            r = subprocess.run(NODE + ["tools/release.mjs", "verify", manifest, "--public-key-file", key + ".pub",
                                       "--model", decision["files"]["int8"]], cwd=ROOT, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            shutil.rmtree(os.path.join(d, "keys"))


if __name__ == "__main__":
    unittest.main()
