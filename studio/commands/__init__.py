"""Headless subcommands of ``studio``. None of them imports Textual."""
