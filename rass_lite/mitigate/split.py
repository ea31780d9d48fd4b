"""A deterministic train/test split by item: an item's translations never straddle the two sides."""

from __future__ import annotations

import hashlib

TEST_SHARE = 0.5


def is_test_item(item: str, share: float = TEST_SHARE, salt: str = "rass-lite-condition") -> bool:
    digest = hashlib.sha256(f"{salt}:{item}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def split_by_item(records: list[dict], share: float = TEST_SHARE) -> tuple[list[dict], list[dict]]:
    """(train, test) records; every record of an item lands on the same side."""
    train, test = [], []
    for r in records:
        (test if is_test_item(str(r.get("item", r["id"])), share) else train).append(r)
    return train, test
