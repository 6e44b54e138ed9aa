"""What F1 lists, grouped by where each key works (every id in it can be remapped)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import BindingType


def help_groups(everywhere: Iterable[BindingType]) -> dict[str, list[BindingType]]:
    """F1's groups: ``everywhere`` (the app's own bindings) first, then each screen's and
    widget's, in the order the help lists them."""
    from studio.tui.keys import declared_bindings
    from studio.tui.screens.job_detail import JobDetail
    from studio.tui.screens.main import MainScreen
    from studio.tui.screens.model_picker import ModelPicker
    from studio.tui.screens.search import SearchScreen
    from studio.tui.screens.settings import SettingsScreen
    from studio.tui.widgets.chat_pane import ChatPane
    from studio.tui.widgets.conversation_list import ConversationList
    from studio.tui.widgets.job_sidebar import JobSidebar
    from studio.tui.widgets.message_view import MessageView
    from studio.tui.widgets.prompt import PromptInput

    pane: dict[str, list[BindingType]] = {}
    if declared_bindings(ChatPane):
        pane["In a conversation"] = list(declared_bindings(ChatPane))
    return {
        "Everywhere": list(everywhere),
        "Conversations": list(MainScreen.BINDINGS),
        **pane,
        "Prompt": list(PromptInput.BINDINGS),
        "A selected message (alt+up)": list(MessageView.BINDINGS),
        "Conversation list (ctrl+l)": list(ConversationList.BINDINGS),
        "Job queue (ctrl+g)": list(JobSidebar.BINDINGS),
        "A job (Enter in the queue)": list(JobDetail.BINDINGS),
        "Model picker (f2)": list(ModelPicker.BINDINGS),
        "Search (ctrl+f)": list(SearchScreen.BINDINGS),
        "Settings (f6)": list(SettingsScreen.BINDINGS),
    }
