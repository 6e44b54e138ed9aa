"""AnyFast Studio: a keyboard-driven terminal studio for the AnyFast AI gateway."""

__version__ = "0.1.0"
