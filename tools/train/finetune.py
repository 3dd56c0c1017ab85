"""Stage finetune: one task's model (OUT/<task>/) from the masked LM (or from scratch: --init scratch).

AdamW, linear warm-up then linear decay, gradient clipping 1.0; the dev split is scored after each epoch
and the best epoch's weights are kept (intent-clinc: accuracy; NER: span F1). pii-ner trains on the train
split plus synthetic texts (--synth, a multiple of the train size; HPARAMS: 2) drawn afresh every epoch
(tools/train/pii.py). The folder gets edgetag.json, uncalibrated (temperature 1, no threshold) until the
calibrate stage: model_version, the task's abstain_label where it has one, and provenance.
"""

import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F

from tools.data import tasks as tasks_mod
from tools.eval.scores import evaluate, selection_score, summary
from tools.formats import safetensors_np
from tools.train.data import (batch_order, collate, data_provenance, forward_logits, load_tokenizer, read_vocab,
                              resample_each_epoch, task_data, total_steps)
from tools.train.model import Model, make_config, make_optimizer, optimizer_step, save_folder, seed_all
from tools.train.runtime import RUN_ENV, blas_in_use, log, read_json, sha256_file, write_json
from tools.train.settings import (ABSTAIN_LABEL, MAX_LEN, MODEL_VERSION_PREFIX, THREADS, TRAIN_CMD,
                                  override_flags, preset_flag, stage_hparams)


def init_from_mlm(model, mlm_dir, task_name):
    """Copies the masked LM's encoder ("bert.*") into model; returns the MLM weights' sha256."""
    state = safetensors_np.load_checkpoint(mlm_dir)
    own = model.state_dict()
    loaded = 0
    with torch.no_grad():
        for k, v in state.items():
            if k.startswith("bert.") and k in own:
                own[k].copy_(torch.from_numpy(np.array(v)))
                loaded += 1
    log("finetune %s: %d tensors from %s" % (task_name, loaded, mlm_dir))
    return sha256_file(os.path.join(mlm_dir, "model.safetensors"))


def batch_loss(model, task, examples, pad_id):
    """Cross-entropy of a batch of encoded examples (token classification: over the non-ignored tokens)."""
    if task.kind == "sequence_classification":
        ids, mask = collate([e["ids"] for e in examples], pad_id)
        y = torch.tensor([e["label"] for e in examples], dtype=torch.long)
        return F.cross_entropy(model(ids, mask), y)
    ids, mask, y = collate([e["ids"] for e in examples], pad_id, [e["label_ids"] for e in examples])
    lg = model(ids, mask)
    return F.cross_entropy(lg.reshape(-1, lg.shape[-1]), y.reshape(-1), ignore_index=-100)


def reproduce_commands(args, task_name, init):
    """The commands that make this folder, for provenance."""
    preset, overrides = preset_flag(args), override_flags(args)
    if init == "mlm":
        return [TRAIN_CMD + " vocab" + preset, TRAIN_CMD + " pretrain" + preset,
                TRAIN_CMD + " finetune --task %s%s%s" % (task_name, preset, overrides)]
    return [TRAIN_CMD + " vocab" + preset,
            TRAIN_CMD + " finetune --task %s --init scratch%s%s" % (task_name, preset, overrides)]


