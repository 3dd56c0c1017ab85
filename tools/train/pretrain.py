"""Stage pretrain: the masked LM (OUT/mlm/, BertForMaskedLM) that every task is fine-tuned from.

MLM on every train text of every dataset (tools/data/datasets.py iter_texts) and, with HPARAMS' "wordnet",
that many WordNet synsets (glosses and example sentences, tools/data/wordnet.py), one text per sequence,
dynamic masking: 15% of the content tokens, of which 80% -> [MASK], 10% -> a random non-special token, 10%
unchanged; loss on the selected tokens only. The dev split's texts are scored after each epoch with a fixed
masking.
"""

import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from tools.tokenizer import wordpiece
from tools.train.data import (batch_order, collate, data_provenance, load_tokenizer, mask_tokens, mlm_texts,
                              read_vocab, total_steps)
from tools.train.model import Model, make_config, make_optimizer, optimizer_step, save_folder, seed_all
from tools.train.runtime import blas_in_use, log, sha256_file, write_json
from tools.train.settings import MAX_LEN, THREADS, TRAIN_CMD, override_flags, preset_flag, stage_hparams


def mlm_eval(model, seqs, pad_id, vocab, seed, batch=128):
    """(loss, accuracy) of the MLM on seqs with a fixed masking."""
    gen = torch.Generator().manual_seed(seed)
    specials = [vocab.index(t) for t in wordpiece.SPECIAL_TOKENS if t in vocab]
    model.eval()
    tot_loss = tot_ok = tot_n = 0.0
    with torch.no_grad():
        for b in batch_order([len(s) for s in seqs], batch, None, shuffle=False):
            ids, mask = collate([seqs[i] for i in b], pad_id)
            inp, sel, tgt = mask_tokens(ids, mask, gen, len(vocab), len(wordpiece.SPECIAL_TOKENS),
                                        vocab.index("[MASK]"), specials)
            logits = model(inp, mask, sel)
            tot_loss += F.cross_entropy(logits, tgt, reduction="sum").item()
            tot_ok += (logits.argmax(-1) == tgt).sum().item()
            tot_n += tgt.numel()
    return tot_loss / max(1, tot_n), tot_ok / max(1, tot_n)


def cmd_pretrain(args):
    seed_all(args.seed)
    vocab_dir = os.path.join(args.out, "vocab")
    out = os.path.join(args.out, "mlm")
    vocab = read_vocab(vocab_dir)
    tok = load_tokenizer(vocab_dir)
    hp = stage_hparams("pretrain", args)
    train = [tok.encode_offsets(t, MAX_LEN)[0] for t in mlm_texts(args, "train", hp.get("wordnet", 0))]
    dev = [tok.encode_offsets(t, MAX_LEN)[0] for t in mlm_texts(args, "dev")]
    n_tokens = sum(len(s) for s in train)
    log("pretrain: %d train texts (%d tokens), %d dev texts; %s" % (len(train), n_tokens, len(dev), hp))
    config = make_config(args.preset, vocab, "mlm")
    model = Model(config, "mlm", dropout=hp["dropout"])
    n_params = sum(p.numel() for p in model.parameters())
    log("pretrain: model %d parameters" % n_params)
    rng = np.random.RandomState(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    lengths = [len(s) for s in train]
    total = total_steps(lengths, hp, args.max_steps)
    opt, sched = make_optimizer(model, hp, total)
    specials = [vocab.index(t) for t in wordpiece.SPECIAL_TOKENS if t in vocab]
    pad_id, mask_id = vocab.index("[PAD]"), vocab.index("[MASK]")
    t0 = time.time()
    step = seen = 0
    history = []
    for epoch in range(hp["epochs"]):
        model.train()
        run_loss = run_n = 0.0
        for b in batch_order(lengths, hp["batch"], rng):
            if step >= total:
                break
            ids, mask = collate([train[i] for i in b], pad_id)
            inp, sel, tgt = mask_tokens(ids, mask, gen, len(vocab), len(wordpiece.SPECIAL_TOKENS), mask_id, specials)
            loss = F.cross_entropy(model(inp, mask, sel), tgt)
            optimizer_step(model, opt, sched, loss)
            step += 1
            run_loss += loss.item()
            run_n += 1
            seen += int(mask.sum())
            if step % 100 == 0:
                log("pretrain: step %d/%d epoch %d loss %.3f lr %.2e, %.0f tokens/s (%.0f s)" % (
                    step, total, epoch + 1, run_loss / run_n, sched.get_last_lr()[0], seen / (time.time() - t0),
                    time.time() - t0))
        dl, da = mlm_eval(model, dev, pad_id, vocab, args.seed)
        history.append({"epoch": epoch + 1, "train_loss": run_loss / max(1, run_n), "dev_loss": dl, "dev_accuracy": da,
                        "seconds": time.time() - t0})
        log("pretrain: epoch %d train loss %.3f, dev MLM loss %.3f accuracy %.3f (%.0f s)"
            % (epoch + 1, run_loss / max(1, run_n), dl, da, time.time() - t0))
        if step >= total:
            break
    seconds = time.time() - t0
    save_folder(out, config, model, vocab_dir)
    info = {"preset": args.preset, "seed": args.seed, "hparams": hp, "steps": step, "train_texts": len(train),
            "train_tokens": n_tokens, "parameters": n_params, "seconds": seconds, "history": history,
            "vocab_sha256": sha256_file(os.path.join(vocab_dir, "vocab.txt")),
            "weights_sha256": sha256_file(os.path.join(out, "model.safetensors")),
            "command": TRAIN_CMD + " pretrain" + preset_flag(args) + override_flags(args),
            "torch": torch.__version__, "blas": blas_in_use(), "threads": THREADS,
            "data_files": data_provenance(args.data, "mlm")}
    if hp.get("wordnet"):
        from tools.data import wordnet
        info["wordnet"] = {"texts": hp["wordnet"], "folder": wordnet.WORDNET_DIR, "licence": wordnet.LICENSE_NOTE,
                           "files": [{"file": "data." + p, "sha256": sha256_file(os.path.join(wordnet.WORDNET_DIR, "data." + p))}
                                     for p in wordnet.PARTS]}
    write_json(os.path.join(out, "mlm.json"), info)
    log("pretrain: wrote %s (%d steps, %.0f s)" % (out, step, seconds))
