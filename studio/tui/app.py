"""The Studio app: holds settings, the store and the gateway; behaviour lives in screens."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.driver import Driver
from textual.notifications import SeverityLevel
from textual.signal import Signal

from studio.config import Settings
from studio.gateway import Gateway
from studio.paths import data_dir, ensure_dir
from studio.store import NewAttachment, Store, StoreUnavailable
from studio.textsafe import clean, clean_line
from studio.tui.compat import (
    ErrorHookApp,
    QuickExitDriver,
    install_key_fixes,
    remember_copied,
    write_to_terminal,
)
from studio.tui.terminal_title import TerminalTitle
from studio.tui.themes import register_themes, save_theme, starting_theme, with_roles

if TYPE_CHECKING:
    from textual.screen import Screen

    from studio.jobs import EngineConfig
    from studio.store import Message
    from studio.tui.settings_apply import SettingsChanged


def _studio_commands() -> type[Provider]:
    from studio.tui.palette import StudioCommands  # when the palette first opens

    return StudioCommands


def _finder(kind: str) -> Callable[[], type[Provider]]:
    """Loads the palette's finder of ``kind`` (conversations, models...) when it first opens."""

    def load() -> type[Provider]:
        from studio.tui.palette_finds import FINDERS

        return FINDERS[kind]

    return load


