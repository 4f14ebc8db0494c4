"""The order of a conversation's items: insertion after `previous_item_id`, and deletion.

Deleted items keep their slot in `order` (their `ordinal`), so a transcript can still
show where they were, but they leave the numbering of live items (`position`).  An
insert in the middle shifts the items after it; those are marked dirty, nothing else
is rewritten.  Pure.
"""

from __future__ import annotations

from rtrec.projector.state import ItemState

ROOT = "root"


class Conversation:
    def __init__(self, items: dict[str, ItemState], dirty: set[str]) -> None:
        self.items = items
        self.dirty = dirty
        placed = [i for i in items.values() if i.in_conversation and i.ordinal is not None]
        placed.sort(key=lambda i: i.ordinal or 0)
        self.order: list[str] = [i.item_id for i in placed]
        self.live = sum(1 for i in placed if not i.deleted)

    def insert(self, item: ItemState, after: str | None) -> None:
        """Place `item` after the item `after` names: None or unknown appends, "root" is first.

        An item already in the conversation stays where it is (servers repeat
        `previous_item_id` unreliably on later events); a deleted one comes back.
        """
        if item.in_conversation:
            if not item.deleted:
                return
            self._remove_slot(item)
        index = len(self.order)
        if after == ROOT:
            index = 0
        elif after is not None and after != item.item_id:
            previous = self.items.get(after)
            if previous is not None and previous.in_conversation and previous.ordinal is not None:
                index = previous.ordinal + 1
        if index == len(self.order):
            position = self.live
            self.order.append(item.item_id)
        else:
            position = self._live_before(index)
            self.order.insert(index, item.item_id)
            for later_id in self.order[index + 1 :]:
                later = self.items[later_id]
                later.ordinal = (later.ordinal or 0) + 1
                if later.position is not None:
                    later.position += 1
                self.dirty.add(later_id)
        item.ordinal = index
        item.position = position
        item.in_conversation = True
        item.deleted = False
        item.deleted_ns = None
        self.live += 1
        self.dirty.add(item.item_id)

    def delete(self, item: ItemState, t_ns: int) -> None:
        if not item.in_conversation or item.deleted or item.ordinal is None:
            return
        for later_id in self.order[item.ordinal + 1 :]:
            later = self.items[later_id]
            if later.position is not None:
                later.position -= 1
                self.dirty.add(later_id)
        item.deleted = True
        item.deleted_ns = t_ns
        item.position = None
        self.live -= 1
        self.dirty.add(item.item_id)

    def _live_before(self, index: int) -> int:
        for item_id in reversed(self.order[:index]):
            position = self.items[item_id].position
            if position is not None:
                return position + 1
        return 0

    def _remove_slot(self, item: ItemState) -> None:
        """Take a deleted item out of `order` before it is inserted again."""
        assert item.ordinal is not None
        del self.order[item.ordinal]
        for later_id in self.order[item.ordinal :]:
            later = self.items[later_id]
            later.ordinal = (later.ordinal or 1) - 1
            self.dirty.add(later_id)
        item.in_conversation = False
        item.ordinal = None
