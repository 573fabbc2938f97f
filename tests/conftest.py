from __future__ import annotations

import pytest

from uffdpte import decode


@pytest.fixture
def dec():
    """decode() with alternatives off: golden tests pin one profile's reading."""
    def _dec(value, **opts):
        return decode(value, alternatives=False, **opts)
    return _dec
