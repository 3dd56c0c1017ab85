"""The process of a training run: its environment (set before torch loads), its log, and its files (JSON,
hashes). Standard library only, so that __main__ can re-execute itself before anything imports torch."""

import hashlib
import json
import os
import sys
import time

_T0 = time.time()  # the log's clock: seconds since the process started

# The process environment of a training run, set before torch loads (__main__ re-executes itself once with
# it): OpenMP threads sleep instead of spinning when idle (on shared cores, spinning threads slow every
# step), and Debian's OpenBLAS, when installed (libopenblas0-pthread), replaces the reference BLAS that
# python3-torch links by default (much faster matrix products), with one BLAS thread (torch's own 2
# threads do the rest). The system's default BLAS is not changed.
OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
RUN_ENV = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_NUM_THREADS": "1"}


def reexec_with_run_env():
    """Re-executes `python3 -m tools.train` once with RUN_ENV (and OpenBLAS first on LD_LIBRARY_PATH when
    present); returns in the re-executed process."""
    if os.environ.get("EDGETAG_TRAIN_ENV") == "1":
        return
    env = dict(os.environ)
    env.update(RUN_ENV)
    env["EDGETAG_TRAIN_ENV"] = "1"
    if os.path.isfile(os.path.join(OPENBLAS_DIR, "libblas.so.3")):
        env["LD_LIBRARY_PATH"] = OPENBLAS_DIR + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "tools.train"] + sys.argv[1:], env)


def blas_in_use():
    """The BLAS library loaded in this process (from /proc/self/maps), for provenance."""
    try:
        with open("/proc/self/maps", "r") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(libs)) or "none found"


def log(msg):
    print("[%8.1fs] %s" % (time.time() - _T0, msg), flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path, obj):
    """Writes obj as indented UTF-8 JSON through a temporary file, so a reader never sees half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def read_json(path):
    with open(path, "r", encoding="utf-8") as f:
        return json.load(f)
