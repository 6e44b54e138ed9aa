"""Forms for new image (Seedream) and video (Seedance, Kling) jobs, validated field by field.

Each form dismisses with a :class:`~studio.jobs.requests.MediaRequest` (what to submit) or
None. Every field is checked against the documented limits (``studio.api.validation``) before
anything is sent, and the reason is shown under the field; so are the image files named in a
form (a missing file, a directory, an unreadable file, a file that is no image, an image too
small or too big for the provider, ``anyfast-api.md`` §4.1 and §5.1). A form opens with the
prompt focused, and keys typed before it had the focus (sent in one write with the F10/F12 that
opened it) land there. The forms start with the defaults ``/image`` and ``/video`` send
(``studio.jobs.requests``), and the video form opens on the family that
:func:`~studio.jobs.requests.video_family` picks for the configured model, as ``/video`` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from studio.api.validation import KLING_MODES, KLING_RATIOS, SEEDANCE_RATIOS, SEEDANCE_RESOLUTIONS
from studio.jobs.requests import (
    IMAGE_DEFAULTS,
    KLING_DEFAULTS,
    SEEDANCE_DEFAULTS,
    MediaRequest,
    image_request,
    video_family,
    video_request,
)
from studio.store.job_records import JobProvider
from studio.textsafe import clean_line
from studio.tui.widgets.safe_text_area import SafeTextArea

SEEDREAM_MODELS = (
    "doubao-seedream-4-5-251128",
    "doubao-seedream-4-0-250828",
    "doubao-seedream-5-0-260128",
    "doubao-seedream-3-0-t2i-250415",
)
SEEDANCE_MODELS = ("seedance-2.0", "seedance-fast", "seedance-2.0-mini", "seedance-2.0-ultra")
KLING_MODELS = (
    "kling-v2-master",
    "kling-v2-1-master",
    "kling-v2-5-turbo",
    "kling-v1-6",
    "kling-v3",
)
SIZE_CHOICES = ("2K", "1K", "4K", "2048x2048", "2304x1728", "1728x2304", "2560x1440", "1440x2560")
VIDEO_KINDS = (
    ("Seedance", "seedance"),
    ("Kling text → video", "kling:text2video"),
    ("Kling image → video", "kling:image2video"),
    ("Kling images → video (1–4)", "kling:multi-image2video"),
)


def offered(models: tuple[str, ...], model: str) -> tuple[str, ...]:
    """The models a form offers: ``models``, and after them ``model`` (the setting's, picked
    from the gateway's list) when they lack it."""
    return models if model in models else (*models, model)


IMAGE_FIELDS = (
    "model",
    "prompt",
    "size",
    "references",
    "max_images",
    "seed",
    "response_format",
    "watermark",
)
VIDEO_FIELDS = (
    "model",
    "prompt",
    "negative_prompt",
    "ratio",
    "aspect_ratio",
    "resolution",
    "mode",
    "duration",
    "cfg_scale",
    "first_frame",
    "last_frame",
    "references",
    "image",
    "image_tail",
    "images",
    "seed",
    "audio",
)
"""The fields each form hands to ``studio.jobs.requests`` to make its request."""


def _path_input(name: str) -> Input:
    """A field of paths: focusing it (a reason shown under it, say) leaves the text
    unselected, so a key pressed to fix one path does not replace them all."""
    return Input(id=name, select_on_focus=False)


class FormPrompt(SafeTextArea):
    """A form's prompt. A paste it took goes no further (TextArea lets it bubble), so the form
    can tell a paste that came before the prompt had the focus."""

    def on_paste(self, event: events.Paste) -> None:
        event.stop()


class _Form(ModalScreen[MediaRequest | None]):
    """Shared plumbing: error labels under fields, Save on ctrl+s, Cancel on escape; the
    prompt focused when the form opens."""

    AUTO_FOCUS = ""  # none: the prompt is focused in on_screen_resume
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "Submit", id="form.submit"),
    ]

    def on_key(self, event: events.Key) -> None:
        """A printable key that reaches the form itself arrived before the prompt had the focus
        (typed in one write with the F10/F12 that opened the form): it belongs in the prompt,
        after the keys before it (posted to it in the order they came)."""
        prompt = self.query_one("#prompt", TextArea)
        if event.is_printable and self.focused is prompt:
            event.stop()
            event.prevent_default()
            prompt.post_message(events.Key(event.key, event.character))

    def on_paste(self, event: events.Paste) -> None:
        """The same for a paste that came before the prompt had the focus."""
        prompt = self.query_one("#prompt", TextArea)
        if self.focused is prompt:
            event.stop()
            event.prevent_default()
            prompt.post_message(events.Paste(event.text))

    def on_screen_resume(self) -> None:
        """Focus the prompt without scrolling it to the middle (which hid the title and the
        fields above it), then show as much of the form's top as leaves the prompt in view."""
        if self.focused is None:
            self.set_focus(self.query_one("#prompt"), scroll_visible=False)
        self.call_after_refresh(self._show_from_top)

    def _show_from_top(self) -> None:
        scroll = self.query_one(".media-form", VerticalScroll)
        scroll.scroll_home(animate=False, immediate=True)
        scroll.scroll_to_widget(self.query_one("#row-prompt"), animate=False, immediate=True)

    def field_row(self, name: str, label: str, widget: Any) -> ComposeResult:
        with Vertical(classes="form-field", id=f"row-{name}"):
            yield Label(label)
            yield widget
            yield Static("", classes="field-error", id=f"err-{name}", markup=False)

    def choice_row(
        self,
        name: str,
        label: str,
        choices: Iterable[str | tuple[str, str]],
        value: Any = Select.NULL,
    ) -> ComposeResult:
        """A row that picks one of ``choices`` (each a value shown as it is, or a pair of what
        is shown and the value), never blank: ``value`` or else the first is picked."""
        options = [c if isinstance(c, tuple) else (c, c) for c in choices]
        yield from self.field_row(
            name, label, Select(options, value=value, id=name, allow_blank=False)
        )

    def value(self, name: str) -> str:
        widget = self.query_one(f"#{name}")
        if isinstance(widget, TextArea):
            return widget.text.strip()
        if isinstance(widget, Select):
            return "" if widget.value is Select.BLANK else str(widget.value)
        if isinstance(widget, Checkbox):
            return "1" if widget.value else ""
        assert isinstance(widget, Input)
        return widget.value.strip()

    def show_errors(self, errors: dict[str, str]) -> bool:
        """Show each reason under its field; True when there were none."""
        for label in self.query(".field-error"):
            name = (label.id or "").removeprefix("err-")
            assert isinstance(label, Static)
            label.update(clean_line(errors.get(name, "")))  # reasons may quote the input
        if errors:
            first = next(iter(errors))
            for widget in self.query(f"#{first}"):
                widget.focus()
            self.notify(
                f"{len(errors)} field(s) to fix: {errors[first]}", severity="warning", markup=False
            )
        return not errors

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#submit")
    async def _submit_pressed(self) -> None:
        await self.run_action("submit")

    def buttons(self) -> ComposeResult:
        with Horizontal(classes="dialog-buttons"):
            yield Button("Generate (ctrl+s)", variant="primary", id="submit")
            yield Button("Cancel (esc)", id="cancel")


