"""Templates for new content: a brief or an issue folder, with comments that teach the format."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from .load import LoadFailed, load_document
from .tree import ISSUE_FILE, PUBLICATION_FILE, find_root
from .write import WriteFailed, write_text


def _templates() -> Environment:
    return Environment(loader=PackageLoader("research_news", "templates/new"), undefined=StrictUndefined,
                       keep_trailing_newline=True, autoescape=False)


def new_brief(path: Path) -> None:
    """Write the commented brief template to ``path``."""
    write_text(path, _templates().get_template("brief.yaml").render(path=path))


def new_issue(folder: Path, date: str) -> None:
    """Create ``folder`` with issue.yaml (next number in the series), briefs/ and images/."""
    root = find_root(folder.parent) if folder.parent.exists() else None
    brief_name = "first-brief.yaml"
    try:
        (folder / "images").mkdir(parents=True)
    except OSError as error:
        raise WriteFailed.from_os_error(error, folder) from None
    text = _templates().get_template(ISSUE_FILE).render(
        folder=folder, number=_next_number(root), date=date, brief=brief_name, series=_series(root)
    )
    write_text(folder / ISSUE_FILE, text)
    new_brief(folder / "briefs" / brief_name)


def _next_number(root: Path | None) -> int:
    """One more than the highest issue number already in the content tree."""
    numbers = [0]
    for issue_file in root.rglob(ISSUE_FILE) if root else []:
        try:
            number = load_document(issue_file).data.get("number")
        except LoadFailed:
            continue
        if isinstance(number, int):
            numbers.append(number)
    return max(numbers) + 1


def _series(root: Path | None) -> str:
    if root:
        try:
            return str(load_document(root / PUBLICATION_FILE).data.get("series", "Research News"))
        except LoadFailed:
            pass
    return "Research News"
