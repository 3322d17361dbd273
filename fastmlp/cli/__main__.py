"""``python -m fastmlp.cli``: the ``fastmlp`` command."""

import sys

from fastmlp.cli import main

if __name__ == "__main__":
    sys.exit(main())
