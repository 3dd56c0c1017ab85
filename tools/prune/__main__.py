"""prune — structured pruning of a shipped model at conversion: attention heads and FFN neurons ranked by their
importance on the task's training data, the least important removed, then a short recovery fine-tune; writes an
f32 GGUF that `edgetag quantize` turns into int8 / q4 like any other.

Usage (from the repository root; nice it, it trains):
    /usr/bin/python3 -m tools.prune --task maint-ner --model models/maint-ner-f32.gguf --heads 2 --ffn 256 \\
        [--epochs 12] [--lr 3e-4] [--batches 0] [--data ../shared/data] -o build/variants/maint-ner-pruned-f32.gguf

Importance (first order, as Michel et al. 2019 for heads and Molchanov et al. 2017 for neurons): a gate of 1.0
multiplies each head's output and each FFN neuron's activation; the loss's gradient with respect to a gate, summed
over a batch, estimates how much the loss would grow if that unit were removed; importance = the sum over
batches of its absolute value (all training batches, or the first --batches). Every layer keeps the same number of
heads (--heads, of the same head size) and FFN neurons (--ffn): the pruned model is a dense BERT the engine runs
unchanged, its widths in llama.cpp's keys (bert.attention.head_count and key_length / value_length,
bert.feed_forward_length). The recovery fine-tune is tools/train's (AdamW, warm-up then linear decay, clipping,
dev scored after each epoch, the best epoch kept) with dropout 0.1. The calibration temperature and escalation
threshold are then refitted on the dev split by tools/train/calibrate.py's rules, as for the shipped models (a
pruned model is less confident: the unpruned threshold escalated 38 % of maint-ner's dev texts against the rule's
20 %). The GGUF keeps every key of the input (with edgetag.pruned describing the pruning and the refit, and the
new edgetag.calibration.temperature / edgetag.escalation.threshold) and the tensors in the same order.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import types

import numpy as np
import torch

from tools.data import tasks as tasks_mod
from tools.eval.scores import evaluate, selection_score, summary
from tools.formats import ggufio
from tools.tokenizer import vocab_from_gguf
from tools.train.data import batch_order, forward_logits, load_tokenizer, task_data, total_steps
from tools.train.calibrate import calibration_targets, choose_threshold, fit_temperature
from tools.train.finetune import batch_loss
from tools.train.model import Model, make_optimizer, optimizer_step, seed_all
from tools.train.settings import stage_hparams

# GGUF tensor name -> Hugging Face name (blk.N.* per layer), and back.
GLOBAL = {
    "token_embd.weight": "bert.embeddings.word_embeddings.weight",
    "position_embd.weight": "bert.embeddings.position_embeddings.weight",
    "token_types.weight": "bert.embeddings.token_type_embeddings.weight",
    "token_embd_norm.weight": "bert.embeddings.LayerNorm.weight", "token_embd_norm.bias": "bert.embeddings.LayerNorm.bias",
    "cls.weight": "bert.pooler.dense.weight", "cls.bias": "bert.pooler.dense.bias",
    "cls.output.weight": "classifier.weight", "cls.output.bias": "classifier.bias",
}
LAYER = {
    "attn_q": "attention.self.query", "attn_k": "attention.self.key", "attn_v": "attention.self.value",
    "attn_output": "attention.output.dense", "attn_output_norm": "attention.output.LayerNorm",
    "ffn_up": "intermediate.dense", "ffn_down": "output.dense", "layer_output_norm": "output.LayerNorm",
}


def hf_name(name):
    if name in GLOBAL:
        return GLOBAL[name]
    _, n, part, what = name.split(".")
    return "bert.encoder.layer.%s.%s.%s" % (n, LAYER[part], what)


def config_of(kv, kind, n_labels, heads=None, head_size=None, ffn=None):
    c = {"hidden_size": kv["bert.embedding_length"], "num_attention_heads": heads or kv["bert.attention.head_count"],
         "intermediate_size": ffn or kv["bert.feed_forward_length"], "num_hidden_layers": kv["bert.block_count"],
         "layer_norm_eps": kv["bert.attention.layer_norm_epsilon"], "max_position_embeddings": kv["bert.context_length"],
         "type_vocab_size": kv["tokenizer.ggml.token_type_count"], "vocab_size": len(kv["tokenizer.ggml.tokens"]),
         "pad_token_id": kv.get("tokenizer.ggml.padding_token_id", 0)}
    if head_size:
        c["attention_head_size"] = head_size
    return c


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def importance(model, task, train, pad_id, n_layers, n_heads, head_size, ffn, hp, max_batches, seed):
    """|Σ ∂L/∂gate| summed over batches, per head [N, heads] and per FFN neuron [N, ffn]."""
    hg = torch.ones(n_layers, n_heads, requires_grad=True)
    fg = torch.ones(n_layers, ffn, requires_grad=True)
    hooks = []
    for l, layer in enumerate(model.bert.encoder.layer):
        def head_hook(_m, _i, out, l=l):
            B, L, A = out.shape
            return (out.view(B, L, n_heads, head_size) * hg[l][None, None, :, None]).view(B, L, A)

        def ffn_hook(_m, _i, out, l=l):
            return out * fg[l]
        hooks.append(getattr(layer.attention, "self").register_forward_hook(head_hook))
        hooks.append(layer.intermediate.register_forward_hook(ffn_hook))
    hs, fs = torch.zeros(n_layers, n_heads), torch.zeros(n_layers, ffn)
    model.eval()
    rng = np.random.RandomState(seed)
    lengths = [len(e["ids"]) for e in train]
    for k, b in enumerate(batch_order(lengths, hp["batch"], rng)):
        if max_batches and k >= max_batches:
            break
        loss = batch_loss(model, task, [train[i] for i in b], pad_id)
        gh, gf = torch.autograd.grad(loss, [hg, fg])
        hs += gh.abs()
        fs += gf.abs()
    for h in hooks:
        h.remove()
    return hs.numpy(), fs.numpy()


def prune_state(state, n_layers, keep_heads, keep_ffn, head_size):
    """The state dict with only the kept heads' rows/columns and the kept neurons."""
    out = dict(state)
    for l in range(n_layers):
        p = "bert.encoder.layer.%d." % l
        rows = np.concatenate([np.arange(h * head_size, (h + 1) * head_size) for h in sorted(keep_heads[l])])
        for part in ("query", "key", "value"):
            out[p + "attention.self.%s.weight" % part] = state[p + "attention.self.%s.weight" % part][rows]
            out[p + "attention.self.%s.bias" % part] = state[p + "attention.self.%s.bias" % part][rows]
        out[p + "attention.output.dense.weight"] = state[p + "attention.output.dense.weight"][:, rows]
        neurons = np.sort(keep_ffn[l])
        out[p + "intermediate.dense.weight"] = state[p + "intermediate.dense.weight"][neurons]
        out[p + "intermediate.dense.bias"] = state[p + "intermediate.dense.bias"][neurons]
        out[p + "output.dense.weight"] = state[p + "output.dense.weight"][:, neurons]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="tools.prune", description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", required=True)
    ap.add_argument("--model", required=True, help="the f32 GGUF to prune")
    ap.add_argument("--heads", type=int, required=True, help="heads kept in every layer")
    ap.add_argument("--ffn", type=int, required=True, help="FFN neurons kept in every layer")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--lr", type=float, default=None, help="default: the task's fine-tuning rate")
    ap.add_argument("--batches", type=int, default=0, help="training batches for the importance (0: all)")
    ap.add_argument("--data", default=tasks_mod.DEFAULT_DATA_DIR)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args(argv)
    seed_all(args.seed)
    t0 = time.time()
    g = ggufio.read_gguf(args.model)
    kv = g.kv
    task = tasks_mod.get(args.task, args.data)
    labels = list(kv["bert.classifier.output_labels"])
    if labels != task.labels:
        raise SystemExit("prune: %s's labels are not %s's" % (args.model, args.task))
    with tempfile.TemporaryDirectory() as vocab_dir:
        vocab_from_gguf.main([args.model, "-o", vocab_dir])
        tok = load_tokenizer(vocab_dir)
    targs = types.SimpleNamespace(preset="full", data=args.data, seed=args.seed)
    hp = dict(stage_hparams(args.task, targs))
    if args.lr:
        hp["lr"] = args.lr
    hp["epochs"] = args.epochs
    train, dev = task_data(targs, task, tok, hp)
    pad_id = kv.get("tokenizer.ggml.padding_token_id", 0)

    N, H, nh = kv["bert.block_count"], kv["bert.embedding_length"], kv["bert.attention.head_count"]
    d = kv.get("bert.attention.key_length") or H // nh
    F = kv["bert.feed_forward_length"]
    if not (1 <= args.heads <= nh and 1 <= args.ffn <= F):
        raise SystemExit("prune: --heads must be 1..%d and --ffn 1..%d" % (nh, F))
    state = {hf_name(name): np.array(t.data, dtype=np.float32) for name, t in g.tensors.items()}
    model = Model(config_of(kv, task.kind, len(labels)), task.kind, len(labels), dropout=0.0)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    before = count_params(model)
    dev_logits = forward_logits(lambda i, m: model(i, m), dev, pad_id)
    m0, _, _ = evaluate(task, dev, dev_logits)
    print("prune %s: unpruned dev %s, %d parameters" % (args.task, summary(task, m0), before), flush=True)

    hs, fs = importance(model, task, train, pad_id, N, nh, d, F, hp, args.batches, args.seed)
    keep_heads = [np.argsort(-hs[l])[:args.heads] for l in range(N)]
    keep_ffn = [np.argsort(-fs[l])[:args.ffn] for l in range(N)]
    print("prune: heads kept per layer %s (importance %s)" % (
        [sorted(k.tolist()) for k in keep_heads], np.round(hs, 3).tolist()), flush=True)
    pruned = prune_state(state, N, keep_heads, keep_ffn, d)
    config = config_of(kv, task.kind, len(labels), heads=args.heads, head_size=d, ffn=args.ffn)
    model = Model(config, task.kind, len(labels), dropout=hp.get("dropout", 0.1))
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in pruned.items()})
    after = count_params(model)
    model.eval()
    m1, _, _ = evaluate(task, dev, forward_logits(lambda i, m: model(i, m), dev, pad_id))
    print("prune: %d -> %d parameters (%.1f %%); dev before recovery %s" % (
        before, after, 100.0 * after / before, summary(task, m1)), flush=True)

    # Recovery: tools/train's fine-tuning loop, the best dev epoch kept.
    rng = np.random.RandomState(args.seed)
    lengths = [len(e["ids"]) for e in train]
    total = total_steps(lengths, hp)
    opt, sched = make_optimizer(model, hp, total)
    best, best_state, best_epoch, history = selection_score(task, m1), None, 0, []
    step = 0
    for epoch in range(hp["epochs"]):
        model.train()
        for b in batch_order(lengths, hp["batch"], rng):
            if step >= total:
                break
            optimizer_step(model, opt, sched, batch_loss(model, task, [train[i] for i in b], pad_id))
            step += 1
        model.eval()
        m, _, _ = evaluate(task, dev, forward_logits(lambda i, mm: model(i, mm), dev, pad_id))
        score = selection_score(task, m)
        history.append({"epoch": epoch + 1, "dev": {k: v for k, v in m.items() if not isinstance(v, dict)}})
        print("prune: recovery epoch %d/%d dev %s (%.0f s)" % (epoch + 1, hp["epochs"], summary(task, m),
                                                              time.time() - t0), flush=True)
        if score > best:
            best, best_epoch = score, epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    final = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}

    # Calibration refitted on dev (temperature by NLL, then the threshold by the task's escalation rule).
    model.eval()
    dev_logits = forward_logits(lambda i, m: model(i, m), dev, pad_id)
    T = fit_temperature(*calibration_targets(task, dev, dev_logits))
    _, curve, _ = evaluate(task, dev, dev_logits, T)
    threshold, reached, rule = choose_threshold(task, curve)
    calibrated, _, _ = evaluate(task, dev, dev_logits, T, threshold)
    old = (kv.get("edgetag.calibration.temperature"), kv.get("edgetag.escalation.threshold"))
    print("prune: calibration refitted on dev: temperature %.4f (was %s), threshold %.4f (was %s, rule %s); dev %s" % (
        T, old[0], threshold, old[1], "met" if reached else "NOT met", summary(task, calibrated)), flush=True)

    # The GGUF: every key of the input (widths updated), the tensors in the input's order.
    w = ggufio.GGUFWriter()
    replaced = {"bert.attention.head_count": args.heads, "bert.feed_forward_length": args.ffn,
                "edgetag.calibration.temperature": T, "edgetag.escalation.threshold": threshold}
    for key, value in kv.items():
        if key in ("bert.attention.key_length", "bert.attention.value_length", "edgetag.pruned", "general.alignment"):
            continue
        vt, et = g.kv_types[key]
        w.add_value(key, vt, replaced.get(key, value), et)
    w.add_u32("general.alignment", g.alignment)
    for key in ("edgetag.calibration.temperature", "edgetag.escalation.threshold"):
        if key not in kv:  # an uncalibrated input: the refit adds them
            w.add_f32(key, replaced[key])
    w.add_u32("bert.attention.key_length", d)
    w.add_u32("bert.attention.value_length", d)
    w.add_string("edgetag.pruned", json.dumps({
        "from": os.path.basename(args.model), "heads": [args.heads, nh], "ffn": [args.ffn, F],
        "parameters": [after, before], "importance": "first-order |sum of gate gradients| over %s training batches"
        % (args.batches or "all"), "recovery_epochs": len(history), "best_epoch": best_epoch, "lr": hp["lr"],
        "seed": args.seed, "kept_heads": [sorted(int(x) for x in k) for k in keep_heads],
        "calibration": {"refitted_on": "dev", "temperature": [T, old[0]], "threshold": [threshold, old[1]],
                        "rule": rule, "rule_met": bool(reached)}}, sort_keys=True))
    for name in g.tensors:
        w.add_tensor(name, final[hf_name(name)], ggufio.GGML_TYPE_F32)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    w.write(args.out)
    print("prune: best epoch %d (dev %s), wrote %s (%.0f s)" % (best_epoch, summary(task, history[best_epoch - 1]["dev"])
          if best_epoch else "unchanged", args.out, time.time() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
