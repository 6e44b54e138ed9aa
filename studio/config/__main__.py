"""``python -m studio.config`` prints the README's settings table (Markdown)."""

from studio.config.settings import markdown_table

print(markdown_table(), end="")
