"""One distillation round on the intent student (tools/distill/__init__.py has the commands):

 1. the shipped f32 GGUF back into a checkpoint (student.py); the dev split cut into traffic / selection /
    held-out portions (splits.py);
 2. the captured teacher answers read and checked (capture.py); any that fall on the selection or held-out
    portions are dropped, so neither is ever trained on;
 3. fine-tune from the old weights on the teacher examples (repeated --teacher-weight times) plus a fresh
    sample of the original training data (--replay texts of the train split), for --epochs, keeping the epoch
    with the best selection-portion accuracy;
 4. calibrate: temperature (dev NLL, as tools/train/calibrate.py) and threshold (the same rule as the shipped
    one: lowest threshold with oos recall >= 0.90) on the selection portion;
 5. measure old and new on the held-out portion (evaluate.py) and apply the gate: better accuracy, and no more
    escalation to keep the old student's kept-local accuracy. Refused: say why, publish nothing.
 6. accepted: convert to GGUF, quantize to int8, check the int8 file through the engine on the held-out
    portion, and, with --publish, sign a manifest into a release channel (tools/release.mjs publish).
"""

import json
import os
import subprocess
import time

import numpy as np
import torch
import torch.nn.functional as F

from tools import ROOT
from tools.data import tasks as tasks_mod
from tools.distill import capture, splits
from tools.distill.evaluate import compare, measure
from tools.distill.student import to_folder
from tools.eval import metrics
from tools.eval.engine import eval_intent
from tools.formats import safetensors_np
from tools.train.calibrate import fit_temperature
from tools.train.data import batch_order, collate, encode_task, forward_logits, load_tokenizer, read_vocab
from tools.train.model import Model, make_optimizer, optimizer_step, seed_all
from tools.train.runtime import log, sha256_file, write_json
from tools.train.settings import ESCALATION

DEFAULTS = dict(epochs=2, lr=1e-4, batch=32, warmup=0.1, weight_decay=0.01, dropout=0.1, replay=6000,
                teacher_weight=3, min_gain=0.0, seed=1234)