def finetune(args, task_name, init="mlm", out=None):
    """Fine-tunes one task into out (default OUT/<task>); returns (out folder, provenance)."""
    seed_all(args.seed)
    task = tasks_mod.get(task_name, args.data)
    vocab_dir = os.path.join(args.out, "vocab")
    vocab = read_vocab(vocab_dir)
    tok = load_tokenizer(vocab_dir)
    hp = stage_hparams(task_name, args)
    out = out or os.path.join(args.out, task_name)
    train, dev = task_data(args, task, tok, hp)
    log("finetune %s: %d train, %d dev examples, %d labels, init %s; %s" % (
        task_name, len(train), len(dev), len(task.labels), init, hp))
    config = make_config(args.preset, vocab, task.kind, task.labels)
    model = Model(config, task.kind, len(task.labels), dropout=hp["dropout"])
    init_sha = init_from_mlm(model, os.path.join(args.out, "mlm"), task_name) if init == "mlm" else None
    n_params = sum(p.numel() for p in model.parameters())
    pad_id = vocab.index("[PAD]")
    rng = np.random.RandomState(args.seed)
    lengths = [len(e["ids"]) for e in train]
    total = total_steps(lengths, hp, args.max_steps)
    opt, sched = make_optimizer(model, hp, total)
    t0 = time.time()
    step, best, best_state, best_epoch, history = 0, -1.0, None, 0, []
    for epoch in range(hp["epochs"]):
        if epoch and resample_each_epoch(task, hp):
            train, _ = task_data(args, task, tok, hp, epoch=epoch, dev=False)
            lengths = [len(e["ids"]) for e in train]
        model.train()
        run_loss = run_n = 0.0
        for b in batch_order(lengths, hp["batch"], rng):
            if step >= total:
                break
            loss = batch_loss(model, task, [train[i] for i in b], pad_id)
            optimizer_step(model, opt, sched, loss)
            step += 1
            run_loss += loss.item()
            run_n += 1
        model.eval()
        dev_logits = forward_logits(lambda i, m: model(i, m), dev, pad_id)
        m, _, _ = evaluate(task, dev, dev_logits)
        score = selection_score(task, m)
        history.append({"epoch": epoch + 1, "train_loss": run_loss / max(1, run_n), "dev": {
            k: v for k, v in m.items() if not isinstance(v, dict)}, "seconds": time.time() - t0})
        log("finetune %s: epoch %d/%d loss %.4f dev %s (%.0f s)" % (
            task_name, epoch + 1, hp["epochs"], run_loss / max(1, run_n), summary(task, m), time.time() - t0))
        if score > best:
            best, best_epoch = score, epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if step >= total:
            break
    seconds = time.time() - t0
    model.load_state_dict(best_state)
    save_folder(out, config, model, vocab_dir)
    weights_sha = sha256_file(os.path.join(out, "model.safetensors"))
    prov = {
        "task": task_name, "preset": args.preset, "seed": args.seed, "hparams": hp, "init": init,
        "init_sha256": init_sha, "best_epoch": best_epoch, "epochs_run": len(history), "steps": step,
        "train_examples": len(train), "dev_examples": len(dev), "parameters": n_params,
        "finetune_seconds": seconds, "max_length": MAX_LEN,
        "data_dir": "../shared/data", "data_files": data_provenance(args.data, task_name),
        "vocab_sha256": sha256_file(os.path.join(vocab_dir, "vocab.txt")),
        "weights_sha256": weights_sha,
        "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
        "threads": THREADS, "machine": platform.machine(), "blas": blas_in_use(),
        "run_env": {k: os.environ.get(k) for k in RUN_ENV},
        "commands": reproduce_commands(args, task_name, init),
        "history": history,
    }
    mlm_info = os.path.join(args.out, "mlm", "mlm.json")
    if init == "mlm" and os.path.isfile(mlm_info):
        mi = read_json(mlm_info)
        prov["pretrain"] = {k: mi.get(k) for k in ("seconds", "steps", "hparams", "train_texts", "train_tokens",
                                                     "weights_sha256", "command")}
        prov["pretrain"]["final_dev_mlm"] = mi["history"][-1] if mi.get("history") else None
    selection = "accuracy" if task.kind == "sequence_classification" else "span F1"
    edge = {"temperature": 1.0, "threshold": None,
            "model_version": "%s-%s.%s" % (task_name, MODEL_VERSION_PREFIX, weights_sha[:8])}
    if task_name in ABSTAIN_LABEL:
        edge["abstain_label"] = ABSTAIN_LABEL[task_name]
    edge.update({"calibrated": False, "provenance": prov, "metrics": {"selection": "best dev epoch by " + selection}})
    write_json(os.path.join(out, "edgetag.json"), edge)
    log("finetune %s: best epoch %d (%s %.4f), wrote %s (%.0f s)" % (
        task_name, best_epoch, selection, best, out, seconds))
    return out, prov


def cmd_finetune(args):
    finetune(args, args.task, init=args.init, out=args.ckpt)
