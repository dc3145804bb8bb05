"""The terminal app (Textual): practise a full interview. See issue #4."""
