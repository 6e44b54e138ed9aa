"""The Textual app. Imported only when the TUI starts, so headless commands stay lean."""
