"""Reading a session from the event loop without blocking it.

The reader is synchronous sqlite3.  A replay runs it on a worker thread one page at a
time, and asks for the next page as soon as it starts on the current one, so the
database read overlaps the waiting between events instead of delaying them.
Memory holds at most two pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

PAGE_ITEMS = 256


class PagedReader(Generic[T]):
    """`async with PagedReader(iterator) as items: async for item in items: ...`

    `on_close` runs after the last page read has finished (it is where the caller
    closes the connection the iterator reads from).
    """

    def __init__(
        self,
        items: Iterator[T],
        *,
        page_items: int = PAGE_ITEMS,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._items = items
        self._page_items = page_items
        self._on_close = on_close
        self._pending: asyncio.Future[list[T]] | None = None
        self._closed = False

    def _read_page(self) -> list[T]:
        return list(itertools.islice(self._items, self._page_items))

    def _fetch(self) -> asyncio.Future[list[T]]:
        return asyncio.ensure_future(asyncio.to_thread(self._read_page))

    async def __aiter__(self) -> AsyncIterator[T]:
        try:
            self._pending = self._fetch()
            while True:
                page = await self._pending
                self._pending = None
                if not page:
                    return
                if len(page) == self._page_items:
                    self._pending = self._fetch()
                for item in page:
                    yield item
                if self._pending is None:
                    return
        finally:
            await self.aclose()

    async def __aenter__(self) -> PagedReader[T]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        pending, self._pending = self._pending, None
        if pending is not None:
            # The worker thread cannot be interrupted; let its read finish before closing.
            with contextlib.suppress(Exception):
                await asyncio.shield(pending)
        if self._on_close is not None:
            self._on_close()
