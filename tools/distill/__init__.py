"""tools/distill — the distillation loop: escalations answered by the cloud (the teacher), captured with consent
by web/capture/ as edgetag.capture/1 JSON Lines, become training data for the next intent student.

    /usr/bin/python3 -m tools.distill simulate  --model models/intent-clinc-f32.gguf -o build/distill/captured.jsonl
    /usr/bin/python3 -m tools.distill round     --model models/intent-clinc-f32.gguf --captured build/distill/captured.jsonl \\
        --out build/distill/round [--publish DIR --key KEY]

student.py  the shipped f32 GGUF back into a PyTorch checkpoint folder (what tools/train writes)
splits.py   the dev split cut, by a hash of each text, into traffic / selection / held-out portions
capture.py  captured records read and checked (schema, model, labels) into training examples
simulate.py a capture made without a cloud: the student's escalations on the traffic portion, answered with
            the gold labels (the simulated teacher)
round.py    one round: fine-tune, calibrate and threshold on the selection portion, compare old and new on the
            held-out portion, publish (convert, quantize, signed manifest) only when the new one is better
"""
