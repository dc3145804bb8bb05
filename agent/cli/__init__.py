"""The `mlsd` command line."""
