"""edgetag's Python tools, one package per job; run each from the repository root with /usr/bin/python3 -m.

    tools.formats    file formats, numpy only: GGUF (ggufio), safetensors (safetensors_np), tokenizer.json
    tools.tokenizer  the Python BERT tokenizer (wordpiece) and the vocabularies' makers (build_vocab,
                     vocab_from_npm)
    tools.data       the datasets under ../shared/data (datasets) and the tasks built on them (tasks)
    tools.eval       measures (metrics), the PyTorch oracle (reference_bert), shipped models through the
                     engine's CLI (engine) and checkpoints through PyTorch (pytorch)
    tools.convert    a Hugging Face BERT folder -> an edgetag GGUF file     python3 -m tools.convert
    tools.train      the student models' training pipeline                python3 -m tools.train
    tools.fixtures   the tests' generated inputs: reference checkpoints, goldens, the tokenizer corpus
    tools.codegen    generated C source: src/unicode_data.c and the erf fit
"""

import os

# The repository root (the folder holding tools/).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
