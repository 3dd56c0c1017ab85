"""The training pipeline's fixed settings (sizes, presets, per-stage hyper-parameters, escalation rules) and the
command-line overrides applied to them; what a run used is recorded in its provenance."""

import os

from tools import ROOT

DEFAULT_OUT = os.path.join(ROOT, "build", "train")
DEFAULT_SEED = 1234
MAX_LEN = 256
VOCAB_SIZE = 8000
THREADS = 2
MODEL_VERSION_PREFIX = "1"
# How a stage is run, as recorded in provenance (commands to reproduce a folder).
TRAIN_CMD = "python3 -m tools.train"

PRESETS = {
    "full": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024,
                 max_position_embeddings=256, type_vocab_size=2, vocab_size=VOCAB_SIZE, limit=None),
    # For tests: toy sizes, a few hundred texts per dataset and split.
    "tiny": dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                 max_position_embeddings=256, type_vocab_size=2, vocab_size=400, limit=120),
}

# Stage hyper-parameters (full preset). epochs: passes over the train split; batch: texts per step.
HPARAMS = {
    "pretrain": dict(epochs=5, lr=1e-3, batch=128, warmup=0.06, dropout=0.1, weight_decay=0.01, wordnet=0),
    "intent-clinc": dict(epochs=8, lr=6e-4, batch=32, warmup=0.06, dropout=0.1, weight_decay=0.01, recase=0.3),
    "maint-ner": dict(epochs=40, lr=3e-4, batch=16, warmup=0.06, dropout=0.1, weight_decay=0.01, recase=0.3),
    "pii-ner": dict(epochs=8, lr=3e-4, batch=32, warmup=0.06, dropout=0.1, weight_decay=0.01, synth=1.0, mix=1.0),
    "ner-general": dict(epochs=4, lr=3e-4, batch=32, warmup=0.06, dropout=0.1, weight_decay=0.01),
}
TINY_HPARAMS = dict(epochs=1, lr=1e-3, batch=16, warmup=0.1, dropout=0.1, weight_decay=0.01)
# The hyper-parameters a command-line flag of the same name overrides.
OVERRIDES = ("epochs", "lr", "batch", "warmup", "dropout", "augment", "synth", "mix", "recase")

ESCALATION = {"min_oos_recall": 0.90, "max_ner_escalation": 0.20}
# Per task, the label whose prediction means "the model declines: escalate" (edgetag.json's abstain_label,
# which the converter writes as edgetag.escalation.abstain_label).
ABSTAIN_LABEL = {"intent-clinc": "oos"}


def stage_hparams(stage, args):
    """The stage's hyper-parameters (TINY_HPARAMS for the tiny preset) with args' overrides."""
    hp = dict(TINY_HPARAMS if args.preset == "tiny" else HPARAMS[stage])
    for k in OVERRIDES:
        v = getattr(args, k, None)
        if v is not None:
            hp[k] = v
    return hp


def preset_flag(args):
    return "" if args.preset == "full" else " --preset " + args.preset


def override_flags(args):
    """The flags that changed a stage's settings, as they are written on the command line."""
    s = ""
    for k in OVERRIDES:
        v = getattr(args, k, None)
        if v is not None:
            s += " --%s %s" % (k, v)
    if getattr(args, "max_steps", None):
        s += " --max-steps %d" % args.max_steps
    if getattr(args, "seed", DEFAULT_SEED) != DEFAULT_SEED:
        s += " --seed %d" % args.seed
    return s