class ImageForm(_Form):
    """Seedream: model, prompt, size preset or WxH, references, group size, watermark, seed."""

    def __init__(self, model: str, prompt: str = "") -> None:
        super().__init__()
        self.model = model
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog media-form"):
            yield Static("New image (Seedream)", classes="dialog-title")
            models = offered(SEEDREAM_MODELS, self.model)
            yield from self.choice_row("model", "Model", models, self.model)
            yield from self.field_row(
                "prompt", "Prompt", FormPrompt(self.prompt, id="prompt", soft_wrap=True)
            )
            yield from self.field_row(
                "size",
                "Size: 1K, 2K, 4K or WIDTHxHEIGHT",
                Input(IMAGE_DEFAULTS["size"], id="size", suggester=None),
            )
            yield from self.field_row(
                "references",
                "Reference images (paths or URLs, comma-separated; up to 14)",
                _path_input("references"),
            )
            yield from self.field_row(
                "max_images", "Group: up to N images (empty = one image)", Input(id="max_images")
            )
            yield from self.field_row("seed", "Seed (empty = random)", Input(id="seed"))
            fmt = [("URL (downloaded at once)", "url"), ("Inline base64", "b64_json")]
            yield from self.choice_row(
                "response_format", "Delivery", fmt, IMAGE_DEFAULTS["response_format"]
            )
            yield Checkbox("Watermark", value=IMAGE_DEFAULTS["watermark"], id="watermark")
            yield from self.buttons()

    def action_submit(self) -> None:
        request, errors = image_request({name: self.value(name) for name in IMAGE_FIELDS})
        if self.show_errors(errors) and request is not None:
            self.dismiss(request)


