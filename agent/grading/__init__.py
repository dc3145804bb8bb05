"""Grading: per-criterion scores with verbatim evidence quotes, per answer and per phase."""
