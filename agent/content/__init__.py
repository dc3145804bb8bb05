"""Content as data: knowledge notes and rubrics, their schemas and their loader."""
