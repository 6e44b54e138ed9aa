"""Widgets of the Studio TUI."""
