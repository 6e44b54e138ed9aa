"""Screens of the Studio TUI."""
