"""The stages that run other stages: all (vocab, pretrain, then finetune and calibrate per task, then the
cards) and ablate (a task fine-tuned from scratch against the one from the masked LM)."""

import os
import time

from tools.data import tasks as tasks_mod
from tools.eval.scores import summary
from tools.train.calibrate import calibrate
from tools.train.cards import cmd_cards
from tools.train.finetune import finetune
from tools.train.pretrain import cmd_pretrain
from tools.train.runtime import log, read_json, write_json
from tools.train.vocab import cmd_vocab


def cmd_all(args):
    names = args.tasks.split(",") if args.tasks else list(tasks_mod.TASK_NAMES)
    times = {}
    t = time.time()
    cmd_vocab(args)
    times["vocab"] = time.time() - t
    t = time.time()
    cmd_pretrain(args)
    times["pretrain"] = time.time() - t
    for name in names:
        t = time.time()
        finetune(args, name)
        times["finetune " + name] = time.time() - t
        t = time.time()
        calibrate(args, name)
        times["calibrate " + name] = time.time() - t
    for k, v in times.items():
        log("all: %-24s %7.1f s" % (k, v))
    cmd_cards(args)


def cmd_ablate(args):
    """Fine-tunes args.task from scratch into OUT/ablation/<task>-scratch with the same hyper-parameters,
    calibrates it, and compares it with OUT/<task> (from the MLM), which must exist."""
    name = args.task
    out = os.path.join(args.out, "ablation", name + "-scratch")
    finetune(args, name, init="scratch", out=out)
    calibrate(args, name, folder=out)
    task = tasks_mod.get(name, args.data)
    rows = []
    for label, folder in (("from MLM", os.path.join(args.out, name)), ("from scratch", out)):
        e = read_json(os.path.join(folder, "edgetag.json"))
        m = e["metrics"]["dev_before_calibration"]
        rows.append((label, m, e["provenance"]))
        log("ablate %s: %-12s %s (best epoch %d, %.0f s)" % (name, label, summary(task, m),
                                                             e["provenance"]["best_epoch"],
                                                             e["provenance"]["finetune_seconds"]))
    result = {"task": name, "runs": [{"init": label, "dev": {k: v for k, v in m.items() if not isinstance(v, dict)},
                                      "best_epoch": p["best_epoch"], "finetune_seconds": p["finetune_seconds"],
                                      "hparams": p["hparams"]} for label, m, p in rows]}
    write_json(os.path.join(args.out, "ablation", name + ".json"), result)
