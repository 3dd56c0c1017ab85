"""python3 -m tools.train STAGE [options]: the training pipeline's command line (tools/train/__init__.py)."""

import argparse
import sys

from tools.data import datasets
from tools.data import tasks as tasks_mod
from tools.train import runtime
from tools.train.settings import DEFAULT_OUT, DEFAULT_SEED, PRESETS

STAGES = ("vocab", "pretrain", "finetune", "calibrate", "all", "ablate", "cards")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="train.py", description="Train edgetag's student models.")
    ap.add_argument("stage", choices=STAGES)
    ap.add_argument("--task", choices=tasks_mod.TASK_NAMES)
    ap.add_argument("--tasks", help="comma-separated tasks for `all` (default: every task)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (default build/train)")
    ap.add_argument("--data", default=datasets.DEFAULT_DATA_DIR, help="data folder (default ../shared/data)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="full")
    ap.add_argument("--init", choices=("mlm", "scratch"), default="mlm", help="finetune: start from (default mlm)")
    ap.add_argument("--ckpt", help="finetune/calibrate: the task folder (default OUT/TASK), e.g. for trials")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--warmup", type=float)
    ap.add_argument("--dropout", type=float)
    ap.add_argument("--augment", type=int, help="NER: value-swapped copies of each train text (default 0)")
    ap.add_argument("--synth", type=float, help="pii-ner: synthetic texts (augment_pii), as a multiple of the "
                    "train texts (default: HPARAMS; 0 = none)")
    ap.add_argument("--mix", type=float, help="pii-ner: the generated, social-media and PII-free texts of "
                    "tools/train/pii_mix.py, as a multiple of their default sizes (default: HPARAMS; 0 = none)")
    ap.add_argument("--recase", type=float, help="the share of train texts re-cased every epoch as people type "
                    "(capitalized, with a final mark, title case, upper case; default: HPARAMS; 0 = none)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many optimizer steps (0: no limit)")
    args = ap.parse_args(argv)
    if args.stage in ("finetune", "calibrate", "ablate") and not args.task:
        ap.error("%s needs --task" % args.stage)
    if args.tasks:
        for n in args.tasks.split(","):
            if n not in tasks_mod.TASK_NAMES:
                ap.error("unknown task %r" % n)
    return args


def main(argv=None):
    args = parse_args(argv)
    # The stages load torch, so they are imported only now, in the process that has the run environment.
    from tools.train import calibrate, cards, finetune, pipeline, pretrain, vocab
    run = {"vocab": vocab.cmd_vocab, "pretrain": pretrain.cmd_pretrain, "finetune": finetune.cmd_finetune,
           "calibrate": calibrate.cmd_calibrate, "all": pipeline.cmd_all, "ablate": pipeline.cmd_ablate,
           "cards": cards.cmd_cards}
    try:
        run[args.stage](args)
    except datasets.DataError as e:
        print("train.py: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    runtime.reexec_with_run_env()
    sys.exit(main())
