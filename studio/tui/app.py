"""The Studio app: holds settings, the store and the gateway; behaviour lives in screens."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from studio.api import media
from studio.clipboard import copy_text, save_text
from studio.config import Settings, set_value
from studio.paths import data_dir, ensure_dir
from studio.store import NewAttachment, Store
from studio.tui.gateway import Gateway


class StudioApp(App[None]):
    """AnyFast Studio. ``store`` and ``gateway`` may be passed in (tests, benchmarks)."""

    CSS_PATH = "app.tcss"
    TITLE = "AnyFast Studio"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("f1", "help", "Help", tooltip="Show every key", id="app.help"),
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            tooltip="Quit Studio",
            id="app.quit",
            show=False,
            priority=True,
        ),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        demo: bool = False,
        store: Store | None = None,
        gateway: Gateway | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.store = store or Store.open()
        self.gateway = gateway or Gateway(settings, demo=demo)
        self.recovered = self.store.recover_interrupted()
        if settings.theme in self.available_themes:
            self.theme = settings.theme

    def on_mount(self) -> None:
        from studio.tui.screens.main import MainScreen

        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        self.push_screen(MainScreen())
        if self.recovered:
            count = len(self.recovered)
            self.notify(
                f"{count} reply{'' if count == 1 else 's'} cut off when Studio last stopped "
                "(the text received so far was kept).",
                severity="warning",
            )
        for warning in self.settings.warnings:
            self.notify(warning, severity="warning", timeout=10)

    async def on_unmount(self) -> None:
        await self.gateway.aclose()
        self.store.close()

    # -- services for screens ------------------------------------------------------------------

    async def copy_text(self, text: str, what: str = "text") -> None:
        """Copy following client-guide §5 and say honestly what happened."""
        result = await copy_text(text, mode=self.settings.clipboard, write=self._write_raw)
        message = f"{what.capitalize()}: {result.message}"
        if result.too_long and not result.native_ok:
            try:
                saved = save_text(text, ensure_dir(data_dir() / "saved"), what.replace(" ", "-"))
            except OSError as exc:
                message += f" — and saving it to a file failed: {exc.strerror or exc}"
            else:
                message += f" — the full text is saved to {saved}"
        self.notify(message, timeout=8 if result.too_long else 4)

    def _write_raw(self, sequence: str) -> None:
        driver = self._driver
        if driver is not None:
            driver.write(sequence)
            driver.flush()

    def load_attachment(self, source: str) -> NewAttachment:
        """A pending attachment from a local path or URL; raises MediaInputError with reasons."""
        if source.startswith(("http://", "https://")):
            name = PurePosixPath(urlsplit(source).path).name or source
            return NewAttachment(name=name, mime="image/*", url=source)
        uri = media.image_data_uri(source)
        info = media.describe_image(source)
        return NewAttachment(
            name=os.path.basename(os.path.expanduser(source)),
            mime=info.mime or "application/octet-stream",
            data=media.decode_data_uri(uri),
            width=info.width,
            height=info.height,
        )

    def toggle_favourite(self, model: str) -> bool:
        """Add or remove a favourite model (saved to the config); True when added."""
        favourites = list(self.settings.favourite_models)
        added = model not in favourites
        if added:
            favourites.append(model)
        else:
            favourites.remove(model)
        set_value("favourite_models", ",".join(favourites))
        self.settings = dataclasses.replace(self.settings, favourite_models=favourites)
        return added

    # -- help and the command palette ----------------------------------------------------------

    def action_help(self) -> None:
        from studio.tui.screens.help import HelpScreen, bindings_table
        from studio.tui.screens.main import MainScreen
        from studio.tui.widgets.conversation_list import ConversationList
        from studio.tui.widgets.message_view import MessageView

        if isinstance(self.screen, HelpScreen):
            return
        groups: dict[str, list[BindingType]] = {
            "Everywhere": list(self.BINDINGS),
            "Conversations": list(MainScreen.BINDINGS),
            "Prompt": list(_PROMPT_KEYS),
            "A selected message (alt+up)": list(MessageView.BINDINGS),
            "Conversation list (ctrl+l)": list(ConversationList.BINDINGS),
        }
        self.push_screen(HelpScreen(bindings_table(groups, self.settings.keymap)))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in screen.BINDINGS:
            if isinstance(binding, Binding) and binding.id:
                action = binding.action

                def run(action: str = action, target: Screen[object] = screen) -> None:
                    self.call_later(target.run_action, action)

                yield SystemCommand(
                    f"{binding.description} ({binding.key.split(',')[0]})",
                    binding.tooltip or binding.description,
                    run,
                )


_PROMPT_KEYS = [
    Binding("enter", "send", "Send", tooltip="Send the prompt", id="prompt.send"),
    Binding(
        "ctrl+j,alt+enter,shift+enter",
        "newline",
        "Newline",
        tooltip="Insert a newline (shift+enter where the terminal tells it apart)",
        id="prompt.newline",
    ),
    Binding(
        "up",
        "history",
        "History",
        tooltip="In an empty prompt: earlier prompts",
        id="prompt.history",
    ),
]


def run_app(settings: Settings, *, demo: bool) -> int:
    """Run the TUI until the user quits; returns the exit code."""
    from studio.tui import previews

    previews.prepare()  # must happen before Textual takes over the terminal
    StudioApp(settings, demo=demo).run()
    return 0
