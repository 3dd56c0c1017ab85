"""File formats the tools read and write, with numpy only: GGUF v3 (ggufio), safetensors (safetensors_np),
Hugging Face tokenizer files (tokenizer_json)."""
