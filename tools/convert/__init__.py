"""Hugging Face BERT folder -> edgetag GGUF file; `python3 -m tools.convert --help` for the options."""