def load_model(folder, n_labels, dropout):
    """tools/train's Model with the folder's weights."""
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    model = Model(config, "sequence_classification", n_labels, dropout=dropout)
    state = {k: torch.from_numpy(np.array(v)) for k, v in safetensors_np.load_checkpoint(folder).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError("checkpoint does not fit the model: missing %s, unexpected %s" % (missing, unexpected))
    return model, config


def logits_of(model, encoded, pad_id):
    model.eval()
    return forward_logits(lambda i, m: model(i, m), encoded, pad_id)


def finetune(model, train, select, select_gold, labels, pad_id, hp):
    """Fine-tunes in place; keeps the epoch with the best selection accuracy (epoch 0, the old weights, counts
    too). Returns the history."""
    rng = np.random.RandomState(hp["seed"])
    lengths = [len(e["ids"]) for e in train]
    steps = sum(1 for _ in batch_order(lengths, hp["batch"], np.random.RandomState(0))) * hp["epochs"]
    opt, sched = make_optimizer(model, hp, steps)

    def select_accuracy():
        pred = np.stack(logits_of(model, select, pad_id)).argmax(1)
        return float(np.mean([labels[p] == g for p, g in zip(pred, select_gold)]))

    best = select_accuracy()
    best_state, best_epoch = {k: v.detach().clone() for k, v in model.state_dict().items()}, 0
    history = [{"epoch": 0, "selection_accuracy": best}]
    log("distill: epoch 0 (the old student) selection accuracy %.4f" % best)
    t0 = time.time()
    for epoch in range(1, hp["epochs"] + 1):
        model.train()
        total = n = 0
        for b in batch_order(lengths, hp["batch"], rng):
            ids, mask = collate([train[i]["ids"] for i in b], pad_id)
            y = torch.tensor([train[i]["label"] for i in b], dtype=torch.long)
            loss = F.cross_entropy(model(ids, mask), y)
            optimizer_step(model, opt, sched, loss)
            total += loss.item()
            n += 1
        acc = select_accuracy()
        history.append({"epoch": epoch, "train_loss": total / max(1, n), "selection_accuracy": acc,
                        "seconds": time.time() - t0})
        log("distill: epoch %d loss %.4f selection accuracy %.4f (%.0f s)" % (epoch, total / max(1, n), acc, time.time() - t0))
        if acc > best:
            best, best_epoch = acc, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    last_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return history, best_epoch, last_state


def calibrate(labels, logits, gold):
    """(temperature, threshold, rule met) on the selection portion, by the shipped rule."""
    y = np.array([labels.index(g) for g in gold])
    T = fit_temperature(np.stack(logits), y)
    P = metrics.softmax(np.stack(logits).astype(np.float64), T)
    curve = metrics.intent_curve(gold, [labels[i] for i in P.argmax(1)], P.max(1))
    row, reached = metrics.choose_intent_threshold(curve, ESCALATION["min_oos_recall"])
    return T, row["threshold"], reached


def publish_files(folder, out, name, version, cli, node, release):
    """GGUF f32 and int8 of the new folder; with release = {dir, key, channel, rollout}, a signed manifest."""
    f32 = os.path.join(out, name + "-f32.gguf")
    i8 = os.path.join(out, name + ".gguf")
    subprocess.run(["/usr/bin/python3", "-m", "tools.convert", folder, "-o", f32, "--name", name,
                    "--model-version", version], check=True, cwd=ROOT)
    subprocess.run([cli, "quantize", f32, i8, "--type", "i8"], check=True, cwd=ROOT)
    out_files = {"f32": f32, "int8": i8, "int8_sha256": sha256_file(i8), "int8_bytes": os.path.getsize(i8)}
    if release:
        cmd = node + ["tools/release.mjs", "publish", i8, "--channel", release["channel"], "--out", release["dir"],
                      "--key", release["key"], "--rollout", str(release["rollout"]),
                      "--test-input", "book a table for two at 7pm", "--expect-label", "restaurant_reservation"]
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("release.mjs publish failed: " + (r.stderr or r.stdout).strip())
        out_files["release"] = r.stdout.strip()
    return out_files


def run_round(model_gguf, captured, out, data_dir, hp, cli, node, release=None, int8_gguf=None):
    """The round (module docstring). Returns the decision dict (also written to OUT/decision.json)."""
    t_start = time.time()
    seed_all(hp["seed"])
    old_dir, new_dir = os.path.join(out, "old"), os.path.join(out, "new")
    edge = to_folder(model_gguf, old_dir)
    task = tasks_mod.get("intent-clinc", data_dir)
    labels = task.labels
    if labels != edge["labels"]:
        raise ValueError("the model's labels are not the task's")
    parts = splits.split(task.examples("dev", data_dir))
    records, bad_lines = capture.read_records(captured)
    teacher, refused = capture.teacher_examples(records, labels, edge["name"])
    if bad_lines:
        refused["unreadable_line"] = len(bad_lines)
    protected = {t for t, _ in parts["selection"]} | {t for t, _ in parts["heldout"]}
    dropped = sum(1 for t, _ in teacher if t in protected)
    teacher = [(t, y) for t, y in teacher if t not in protected]
    decision = {"model": edge["model_version"], "captured": captured, "records": len(records),
                "teacher_examples": len(teacher), "refused_records": refused,
                "dropped_as_selection_or_heldout": dropped,
                "portions": {k: len(v) for k, v in parts.items()}, "hparams": hp}
    log("distill: %d records, %d teacher examples (refused %s; %d on protected portions dropped)"
        % (len(records), len(teacher), refused or "none", dropped))
    os.makedirs(out, exist_ok=True)
    if not teacher:
        decision.update(accepted=False, reasons=["no usable teacher examples"])
        write_json(os.path.join(out, "decision.json"), decision)
        return decision

    tok, vocab = load_tokenizer(old_dir), read_vocab(old_dir)
    pad = vocab.index("[PAD]")
    train_split = task.examples("train", data_dir)
    rng = np.random.RandomState(hp["seed"])
    replay = [train_split[i] for i in rng.choice(len(train_split), min(hp["replay"], len(train_split)), replace=False)]
    train = encode_task(task, teacher * hp["teacher_weight"] + replay, tok)
    select = encode_task(task, parts["selection"], tok)
    held = encode_task(task, parts["heldout"], tok)
    select_gold = [y for _, y in parts["selection"]]
    held_gold = [y for _, y in parts["heldout"]]

    model, config = load_model(old_dir, len(labels), hp["dropout"])
    old_logits = logits_of(model, held, pad)
    old = measure(labels, held_gold, old_logits, edge["temperature"], edge["threshold"], edge["abstain_label"])
    history, best_epoch, last_state = finetune(model, train, select, select_gold, labels, pad, hp)
    last_accuracy = None
    if best_epoch != hp["epochs"]:  # for the record only (never a choice): what the last epoch would have done
        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(last_state)
        last_accuracy = measure(labels, held_gold, logits_of(model, held, pad), edge["temperature"], edge["threshold"],
                                edge["abstain_label"])["accuracy"]
        model.load_state_dict(best_state)
    T, threshold, reached = calibrate(labels, logits_of(model, select, pad), select_gold)
    new = measure(labels, held_gold, logits_of(model, held, pad), T, threshold, edge["abstain_label"])
    accepted, reasons, matched = compare(old, new, hp["min_gain"])
    if best_epoch == 0:
        accepted = False
        reasons.insert(0, "no epoch of fine-tuning beat the old student on the selection portion")
    strip = lambda m: {k: v for k, v in m.items() if k != "curve"}
    decision.update(old=strip(old), new=strip(new), matched=matched, history=history, best_epoch=best_epoch,
                    last_epoch_heldout_accuracy=last_accuracy,
                    threshold_rule_met=reached, accepted=accepted, reasons=reasons,
                    curves={"old": metrics.thin_curve(old["curve"], 41), "new": metrics.thin_curve(new["curve"], 41)})
    log("distill: held-out accuracy old %.4f new %.4f; escalation at kept-local accuracy %.4f: old %.3f new %.3f"
        % (old["accuracy"], new["accuracy"], matched["target_local_accuracy"], matched["old"]["escalation_rate"],
           matched["new"]["escalation_rate"]))
    if not accepted:
        for r in reasons:
            log("distill: REFUSED: " + r)
        decision["seconds"] = time.time() - t_start
        write_json(os.path.join(out, "decision.json"), decision)
        return decision

    # Accepted: the new folder, converted, quantized, checked through the engine, published.
    from tools.train.model import save_folder
    save_folder(new_dir, config, model, old_dir)
    weights = sha256_file(os.path.join(new_dir, "model.safetensors"))
    base = edge["model_version"].rsplit(".", 1)[0] if "." in edge["model_version"] else edge["model_version"]
    version = "%s+d.%s" % (base, weights[:8])
    prov = dict(edge["provenance"])
    prov["distill"] = {"from": edge["model_version"], "captured": os.path.basename(captured),
                       "teacher_examples": len(teacher), "hparams": hp, "best_epoch": best_epoch, "history": history,
                       "heldout": {"old": strip(old), "new": strip(new)}, "matched": matched,
                       "command": "python3 -m tools.distill round"}
    write_json(os.path.join(new_dir, "edgetag.json"), {
        "temperature": T, "threshold": threshold, "abstain_label": edge["abstain_label"], "model_version": version,
        "calibrated": True, "threshold_rule_satisfied": reached, "provenance": prov})
    files = publish_files(new_dir, out, edge["name"], version, cli, node, release)
    engine = {"new_int8": eval_intent(cli, files["int8"], parts["heldout"])}
    if int8_gguf:
        engine["old_int8"] = eval_intent(cli, int8_gguf, parts["heldout"])
    decision.update(version=version, files=files, engine_heldout=engine, seconds=time.time() - t_start)
    write_json(os.path.join(out, "decision.json"), decision)
    log("distill: ACCEPTED %s -> %s" % (edge["model_version"], version))
    return decision
