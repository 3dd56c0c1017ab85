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

from tools import ROOT
from tools.distill.round import publish_files
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


if __name__ == "__main__":
    unittest.main()
