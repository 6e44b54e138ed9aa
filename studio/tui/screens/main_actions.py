"""What the main screen's keys and its conversation list ask of a conversation: rename,
delete, copy, attach, the model and the settings. Dialogs are awaited in workers of the
screen, so the screen keeps handling its messages meanwhile."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.api.errors import MediaInputError
from studio.textsafe import clean_line
from studio.tui.widgets.conversation_list import ConversationList

if TYPE_CHECKING:
    from studio.store import Conversation
    from studio.tui.screens.main import MainScreen
    from studio.tui.widgets.chat_pane import ChatPane


class ConversationActions:
    """Carries out what the user asks of a conversation on a :class:`MainScreen`."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    async def chosen(self, event: ConversationList.Chosen) -> None:
        """An action picked in the conversation list."""
        screen = self.screen
        cid = event.conversation_id
        if event.action == "refresh":
            screen.refresh_list()
        elif event.action == "new":
            await screen.action_new_conversation()
        elif event.action == "leave":
            if screen.active_pane is not None:
                screen.active_pane.focus_prompt()
        elif event.action == "undo":
            await screen.keeper.undo()
        elif cid is None:
            return
        elif event.action == "open":
            await screen.open_conversation(cid)
        elif event.action == "rename":
            conversation = screen.studio.store.get_conversation(cid)
            if conversation is not None:
                screen.run_worker(self._rename(cid, conversation.title))
        elif event.action == "archive":
            await screen.keeper.archive(cid)
        elif event.action == "delete":
            screen.run_worker(self._delete(cid))
        elif event.action == "export":
            from studio.tui.export_flow import export_conversation

            screen.run_worker(export_conversation(screen.studio, cid))

    async def _rename(self, cid: int, title: str) -> None:
        from studio.tui.screens.dialogs import TextPrompt

        screen = self.screen
        new = await screen.app.push_screen_wait(TextPrompt("Rename conversation", title))
        if new:
            screen.studio.store.rename_conversation(cid, new)
            screen.relabel(cid, new)
            screen.refresh_list()

    async def _delete(self, cid: int) -> None:
        screen = self.screen
        store = screen.studio.store
        conversation = store.get_conversation(cid)
        if conversation is None:
            return
        title = clean_line(conversation.title)
        question = f"Delete “{title}” and its {conversation.message_count} messages?"
        from studio.tui.screens.dialogs import Confirm

        listing = screen.query_one(ConversationList)
        in_list = listing.has_focus_within
        if await screen.app.push_screen_wait(Confirm(question)):
            neighbour = listing.neighbour(cid)
            await screen.close_conversation(cid, focus=not in_list)
            store.delete_conversation(cid)
            screen.refresh_list(selected=neighbour)
            if in_list:
                listing.focus_rows()  # the next key acts on the neighbour
            screen.notify(f"Deleted “{title}”", markup=False)

    async def copy(self, what: str) -> None:
        """Copy the last reply (``"reply"``) or code block (``"code"``), or say why not."""
        pane = self.screen.active_pane
        text = pane.copy_target(what) if pane else None
        if not text:
            why = pane.nothing_to_copy(what) if pane else "Nothing to copy yet."
            self.screen.notify(why, markup=False)
            return
        await self.screen.studio.copy_text(text, "reply" if what == "reply" else "code block")

    async def attach(self) -> None:
        """Ask for an image (path or URL) and attach it to the active conversation."""
        screen = self.screen
        pane = screen.active_pane
        if pane is None:
            return
        from studio.tui.screens.dialogs import AttachPrompt

        source = await screen.app.push_screen_wait(AttachPrompt())
        if not source:
            return
        try:
            attachment = screen.studio.load_attachment(source)
        except MediaInputError as exc:
            screen.notify(str(exc), severity="error", timeout=8, markup=False)
            return
        await pane.attach(attachment)
        screen.keeper.save(pane.conversation_id)
        pane.focus_prompt()

    def _active(self) -> tuple[ChatPane, Conversation | None] | None:
        """The active pane and its conversation as stored (None: no pane)."""
        pane = self.screen.active_pane
        if pane is None:
            return None
        return pane, self.screen.studio.store.get_conversation(pane.conversation_id)

    async def pick_model(self) -> None:
        """Choose the active conversation's model."""
        screen = self.screen
        active = self._active()
        if active is None:
            return
        _, conversation = active
        current = (
            conversation.model if conversation else None
        ) or screen.studio.settings.default_model
        from studio.tui.screens.model_picker import ModelPicker

        model = await screen.app.push_screen_wait(ModelPicker(current))
        if model and model != current:
            self.use_model(model)

    def use_model(self, model: str) -> None:
        """Make ``model`` the active conversation's model (the picker's or the palette's)."""
        active = self._active()
        if active is None:
            return
        pane, _ = active
        self.screen.studio.store.update_conversation(pane.conversation_id, model=model)
        pane.set_model(model)
        self.screen.notify(f"Model for this conversation: {model}", markup=False)

    async def settings(self) -> None:
        """Edit the active conversation's system prompt, temperature and max tokens."""
        screen = self.screen
        pane, conversation = self._active() or (None, None)
        if pane is None or conversation is None:
            return
        store = screen.studio.store
        from studio.tui.screens.dialogs import ConversationOptions, SettingsForm

        current = ConversationOptions(
            conversation.system_prompt, conversation.temperature, conversation.max_tokens
        )
        result = await screen.app.push_screen_wait(SettingsForm(conversation.title, current))
        if result is not None:
            store.update_conversation(
                pane.conversation_id,
                system_prompt=result.system_prompt,
                temperature=result.temperature,
                max_tokens=result.max_tokens,
            )
            screen.notify("Conversation settings saved.", markup=False)
