"""``python -m aurous.cli``: the same as the ``aurous`` command."""

from . import main

raise SystemExit(main())
