"""Favourite models: starred in the model picker, saved to the config at once."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from studio.config import ConfigError, load_settings, save_settings

if TYPE_CHECKING:
    from studio.tui.app import StudioApp


def toggle_favourite(app: StudioApp, model: str) -> bool | None:
    """Add or remove a favourite model, saved to the config: True when added, False when
    removed, None (and a toast) when it could not be saved. The list is read from the file
    first, so favourites another Studio window saved meanwhile are kept."""
    try:
        favourites = list(load_settings().favourite_models)
    except (ConfigError, OSError):
        favourites = list(app.settings.favourite_models)
    added = model not in favourites
    if added:
        favourites.append(model)
    else:
        favourites.remove(model)
    try:
        save_settings({"favourite_models": favourites})
    except (ConfigError, OSError) as exc:
        app.notify(f"Favourites not saved: {exc}", severity="warning", markup=False)
        return None
    app.settings = dataclasses.replace(app.settings, favourite_models=favourites)
    return added
