"""Every screen is usable in the classic 80x24 SSH window: Pilot checks of what the snapshots
in test_snapshots.py show, for the things a picture alone would not explain."""

from __future__ import annotations

from collections.abc import Callable

from rich.cells import cell_len
from textual.widget import Widget

from studio.store import Role, Store
from studio.tui.app import StudioApp
from studio.tui.screens.main import MainScreen
from studio.tui.widgets.chat_pane import ChatPane
from studio.tui.widgets.footer import KeyBar
from studio.tui.widgets.prompt import PromptInput
from studio.tui.widgets.status_line import StatusLine

from .conftest import Toasts, active_pane, wait_for
from .test_chat import send

SMALL = (80, 24)
WIDE = (160, 48)


def main_screen(app: StudioApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


def on_screen(widget: Widget) -> bool:
    """Whether ``widget`` is really drawn: inside the terminal, and what is at its middle."""
    screen = widget.screen
    region = widget.region
    if not region or not screen.region.contains_region(region):
        return False
    try:
        found, _ = screen.get_widget_at(region.x + region.width // 2, region.y + region.height // 2)
    except Exception:
        return False
    return found is widget or widget in found.ancestors_with_self


def displayed(widget: Widget) -> bool:
    return widget.display


def two_conversations(*, split: bool = False) -> None:
    """Two conversations open in tabs (the second active), before the app starts."""
    store = Store.open()
    try:
        ids = []
        for title in ("First", "Second"):
            conversation = store.create_conversation(title=title)
            store.add_message(conversation.id, Role.USER, f"The {title.lower()} question")
            ids.append(conversation.id)
        store.set_state("open_tabs", ids)
        store.set_state("active_tab", ids[1])
        store.set_state("split", split)
    finally:
        store.close()


def shown_panes(screen: MainScreen) -> list[ChatPane]:
    return [pane for pane in screen.query(ChatPane) if pane.display]


async def test_the_key_bar_always_keeps_help(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        bar = main_screen(app).query_one(KeyBar)
        for width in (80, 60, 40):
            await pilot.resize_terminal(width, 24)
            await pilot.pause()
            shown = str(bar.render())
            assert " f1 Help " in shown, (width, shown)
            assert cell_len(shown) == width
        assert shown.rstrip().endswith("palette")
        # The keys before help that fit stay in their order.
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        shown = str(bar.render())
        assert shown.index("New") < shown.index("Model") < shown.index("Help")


async def test_the_conversation_list_hides_itself_when_narrow(
    make_app: Callable[..., StudioApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = main_screen(app)
        sidebar = screen.query_one("#sidebar")
        await pilot.pause()
        assert not displayed(sidebar)
        assert screen.active_pane is not None and screen.active_pane.size.width == 80
        await pilot.resize_terminal(*WIDE)
        await pilot.pause()
        assert displayed(sidebar)  # back when there is room
        await pilot.press("f9")  # the user hides it: it stays hidden whatever the width
        assert not displayed(sidebar)
        for size in (SMALL, WIDE):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert not displayed(sidebar)
        await pilot.press("f9")
        assert displayed(sidebar)
        await pilot.resize_terminal(*SMALL)
        await pilot.pause()
        assert not displayed(sidebar)
        await pilot.press("f9")  # shown at 80 columns when the user asks
        await pilot.pause()
        assert displayed(sidebar) and on_screen(sidebar)
        await pilot.press("f9")
        assert not displayed(sidebar)
        # The list loses its room while it has the focus: the prompt gets it.
        await pilot.resize_terminal(*WIDE)
        await pilot.pause()
        sidebar.query_one("OptionList").focus()
        await pilot.resize_terminal(*SMALL)
        await pilot.pause()
        assert not displayed(sidebar) and isinstance(app.focused, PromptInput)
        # ctrl+l shows it for a moment: opening a conversation from it hides it again.
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert displayed(sidebar) and sidebar.has_focus_within
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.focused, PromptInput))
        await pilot.pause()
        assert not displayed(sidebar)


async def test_the_hidden_list_is_remembered(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("f9")
        assert not main_screen(app).query_one("#sidebar").display
    again = make_app()
    async with again.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert not main_screen(again).query_one("#sidebar").display


async def test_a_split_shows_one_pane_when_two_would_be_too_narrow(
    make_app: Callable[..., StudioApp],
) -> None:
    two_conversations()
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = main_screen(app)
        await pilot.press("f4")
        assert len(shown_panes(screen)) == 2
    # Restored in the classic SSH window: two panes of 40 columns (the list hides itself).
    again = make_app()
    async with again.run_test(size=SMALL) as pilot:
        screen = main_screen(again)
        await pilot.pause()
        assert screen.split
        panes = shown_panes(screen)
        assert len(panes) == 2 and all(pane.size.width >= 40 for pane in panes)
        await pilot.press("f9")  # the list takes 30 columns: no room for two panes
        await pilot.pause()
        panes = shown_panes(screen)
        assert [pane.conversation_id for pane in panes] == [screen.active_id]
        assert panes[0].size.width >= 40
        await pilot.press("f9")
        await pilot.pause()
        assert len(shown_panes(screen)) == 2
        await pilot.resize_terminal(70, 24)
        await pilot.pause()
        assert len(shown_panes(screen)) == 1
        await pilot.resize_terminal(*WIDE)
        await pilot.pause()
        assert len(shown_panes(screen)) == 2


async def test_split_toggled_without_room_says_why(
    make_app: Callable[..., StudioApp], toasts: Toasts
) -> None:
    two_conversations()
    app = make_app()
    async with app.run_test(size=(70, 24), message_hook=toasts.hook) as pilot:
        screen = main_screen(app)
        await pilot.press("f4")
        await pilot.pause()
        assert screen.split and len(shown_panes(screen)) == 1
        assert toasts.any("40 columns")


async def test_status_lines_of_a_split_fit_their_panes(
    make_app: Callable[..., StudioApp],
) -> None:
    two_conversations(split=True)
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = main_screen(app)
        await pilot.pause()
        assert len(shown_panes(screen)) == 2
        pane = await send(pilot, "A slow one [[emulator: tokens=400; rate=40]]")
        status = pane.query_one(StatusLine)
        await wait_for(lambda: pane.streaming and status.tokens > 3)
        await pilot.pause(0.3)  # a tick of the status line with figures to show
        text = str(status.render())
        assert text.endswith("esc stops") and status.model in text
        assert cell_len(text) <= status.content_size.width
        await pilot.press("escape")
        await wait_for(lambda: not pane.streaming)


async def test_the_job_sidebar_fits_beside_a_pane(make_app: Callable[..., StudioApp]) -> None:
    """ctrl+g in 80 columns once squeezed the chat pane to nothing and Studio crashed."""
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = main_screen(app)
        await pilot.press("ctrl+g")
        jobs = screen.query_one("#jobs-sidebar")
        await wait_for(lambda: jobs.display and jobs.size.width > 0)
        await pilot.pause()
        assert on_screen(jobs)
        pane = screen.active_pane
        assert pane is not None and pane.size.width >= 30
        await pilot.resize_terminal(*WIDE)
        await pilot.pause()
        assert screen.query_one("#sidebar").display and on_screen(jobs)


async def test_a_squeezed_prompt_does_not_crash(make_app: Callable[..., StudioApp]) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = main_screen(app)
        await pilot.press("f9")  # the list, then the job sidebar: 4 columns left for the pane
        await pilot.press("ctrl+g")
        await wait_for(lambda: screen.query_one("#jobs-sidebar").display)
        await pilot.pause(0.1)
        assert app.is_running


async def test_the_settings_dialog_fits_and_shows_why_save_failed(
    make_app: Callable[..., StudioApp],
) -> None:
    from textual.widgets import Button, Input

    from studio.tui.screens.dialogs import SettingsForm

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("f3")
        await wait_for(lambda: isinstance(app.screen, SettingsForm))
        form = app.screen
        await pilot.pause()
        save, cancel = form.query_one("#save", Button), form.query_one("#cancel", Button)
        assert on_screen(save) and on_screen(cancel)
        form.query_one("#temperature", Input).value = "5"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form  # not saved, and the reason is on screen
        error = form.query_one("#form-error")
        assert "Temperature" in str(error.render()) and on_screen(error)
        assert app.focused is form.query_one("#temperature") and on_screen(app.focused)
        # A shorter terminal: the fields scroll, the buttons stay, focus scrolls into view.
        # Scrolling into view is animated and may take a few frames: wait for it.
        await pilot.resize_terminal(80, 18)
        await wait_for(lambda: on_screen(save) and on_screen(error))
        form.query_one("#max_tokens", Input).focus()
        await wait_for(lambda: on_screen(form.query_one("#max_tokens")))
        form.query_one("#system").focus()
        await wait_for(lambda: on_screen(form.query_one("#system")))
        await pilot.press("tab", "tab", "tab")
        await wait_for(lambda: app.focused is save and on_screen(save))
        form.query_one("#temperature", Input).value = "0.5"
        await pilot.press("ctrl+s")
        await wait_for(lambda: app.screen is not form)


async def test_help_fits_with_every_id_whole(make_app: Callable[..., StudioApp]) -> None:
    from rich.console import Console
    from textual.binding import Binding
    from textual.widgets import Static

    from studio.tui.screens.help import HelpScreen
    from studio.tui.widgets.conversation_list import ConversationList
    from studio.tui.widgets.message_view import MessageView

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("f1")
        await wait_for(lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        dialog = help_screen.query_one(".help")
        assert app.screen.region.contains_region(dialog.region)  # all four borders show
        table = help_screen.table
        shown = next(s for s in help_screen.query(Static) if s.content is table)
        width = shown.content_size.width
        assert 60 <= width <= 80
        console = Console(width=width, record=True)
        console.print(table)
        lines = console.export_text().splitlines()
        assert max(cell_len(line.rstrip()) for line in lines) <= width
        groups = (StudioApp, MainScreen, ConversationList, MessageView)
        ids = [b.id for g in groups for b in g.BINDINGS if isinstance(b, Binding) and b.id]
        assert "main.conversation_settings" in ids
        for binding_id in ids:
            assert any(binding_id in line for line in lines), binding_id


async def test_the_model_picker_shows_one_line_per_model_and_counts_a_filter(
    make_app: Callable[..., StudioApp],
) -> None:
    from textual.widgets import OptionList

    from studio.models import capabilities
    from studio.tui.screens.model_picker import ModelPicker

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, ModelPicker))
        picker = app.screen
        assert isinstance(picker, ModelPicker)
        status = picker.query_one("#picker-status")
        await wait_for(lambda: "Enter picks" in str(status.render()))
        options = picker.query_one("#models", OptionList)
        total = len(picker.models)
        assert str(status.render()).startswith(f"{total} models")
        for size in (SMALL, WIDE):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert options.virtual_size.height == options.option_count == total  # one line each
            rows = options.scrollable_content_region.height
            assert rows >= (10 if size == SMALL else 30)
            for y in range(rows):
                line = options.render_line(y).text
                shown = options.get_option_at_index(round(options.scroll_y) + y).id
                model = next(m for m in picker.models if m.id == shown)
                assert model.id in line and (model.owned_by or "") in line
                whole = all(c.value in line for c in capabilities(model))
                assert whole or (size == SMALL and line.rstrip().endswith("…")), line
        await pilot.press(*"sonnet")
        await pilot.pause()
        assert 0 < options.option_count < total
        assert str(status.render()).startswith(f"{options.option_count} of {total} models")


async def test_the_welcome_panel_fits(isolated_home: object) -> None:
    from textual.widgets import Button, Input

    from studio.config import Settings

    app = StudioApp(Settings(api_key=None))
    async with app.run_test(size=SMALL) as pilot:
        screen = main_screen(app)
        await pilot.pause()
        key_input = screen.query_one("#key-input", Input)
        demo = screen.query_one("#demo-button", Button)
        assert on_screen(key_input) and on_screen(demo)
        assert key_input.region.right <= 80 and demo.region.right <= 80
        # With the conversation list beside it (f9) and in a short terminal: the field stays
        # inside the panel, and the button scrolls into view when Tab reaches it.
        await pilot.press("f9")
        await pilot.resize_terminal(80, 16)
        await pilot.pause()
        welcome = screen.query_one("#welcome")
        assert (
            welcome.region.x < key_input.region.x < key_input.region.right <= welcome.region.right
        )
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is demo and on_screen(demo)
        await pilot.press("enter")
        await wait_for(lambda: app.gateway.demo)


async def test_an_error_keeps_its_width_in_a_narrow_pane(
    make_app: Callable[..., StudioApp],
) -> None:
    """The Retry button goes under the error when the pane is narrow (the job queue open at 80
    columns): the text wrapped a word per line beside it."""
    from studio.store import MessageStatus

    store = Store.open()
    try:
        conversation = store.create_conversation(title="Errors")
        store.add_message(conversation.id, Role.USER, "Make it")
        store.add_message(
            conversation.id,
            Role.ASSISTANT,
            "",
            status=MessageStatus.ERROR,
            error="HTTP 500: upstream error: do request failed [do_request_failed] (request id 1)",
        )
        store.set_state("open_tabs", [conversation.id])
        store.set_state("active_tab", conversation.id)
    finally:
        store.close()
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = main_screen(app)
        text = screen.query_one(".error-text")
        await wait_for(lambda: text.size.width > 0)
        assert text.size.width >= 45  # the pane, less the button beside it
        await pilot.press("ctrl+g")
        await wait_for(lambda: screen.query_one("#jobs-sidebar").display)
        pane = active_pane(app)
        await wait_for(lambda: text.size.width >= pane.size.width - 8)
        assert on_screen(screen.query_one(".retry"))
