"""What other packages add to research-news, found through entry points.

Two groups: ``research_news.editions`` (editions.py) and ``research_news.sections``
(sections.py). A plugin is third-party code: whatever it raises while loading is told as
one line naming the entry point and the fix (reinstall or remove its package), never a
traceback.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from .exceptions import ResearchNewsError


def installed(group: str) -> list[EntryPoint]:
    """The entry points of ``group``, by name (so the order never depends on install order)."""
    return sorted(entry_points(group=group), key=lambda found: found.name)


def load(entry: EntryPoint, where: str) -> object:
    """What ``entry`` names; ``where`` says which plugin it is in the message when it fails to load."""
    try:
        return entry.load()
    except Exception as error:  # third-party code: whatever it raises, say whose it is
        raise ResearchNewsError(
            f"{where} could not be loaded: {type(error).__name__}: {error}; "
            "reinstall or uninstall the package that provides it"
        ) from None
