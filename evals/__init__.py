"""The offline eval suite: replay recorded transcripts and gate on grading regressions. See issue #5."""
