"""A capture made without a cloud, for a round run here: the student (the f32 GGUF, run by PyTorch) classifies
the traffic portion of the dev split (splits.py); each text it would escalate — calibrated top probability
below its shipped threshold, or its abstain label — is answered by a simulated teacher: the text's gold
label. The records are what web/capture/ writes (edgetag.capture/1), text unredacted (CLINC has no personal
data), so a round reads a simulated capture and a real one alike."""

import datetime
import json
import os

from tools.data import tasks as tasks_mod
from tools.distill import splits
from tools.distill.evaluate import predictions
from tools.distill.student import to_folder
from tools.train.data import encode_task, load_tokenizer, oracle_logits, read_vocab

SCHEMA = "edgetag.capture/1"


def simulate(model_gguf, out_path, data_dir, work):
    """Writes the records to out_path; returns a summary (counts, rates, what the teacher was)."""
    folder = os.path.join(work, "student")
    edge = to_folder(model_gguf, folder)
    task = tasks_mod.get("intent-clinc", data_dir)
    if task.labels != edge["labels"]:
        raise ValueError("the model's labels are not the task's")
    traffic = splits.split(task.examples("dev", data_dir))["traffic"]
    tok, vocab = load_tokenizer(folder), read_vocab(folder)
    enc = encode_task(task, traffic, tok)
    logits = oracle_logits(folder, enc, vocab.index("[PAD]"))
    pred, top = predictions(task.labels, logits, edge["temperature"])
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    n = 0
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        for (text, gold), p, s in zip(traffic, pred, top):
            low = s < edge["threshold"]
            if not (low or p == edge["abstain_label"]):
                continue
            record = {"schema": SCHEMA, "at": now, "task": "classify",
                      "model": {"name": edge["name"], "version": edge["model_version"]}, "text": text,
                      "redacted": False, "trigger": "low_score" if low else "label", "threshold": edge["threshold"],
                      "teacher": {"label": gold, "score": None}, "local": {"label": p, "score": float(s)}}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return {"teacher": "simulated: the gold label of each escalated text (CLINC150 dev split, traffic portion)",
            "model": edge["model_version"], "traffic_texts": len(traffic), "escalated": n,
            "escalation_rate": n / len(traffic), "out": out_path}
