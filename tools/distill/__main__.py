"""python3 -m tools.distill simulate|round — see tools/distill/__init__.py."""

import argparse
import json
import os
import sys

from tools import ROOT
from tools.train.runtime import RUN_ENV


def reexec_with_run_env():
    """Once, the process again with tools/train's run environment (passive OpenMP waits, one BLAS thread): on a
    shared 2-core machine busy-waiting threads otherwise slow a fine-tune several times over."""
    if all(os.environ.get(k) == v for k, v in RUN_ENV.items()):
        return
    env = dict(os.environ, **RUN_ENV)
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "tools.distill"] + sys.argv[1:], env)


def main(argv=None):
    if argv is None:
        reexec_with_run_env()
    # torch is imported only now, in the process that has the run environment.
    from tools.data.tasks import DEFAULT_DATA_DIR
    from tools.distill.round import DEFAULTS, run_round
    from tools.distill.simulate import simulate
    ap = argparse.ArgumentParser(prog="python3 -m tools.distill")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("simulate", help="a capture answered by a simulated teacher (gold labels) on the traffic portion")
    s.add_argument("--model", default=os.path.join(ROOT, "models", "intent-clinc-f32.gguf"))
    s.add_argument("-o", "--out", required=True)
    s.add_argument("--work", default=os.path.join(ROOT, "build", "distill", "simulate"))
    s.add_argument("--data", default=DEFAULT_DATA_DIR)
    r = sub.add_parser("round", help="fine-tune on captured teacher data, compare on the held-out portion, publish if better")
    r.add_argument("--model", default=os.path.join(ROOT, "models", "intent-clinc-f32.gguf"), help="the current student, f32 GGUF")
    r.add_argument("--int8", default=None, help="the current student's int8 file, measured through the engine beside the new one")
    r.add_argument("--captured", required=True, help="edgetag.capture/1 JSON Lines (a store's export())")
    r.add_argument("--out", required=True)
    r.add_argument("--data", default=DEFAULT_DATA_DIR)
    r.add_argument("--cli", default=os.path.join(ROOT, "build", "edgetag"))
    r.add_argument("--node", default="npx -y -p node@24.21.0 node", help="how to run tools/release.mjs")
    r.add_argument("--publish", metavar="DIR", help="a release folder: publish the accepted model there (signed)")
    r.add_argument("--key", help="the release signing key (tools/release.mjs keygen)")
    r.add_argument("--channel", default="intent-clinc/stable")
    r.add_argument("--rollout", type=float, default=10)
    for k, v in DEFAULTS.items():
        r.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    a = ap.parse_args(argv)
    if a.cmd == "simulate":
        print(json.dumps(simulate(a.model, a.out, a.data, a.work), indent=1))
        return 0
    hp = {k: getattr(a, k) for k in DEFAULTS}
    release = None
    if a.publish:
        if not a.key:
            ap.error("--publish needs --key")
        release = {"dir": a.publish, "key": a.key, "channel": a.channel, "rollout": a.rollout}
    d = run_round(a.model, a.captured, a.out, a.data, hp, a.cli, a.node.split(), release, a.int8)
    print(json.dumps({k: d.get(k) for k in ("accepted", "reasons", "version", "matched")}, indent=1))
    return 0 if d["accepted"] else 3


if __name__ == "__main__":
    sys.exit(main())
