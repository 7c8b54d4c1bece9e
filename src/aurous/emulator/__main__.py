"""``python -m aurous.emulator``."""

from ._cli import main

raise SystemExit(main())
