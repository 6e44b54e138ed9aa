"""Desktop notifications written to the terminal: OSC 9 or OSC 777, chosen by terminal.

Many terminals turn an escape sequence into a desktop notification, so a job that ends in a
terminal the user is not looking at (another tab, a tmux window, a minimised window over SSH)
can still tell them. Two families exist; which one a terminal speaks is decided from its
environment (the first row that matches wins)::

    variable            value                         family    terminal
    $TERM_PROGRAM       iTerm.app                     OSC 9     iTerm2
    $LC_TERMINAL        iTerm2                        OSC 9     iTerm2 (also over ssh)
    $TERM_PROGRAM       WezTerm / $WEZTERM_PANE set   OSC 9     WezTerm
    $TERM_PROGRAM       ghostty / $TERM xterm-ghostty OSC 9     Ghostty
    $KITTY_WINDOW_ID    set / $TERM xterm-kitty       OSC 9     kitty
    $WT_SESSION         set                           OSC 9     Windows Terminal
    $TERM               foot, foot-*                  OSC 777   foot
    $TERM               rxvt-unicode*                 OSC 777   urxvt (notify extension)
    $VTE_VERSION        set                           OSC 777   GNOME Terminal, Tilix, Ptyxis...

Anything else (Apple Terminal, VS Code, xterm, the Linux console...) gets ``""``: an unknown
OSC is harmless in most terminals but some print it, so nothing is sent where support is not
known. ``mode`` forces a family (``osc9``, ``osc777``) or turns it off.

Inside tmux (``$TMUX``) the sequence is wrapped in tmux's DCS passthrough (``ESC P tmux;`` with
every ESC doubled, then ``ESC \\``), which tmux 3.3+ forwards only with
``set -g allow-passthrough on``; inside GNU screen (``$STY``) in screen's DCS. The variables
above survive into tmux when tmux was started from that terminal (``$TERM_PROGRAM`` does not:
tmux sets it to ``tmux``).

Title and body are untrusted (prompts, model ids, failure reasons): control characters become
visible pictures (:func:`studio.textsafe.clean_line`), ``;`` becomes ``,`` (OSC 777 splits on
it) and each is cut to a few hundred characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from studio.textsafe import clean_line

BELL = "\a"
"""The terminal bell."""

ESC = "\x1b"
TITLE_LIMIT = 80
BODY_LIMIT = 240
NOTIFY_MODES = ("auto", "osc9", "osc777", "off")

Family = Literal["osc9", "osc777"]


def terminal_family(env: Mapping[str, str]) -> Family | None:
    """Which notification sequence the terminal described by ``env`` understands, if any."""
    program = env.get("TERM_PROGRAM", "")
    term = env.get("TERM", "")
    if program == "iTerm.app" or env.get("LC_TERMINAL") == "iTerm2":
        return "osc9"
    if program == "WezTerm" or env.get("WEZTERM_PANE"):
        return "osc9"
    if program == "ghostty" or term == "xterm-ghostty":
        return "osc9"
    if env.get("KITTY_WINDOW_ID") or term == "xterm-kitty":
        return "osc9"
    if env.get("WT_SESSION"):
        return "osc9"
    if term == "foot" or term.startswith("foot-") or term.startswith("rxvt-unicode"):
        return "osc777"
    if env.get("VTE_VERSION"):
        return "osc777"
    return None


def _field(text: str, limit: int) -> str:
    """``text`` on one line, without control characters or ``;``, at most ``limit`` long."""
    text = " ".join(clean_line(text).replace(";", ",").split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _wrap(sequence: str, env: Mapping[str, str]) -> str:
    """``sequence`` passed through a multiplexer to the terminal around it."""
    if env.get("TMUX"):
        return f"{ESC}Ptmux;" + sequence.replace(ESC, ESC + ESC) + f"{ESC}\\"
    if env.get("STY"):
        return f"{ESC}P{sequence}{ESC}\\"
    return sequence


def notification_sequence(
    title: str, body: str, *, env: Mapping[str, str], mode: str = "auto"
) -> str:
    """The escape sequence that shows a desktop notification with ``title`` and ``body`` in
    the terminal ``env`` describes (``os.environ``), or ``""`` when it is not known to show one.

    ``mode``: ``auto`` (decide from ``env``), ``osc9`` or ``osc777`` (that family whatever the
    terminal), ``off`` (always ``""``).
    """
    if mode == "off":
        return ""
    family: Family | None
    if mode in ("osc9", "osc777"):
        family = "osc9" if mode == "osc9" else "osc777"
    else:
        family = terminal_family(env)
    if family is None:
        return ""
    head, text = _field(title, TITLE_LIMIT), _field(body, BODY_LIMIT)
    if family == "osc777":
        sequence = f"{ESC}]777;notify;{head or 'Notification'};{text}{BELL}"
    else:
        message = f"{head}: {text}" if head and text else head or text
        if message[:1].isdigit():  # "4;..." would be ConEmu's progress sub-command
            message = " " + message
        sequence = f"{ESC}]9;{message}{BELL}"
    return _wrap(sequence, env)
