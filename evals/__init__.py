"""The eval suite: replay recorded interviews through the graph, score them against human labels and
gate on regressions against a committed baseline (`mlsd eval`).

Read it like inspect_ai: a dataset of labelled transcripts (`evals.dataset`), a solver that replays
each through the interviewer (`evals.replay`), scorers and metrics (`evals.metrics`), and a gate
with reports (`evals.gate`, `evals.reports`) run by `evals.runner`.
"""