class VideoForm(_Form):
    """Seedance or Kling (text, image or images to video); fields follow the chosen kind."""

    KIND_FIELDS = {
        "seedance": {
            "ratio",
            "resolution",
            "duration",
            "audio",
            "seed",
            "first_frame",
            "last_frame",
            "references",
        },
        "kling:text2video": {"mode", "duration", "aspect_ratio", "negative_prompt", "cfg_scale"},
        "kling:image2video": {
            "mode",
            "duration",
            "negative_prompt",
            "cfg_scale",
            "image",
            "image_tail",
        },
        "kling:multi-image2video": {
            "mode",
            "duration",
            "aspect_ratio",
            "negative_prompt",
            "images",
        },
    }
    OPTIONAL = {
        "ratio",
        "resolution",
        "duration",
        "audio",
        "seed",
        "first_frame",
        "last_frame",
        "references",
        "mode",
        "aspect_ratio",
        "negative_prompt",
        "cfg_scale",
        "image",
        "image_tail",
        "images",
    }

    def __init__(self, model: str, prompt: str = "") -> None:
        super().__init__()
        self.initial_model = model
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        family = video_family(self.initial_model)
        kind = "seedance" if family is JobProvider.SEEDANCE else "kling:text2video"
        with VerticalScroll(classes="dialog media-form"):
            yield Static("New video", classes="dialog-title")
            yield from self.choice_row("kind", "Kind", VIDEO_KINDS, kind)
            models = SEEDANCE_MODELS if kind == "seedance" else KLING_MODELS
            yield from self.choice_row("model", "Model", models)
            yield from self.field_row(
                "prompt", "Prompt", FormPrompt(self.prompt, id="prompt", soft_wrap=True)
            )
            yield from self.field_row(
                "negative_prompt", "Negative prompt", Input(id="negative_prompt")
            )
            yield from self.choice_row(
                "ratio", "Ratio", SEEDANCE_RATIOS, SEEDANCE_DEFAULTS["ratio"]
            )
            yield from self.choice_row(
                "aspect_ratio", "Aspect ratio", KLING_RATIOS, KLING_DEFAULTS["aspect_ratio"]
            )
            yield from self.choice_row(
                "resolution", "Resolution", SEEDANCE_RESOLUTIONS, SEEDANCE_DEFAULTS["resolution"]
            )
            yield from self.choice_row("mode", "Mode", KLING_MODES, KLING_DEFAULTS["mode"])
            yield from self.field_row(
                "duration",
                "Duration (seconds)",
                Input(str(SEEDANCE_DEFAULTS["duration"]), id="duration"),
            )
            yield from self.field_row(
                "cfg_scale", "CFG scale (0–1, empty = default)", Input(id="cfg_scale")
            )
            yield from self.field_row(
                "first_frame", "First frame (path or URL)", _path_input("first_frame")
            )
            yield from self.field_row(
                "last_frame", "Last frame (path or URL)", _path_input("last_frame")
            )
            yield from self.field_row(
                "references",
                "Reference images (comma-separated, up to 9)",
                _path_input("references"),
            )
            yield from self.field_row("image", "Image (first frame)", _path_input("image"))
            yield from self.field_row(
                "image_tail", "Tail image (last frame)", _path_input("image_tail")
            )
            yield from self.field_row(
                "images", "Images (1–4, comma-separated)", _path_input("images")
            )
            yield from self.field_row("seed", "Seed (empty = random)", Input(id="seed"))
            yield Checkbox("Generate audio", value=SEEDANCE_DEFAULTS["generate_audio"], id="audio")
            yield from self.buttons()

    def on_mount(self) -> None:
        self._apply_kind()

    @on(Select.Changed, "#kind")
    def _kind_changed(self) -> None:
        self._apply_kind()

    def _apply_kind(self) -> None:
        kind = self.value("kind")
        models: tuple[str, ...] = SEEDANCE_MODELS if kind == "seedance" else KLING_MODELS
        if kind == "kling:multi-image2video":
            models = ("kling-v1-6",)
        elif (video_family(self.initial_model) is JobProvider.KLING) == kind.startswith("kling"):
            models = offered(models, self.initial_model)
        select = self.query_one("#model", Select)
        select.set_options([(m, m) for m in models])
        select.value = self.initial_model if self.initial_model in models else models[0]
        shown = self.KIND_FIELDS[kind]
        for name in self.OPTIONAL:
            for row in self.query(f"#row-{name}"):
                row.display = name in shown
        self.query_one("#audio").display = "audio" in shown

    def action_submit(self) -> None:
        fields = {name: self.value(name) for name in VIDEO_FIELDS}
        request, errors = video_request(self.value("kind"), fields)
        if self.show_errors(errors) and request is not None:
            self.dismiss(request)
