"""Command line: `python -m mlcore train|evaluate|predict|bench`."""

from mlcore.cli import main

raise SystemExit(main())
