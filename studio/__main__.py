"""`python -m studio` runs the same command line as the `studio` script."""

from studio.cli import main

raise SystemExit(main())
