"""``python -m sciencecity.engines.text affinity ...`` (see ``openreview_io.main``)."""

import sys

from .openreview_io import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["affinity"]:
        args = args[1:]
    sys.exit(main(args))
