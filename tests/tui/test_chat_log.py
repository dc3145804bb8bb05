"""The conversation log keeps the newest line in view, whatever order rendering finishes in."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.widgets.chat import ChatLog, InterviewerMessage

from .driving import wait_until

REPLY = "A reply long enough to wrap over several lines of a narrow terminal. " * 8


class ChatApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ChatLog()


async def test_a_message_that_finishes_rendering_is_scrolled_into_view() -> None:
    app = ChatApp()
    async with app.run_test(size=(60, 12)) as pilot:
        chat = app.query_one(ChatLog)
        for n in range(3):
            chat.add_candidate(f"answer {n}\n" * 3)
        reply = chat.add_interviewer(REPLY)
        await wait_until(pilot, lambda: len(reply.children) > 0 and chat.max_scroll_y > 0)
        await wait_until(pilot, lambda: chat.scroll_y == chat.max_scroll_y, timeout=5)
        # On a loaded machine a layout pass can run while a re-rendered message has no blocks, and
        # clamps the scroll position above the end; nothing scrolled back once the blocks arrived.
        chat.scroll_to(y=chat.max_scroll_y - 6, animate=False, immediate=True)
        await reply.update(REPLY)
        await wait_until(pilot, lambda: chat.scroll_y == chat.max_scroll_y, timeout=5)
        assert reply.region.bottom <= chat.region.bottom
        assert len(chat.query(InterviewerMessage)) == 1
