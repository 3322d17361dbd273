"""The machine's physical memory, which both the data layer and the parameter
checks compare a request against before allocating."""

from __future__ import annotations

import os


def physical_memory() -> int | None:
    """Bytes of physical memory, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None

