"""The simulated session's conversation: its items in order, as the client and the
responses add, delete and look them up.  Pure.
"""

from __future__ import annotations

from typing import Any

from rtrec.sim.frames import new_id

Item = dict[str, Any]


class Conversation:
    def __init__(self) -> None:
        self.items: list[Item] = []

    def index_of(self, item_id: Any) -> int | None:
        for index, item in enumerate(self.items):
            if item.get("id") == item_id:
                return index
        return None

    def last_id(self) -> str | None:
        return self.items[-1]["id"] if self.items else None

    def insert(self, item: Item, *, after: str | None) -> str | None:
        """Put `item` after the item `after` ("root": first; None: last); returns the id of
        the item now before it."""
        if after == "root":
            position, previous = 0, None
        elif after is not None:
            position, previous = (self.index_of(after) or 0) + 1, after
        else:
            position, previous = len(self.items), self.last_id()
        self.items.insert(position, item)
        return previous

    def append(self, item: Item) -> str | None:
        """Add `item` last; returns the id of the item before it."""
        previous = self.last_id()
        self.items.append(item)
        return previous


def client_item(item: Item) -> Item:
    """An item from conversation.item.create as the server keeps it: with an id and a
    status, and a message's audio left out (its transcript not known yet)."""
    item = dict(item)
    item.setdefault("id", new_id("item_"))
    item.setdefault("status", "completed")
    if item.get("type") == "message":
        item["content"] = [
            {k: v for k, v in part.items() if k != "audio"}
            | ({"transcript": None} if part.get("type") == "input_audio" else {})
            for part in item.get("content") or []
            if isinstance(part, dict)
        ]
    return item
