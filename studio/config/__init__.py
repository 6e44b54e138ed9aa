"""Typed settings: read from TOML (tomllib), written with tomli-w, overridden by the environment.

The configuration file is optional; every setting has a default. Each setting is declared once,
as a field of :class:`Settings` (``studio.config.settings``) holding its type, default, check
and help; validation (``studio.config.checks``), ``studio config show``, ``describe_settings()``
and the README's settings table (``python -m studio.config`` prints it) all read that.
Environment variables win over the file: ``ANYFAST_API_KEY``, ``ANYFAST_BASE_URL`` and
``STUDIO_DEFAULT_MODEL``. Values taken from the environment are never written back to the file
unless the caller changed them (``studio.config.files``).

No representation of :class:`Settings` ever contains the API key; only a masked form.
"""

from studio.config.checks import (
    ConfigError,
    checked_text,
    is_loopback_url,
    plain_http_warning,
    url_for_display,
)
from studio.config.files import (
    FILE_MODE,
    MAX_CONFIG_BYTES,
    load_settings,
    save_settings,
    set_value,
    unset_value,
)
from studio.config.keycommand import KEY_COMMAND_SECONDS, with_command_key
from studio.config.settings import (
    CLIPBOARD_MODES,
    ENV_OVERRIDES,
    MAX_RETRIES_LIMIT,
    SETTING_NAMES,
    Settings,
    describe_settings,
    markdown_table,
    masked_key,
    toml_value,
)

__all__ = [
    "CLIPBOARD_MODES",
    "ENV_OVERRIDES",
    "FILE_MODE",
    "KEY_COMMAND_SECONDS",
    "MAX_CONFIG_BYTES",
    "MAX_RETRIES_LIMIT",
    "SETTING_NAMES",
    "ConfigError",
    "Settings",
    "checked_text",
    "describe_settings",
    "is_loopback_url",
    "load_settings",
    "markdown_table",
    "masked_key",
    "plain_http_warning",
    "save_settings",
    "set_value",
    "toml_value",
    "unset_value",
    "url_for_display",
    "with_command_key",
]
