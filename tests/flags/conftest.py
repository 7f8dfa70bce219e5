from __future__ import annotations

from collections.abc import Iterator

import pytest

from flags import evaluation


@pytest.fixture(autouse=True)
def _fresh_rules() -> Iterator[None]:
    """Each test starts with no rule set in this process (the cache is emptied by the
    suite's own fixture)."""
    evaluation._memo.rule_set = None
    yield
    evaluation._memo.rule_set = None