class StudioApp(ErrorHookApp[None]):
    """AnyFast Studio. ``store`` and ``gateway`` may be passed in (tests, benchmarks)."""

    CSS_PATH = "app.tcss"
    TITLE = "AnyFast Studio"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = ErrorHookApp.COMMANDS | {
        _studio_commands,
        *map(_finder, ("conversations", "models", "jobs", "themes", "searches")),
    }
    BINDINGS = [
        Binding("f1", "help", "Help", tooltip="Show every key", id="app.help"),
        Binding(
            "ctrl+g,alt+j",
            "toggle_jobs",
            "Jobs",
            tooltip="Show or hide the job queue (from any screen)",
            id="app.jobs",
            priority=True,
        ),
        Binding(
            "f10",
            "new_image",
            "Image",
            tooltip="Generate an image (Seedream)",
            id="app.image",
            priority=True,  # handled at once: keys typed right after it must reach the form
        ),
        Binding(
            "alt+i,ctrl+t",
            "gallery",
            "Gallery",
            tooltip="Every generated image, as previews",
            id="app.gallery",
            show=False,
        ),
        Binding(
            "f12",
            "new_video",
            "Video",
            tooltip="Generate a video (Seedance, Kling)",
            id="app.video",
            priority=True,
        ),
        Binding(
            "f6",
            "settings",
            "Settings",
            tooltip="Studio's settings: key, models, theme, timeouts...",
            id="app.settings",
            show=False,
            priority=True,  # the prompt would keep it
        ),
        Binding(
            "ctrl+f",
            "search",
            "Search",
            tooltip="Search every message (archived conversations too)",
            id="app.search",
        ),
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
        jobs_config: EngineConfig | None = None,
    ) -> None:
        install_key_fixes()  # before the driver makes its input parser
        super().__init__()
        self.settings = settings
        self.settings_changed: Signal[SettingsChanged] = Signal(self, "settings-changed")
        """Published when saved settings took effect (:mod:`studio.tui.settings_apply`)."""
        self.store_failure: StoreUnavailable | None = None
        """Set when the database turned out unusable while the app ran (``run_app`` says so)."""
        self.store = store or Store.open()
        self.gateway = gateway or Gateway(settings, demo=demo)
        from studio.tui.job_actions import JobActions
        from studio.tui.jobs import JobsController

        self.jobs = JobsController(self, jobs_config)
        self.terminal_title = TerminalTitle(self)
        self.job_actions = JobActions(self)
        self.recovered = self.store.recover_interrupted()
        self.keymap: dict[str, str] = {}
        """The user's keymap as applied: binding id -> keys (the entries that were sound)."""
        self.user_keys: dict[str, str] = {}
        """Each key of :attr:`keymap` -> its binding id (they win over the prompt's own keys)."""
        self.keymap_problems: list[str] = []
        catalog = register_themes(self)
        self.theme_files = catalog.themes
        """The themes registered from files (built-in or the user's) by name, with their source."""
        self.theme_notices = catalog.problems
        """Start-up warnings about themes: theme files left out, an unknown ``theme`` setting."""
        theme, unknown = starting_theme(self, settings.theme)
        self.theme_notices += [unknown] if unknown else []
        self.theme = theme

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, or on Linux/macOS the same one ending its input thread at once
        on quit (:class:`~studio.tui.compat.QuickExitDriver`)."""
        from textual.drivers.linux_driver import LinuxDriver

        driver = super().get_driver_class()
        return QuickExitDriver if driver is LinuxDriver else driver

    def handle_unexpected(self, error: Exception) -> bool:
        """A database Studio cannot use, found by a read no screen expected to fail: end the app
        cleanly (``run_app`` prints the store's sentence on stderr), never with a traceback."""
        failure = store_failure(error)
        if failure is None:
            return False
        if self.store_failure is None:
            self.store_failure = failure
            self.exit(return_code=1)  # run_app raises the failure: the CLI picks the exit code
        return True

    def on_mount(self) -> None:
        self.keymap_problems = self.use_keymap(self.settings.keymap)
        self.jobs.changed.subscribe(self, self.terminal_title.jobs_changed)
        self.watch(self, "theme", self._theme_chosen, init=False)
        # Textual holds every frame back until the app's start-up (this handler included) is
        # over, so a screen pushed here is laid out and rendered once in vain, then again:
        # push it once start-up is over.
        self.call_later(self._open_main_screen)

    def _open_main_screen(self) -> None:
        from studio.tui.screens.main import MainScreen
        from studio.tui.start_notices import show_start_notices

        self.push_screen(MainScreen())
        show_start_notices(self)

    def get_css_variables(self) -> dict[str, str]:
        """Textual's variables plus Studio's roles (``$studio-*``), for every theme."""
        variables = with_roles(super().get_css_variables(), dark=self.current_theme.dark)
        self.theme_variables = variables
        return variables

    def _theme_chosen(self, name: str) -> None:
        from studio.tui.screens.theme_picker import ThemePicker

        if not isinstance(self.screen, ThemePicker):  # a preview: the picker saves the choice
            save_theme(self, name)

    def use_keymap(self, keymap: Mapping[str, str]) -> list[str]:
        """Check ``keymap`` (binding id -> keys; ``studio.keymap``) and apply the entries that
        are sound, each bad key or entry left out (its binding keeps its keys). Returns one
        warning per entry with problems."""
        from studio.keymap import check_keymap

        check = check_keymap(keymap)
        self.keymap = check.applied
        self.user_keys = {
            key: binding_id for binding_id, keys in check.applied.items() for key in keys.split(",")
        }
        self.set_keymap(check.applied)
        return check.problems

    async def on_unmount(self) -> None:
        from studio.tui.heap import HeapFreeze

        HeapFreeze.release_all()
        await self.jobs.stop()
        await self.gateway.aclose()
        self.store.close()

    # -- services for screens ------------------------------------------------------------------

    async def copy_text(self, text: str, what: str = "text") -> None:
        """Copy following client-guide §5 and say honestly what happened."""
        from studio.clipboard import (  # on first copy, not before the first frame
            copy_text,
            save_text,
        )

        result = await copy_text(text, mode=self.settings.clipboard, write=self.write_to_terminal)
        message = f"{what.capitalize()}: {result.message}"
        if result.too_long and not result.native_ok:
            try:
                saved = save_text(text, ensure_dir(data_dir() / "saved"), what.replace(" ", "-"))
            except OSError as exc:
                message += f" — and saving it to a file failed: {exc.strerror or exc}"
            else:
                message += f" — the full text is saved to {saved}"
        self.notify(message, timeout=8 if result.too_long else 4, markup=False)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A toast, its text made safe for the terminal: toasts carry server errors, model ids,
        titles and file names (client-guide §6). Studio's own calls pass ``markup=False`` too
        (``tests/tui/test_terminal_safety.py`` checks): such text is never markup."""
        super().notify(
            clean(message, tabs=False),
            title=clean_line(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def copy_to_clipboard(self, text: str) -> None:
        """Textual's copy (ctrl+c on a mouse selection, copy in inputs) takes the same path as
        Studio's own: OSC 52 wrapped for tmux/screen, the local clipboard, an honest toast."""
        remember_copied(self, text)
        self.run_worker(self.copy_text(text, "selection"), group="clipboard")

    def write_to_terminal(self, sequence: str) -> None:
        """Write an escape sequence (OSC 52, a window title) to the terminal now."""
        write_to_terminal(self, sequence)

    def load_attachment(self, source: str) -> NewAttachment:
        """A pending attachment from a local path or URL; raises MediaInputError with reasons."""
        if source.startswith(("http://", "https://")):
            name = PurePosixPath(urlsplit(source).path).name or source
            return NewAttachment(name=name, mime="image/*", url=source)
        from studio.api import media  # urllib.request and mimetypes: not before the first frame

        uri = media.image_data_uri(source)
        info = media.describe_image(source)
        return NewAttachment(
            name=os.path.basename(os.path.expanduser(source)),
            mime=info.mime or "application/octet-stream",
            data=media.decode_data_uri(uri),
            width=info.width,
            height=info.height,
        )

    # -- jobs --------------------------------------------------------------------------------

    def message_added(self, message: Message) -> None:
        """A message was added outside a pane (a finished job): show it where it is open."""
        from studio.tui.jobs import MessageWritten

        self.jobs.messages.publish(MessageWritten(message))

    async def action_toggle_jobs(self) -> None:
        from studio.tui.screens.main import MainScreen

        if isinstance(self.screen, MainScreen):
            await self.screen.toggle_jobs()
        else:
            from studio.tui.screens.jobs_screen import JobsScreen

            if isinstance(self.screen, JobsScreen):
                self.screen.dismiss()
            else:
                self.push_screen(JobsScreen())

    def action_gallery(self) -> None:
        from studio.tui.screens.gallery import GalleryScreen

        if not isinstance(self.screen, GalleryScreen):
            self.push_screen(GalleryScreen())

    def action_new_image(self) -> None:
        self.job_actions.new_media("image", cid=self._conversation_in_view())

    def action_new_video(self) -> None:
        self.job_actions.new_media("video", cid=self._conversation_in_view())

    def _conversation_in_view(self) -> int | None:
        """The conversation on screen, if any: a job started from it (F10/F12) shows there."""
        from studio.tui.screens.main import MainScreen

        screen = self.screen
        return screen.active_id if isinstance(screen, MainScreen) else None

    async def job_action(self, job_id: int, action: str) -> None:
        """A job's detail view (or the queue) asks for ``action`` on job ``job_id``."""
        await self.job_actions.act(job_id, action)

    # -- help and the command palette ----------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's own commands, less those Studio lists with its key ("Quit Studio") or
        does its own way ("Theme: choose with a live preview")."""
        replaced = {"Quit", "Theme"}
        return (c for c in super().get_system_commands(screen) if c.title not in replaced)

    def action_change_theme(self) -> None:
        """Textual's "Change theme" command opens Studio's picker: a live preview as it moves."""
        from studio.tui.screens.theme_picker import ThemePicker

        if not isinstance(self.screen, ThemePicker):
            self.push_screen(ThemePicker())

    def action_settings(self) -> None:
        """Open the settings screen (every global setting, checked, saved atomically)."""
        from studio.tui.screens.settings import SettingsScreen

        if not isinstance(self.screen, SettingsScreen):
            self.push_screen(SettingsScreen())

    def action_search(self) -> None:
        from studio.tui.screens.search import open_search

        open_search(self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search":
            from studio.tui.screens.search import search_possible

            return search_possible(self)
        return True

    def help_groups(self) -> dict[str, list[BindingType]]:
        """What F1 lists, by where it works; every id in it can be remapped in ``[keymap]``."""
        from studio.tui.help_groups import help_groups

        return help_groups(self.BINDINGS)

    def action_help(self) -> None:
        from studio.tui.screens.help import HelpScreen, bindings_table

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(bindings_table(self.help_groups(), self.keymap)))


def store_failure(error: BaseException) -> StoreUnavailable | None:
    """The :class:`StoreUnavailable` behind ``error`` (itself, the error a failed worker
    wraps, or a cause), if there is one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, StoreUnavailable):
            return current
        seen.add(id(current))
        wrapped = getattr(current, "error", None)  # textual.worker.WorkerFailed
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__
    return None
