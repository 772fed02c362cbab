"""The language editions of one built issue, and which one each reader gets.

``build`` writes the issue in its own language at ``<out>/<slug>/<slug>.eml`` and each
translation L at ``<out>/<slug>/<L>/<slug>.eml``. A reader gets the edition in their
``language`` (the subscriber list's column), chosen in this order:

1. the edition of exactly that language (compared ignoring case: ``PT-BR`` is ``pt-BR``);
2. the edition of its base language (``pt`` for a ``pt-BR`` reader);
3. an edition of the same base language (``pt-BR`` for a ``pt`` reader), the first by tag;
4. the issue's own language: the top-level edition, which is always there (send refuses
   to start without it), so no reader is ever left out. Readers with no language get it too.

The publication's first language is therefore never needed as a further fallback: the
issue's own edition always exists.

Every edition must be the same issue, from the same sender, in the language its folder
names; anything else is refused before a message leaves. All editions share one ledger,
``<out>/<slug>/send.db``, keyed by the reader's address: a reader is sent the issue once,
whatever language they had then or have now.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import ResearchNewsError, counted
from ..locales import language_name
from ..models import LANGUAGE_TAG
from ..recipients import Recipient
from .built import BuiltIssue, load_built_issue, read_built_issue


@dataclass(frozen=True)
class Editions:
    """The issue's own edition and its translations, as built."""

    own: BuiltIssue
    translations: tuple[BuiltIssue, ...] = ()
    _chosen: dict[str, BuiltIssue] = field(default_factory=dict, repr=False, compare=False)

    @property
    def all(self) -> tuple[BuiltIssue, ...]:
        return (self.own, *self.translations)

    @property
    def several(self) -> bool:
        return bool(self.translations)

    @property
    def slug(self) -> str:
        return self.own.slug

    @property
    def ledger_path(self) -> Path:
        """One ledger for every language, beside the issue's own edition."""
        return self.own.path.parent / "send.db"

    def for_language(self, language: str) -> BuiltIssue:
        """The edition a reader whose language is ``language`` gets (the order in the module's docstring)."""
        wanted = language.lower()
        if wanted not in self._chosen:  # once per language, not once per reader
            self._chosen[wanted] = self._choose(wanted)
        return self._chosen[wanted]

    def for_reader(self, recipient: Recipient) -> BuiltIssue:
        return self.for_language(recipient.language)

    def is_built(self, language: str) -> bool:
        """Whether a reader of ``language`` gets an edition in it (or its base language), not the fallback;
        a reader with no language asks for none."""
        if not language:
            return True
        base = language.lower().split("-")[0]
        return any(edition.language.lower().split("-")[0] == base for edition in self.all)

    def _choose(self, wanted: str) -> BuiltIssue:
        base = wanted.split("-")[0]
        for matches in (
            lambda edition: edition.language.lower() == wanted,
            lambda edition: edition.language.lower() == base,
            lambda edition: edition.language.lower().split("-")[0] == base,
        ):
            found = [edition for edition in self.all if matches(edition)]
            if found:
                return min(found, key=lambda edition: edition.language.lower())
        return self.own


def load_editions(issue_dir: Path, out: Path) -> Editions:
    """Every built edition of ``issue_dir`` under ``out``; raises when one is not what its place says."""
    own = load_built_issue(issue_dir, out)
    folder = own.path.parent
    translations = []
    for subfolder in sorted(folder.iterdir()):
        if not (subfolder.is_dir() and LANGUAGE_TAG.fullmatch(subfolder.name)):
            continue  # assets/ and the like: a language folder is named by a language tag
        if any(subfolder.glob("*.eml")):
            translations.append(_translation(own, subfolder))
    for translation in translations:
        if translation.language.lower() == own.language.lower():
            raise ResearchNewsError(
                f"{translation.path} is in {own.language}, the language of the issue's own edition "
                f"{own.path}; remove {translation.path.parent} and build again"
            )
    return Editions(own, tuple(translations))


def _translation(own: BuiltIssue, folder: Path) -> BuiltIssue:
    """The edition in ``folder`` (``<slug>/fr/``), checked to be this issue, in that language."""
    path = folder / f"{own.slug}.eml"
    rebuild = f"remove {folder} and build the issue again"
    if not path.is_file():
        found = sorted(p.name for p in folder.glob("*.eml"))
        raise ResearchNewsError(
            f"{folder} holds {', '.join(found)}, not {path.name}: an email of another issue; {rebuild}"
        )
    edition = read_built_issue(path, own.slug)
    if edition.language.lower() != folder.name.lower():
        said = f"says Content-Language: {edition.language}" if edition.language else "has no Content-Language"
        raise ResearchNewsError(
            f"{path} {said}, but its folder is for {folder.name}; readers of {folder.name} would get "
            f"another language: {rebuild}"
        )
    other_issue = [name for name in edition.attachment_names if name.endswith(".pdf") and name != f"{own.slug}.pdf"]
    if other_issue:
        raise ResearchNewsError(f"{path} carries {other_issue[0]}, the PDF of another issue; {rebuild}")
    if edition.sender.lower() != own.sender.lower():
        raise ResearchNewsError(
            f"{path} is sent from {edition.sender}, {own.path} from {own.sender}: one issue is sent "
            f"from one address (its ledger and Message-IDs are shared); {rebuild}"
        )
    return edition


# --- counts per language, for the editor --------------------------------------------------------


def language_counts(editions: Editions, recipients: list[Recipient]) -> str:
    """``301 in English, 111 in French (3 readers whose language, de, is not built, get English)``."""
    sent_in: Counter[str] = Counter()
    not_built: Counter[str] = Counter()
    for recipient in recipients:
        edition = editions.for_reader(recipient)
        sent_in[edition.language] += 1
        if not editions.is_built(recipient.language):
            not_built[recipient.language] += 1
    order = [edition.language for edition in editions.all]
    text = ", ".join(f"{sent_in[language]} in {language_name(language)}" for language in order)
    if not_built:
        languages = sorted(not_built)
        which = (
            f"whose language, {languages[0]}, is not built"
            if len(languages) == 1
            else f"whose languages, {', '.join(languages[:-1])} and {languages[-1]}, are not built"
        )
        readers = sum(not_built.values())
        get = "gets" if readers == 1 else "get"
        text += f" ({counted(readers, 'reader')} {which}, {get} {language_name(editions.own.language)})"
    return text
