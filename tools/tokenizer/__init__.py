"""The Python BERT tokenizer (wordpiece: normaliser, pre-tokenizer, WordPiece with character offsets) and
the makers of vocabularies: build_vocab (learned from the datasets) and vocab_from_npm (bert-base-uncased's)."""
