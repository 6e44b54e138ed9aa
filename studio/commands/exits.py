"""The exit codes of every ``studio`` command.

0 success; 1 the request failed (network, server, cut stream); 2 bad usage, config or input;
3 the API key is missing or was refused; 4 the local database cannot be used (unwritable, not a
database, damaged, written by a newer Studio); 130 interrupted.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_STORE = 4
EXIT_INTERRUPTED = 130
