"""`research-news site`: every issue of a content tree, and a static site around them, into one folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..exceptions import UsageError, counted, display_path
from ..site import SiteResult, build_site
from .progress import pdf_variant as chosen_variant
from .progress import steps


def site(
    issues_dir: Annotated[
        Path, typer.Argument(help="The content tree (the folder holding publication.yaml and the issue folders).")
    ] = Path("issues"),
    out: Annotated[Path, typer.Option("--out", "-o", help="The site's folder: copy it to any static host.")] = Path(
        "build/site"
    ),
    skip_broken: Annotated[
        bool,
        typer.Option(
            "--skip-broken", help="Leave out the issues that have errors (and say which) instead of stopping."
        ),
    ] = False,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Issues built at once (default: one per core).")
    ] = None,
    search: Annotated[
        bool, typer.Option("--search/--no-search", help="Index the briefs with Pagefind for the search page.")
    ] = True,
    pdf_variant: Annotated[str, typer.Option(help="pdf/ua-1 (default), pdf/a-3b for archives, or none.")] = "pdf/ua-1",
    force: Annotated[
        bool, typer.Option("--force", help="Render everything again, ignoring what earlier builds kept.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary line.")] = False,
) -> None:
    """Build every issue and a static site around them: home, issue and brief pages, people, themes, feeds, search."""
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs takes a number of processes, 1 or more; got {jobs}")
    console = Console(stderr=True, quiet=quiet)
    result = build_site(
        issues_dir,
        out,
        jobs=jobs or os.cpu_count() or 1,
        skip_broken=skip_broken,
        pdf_variant=chosen_variant(pdf_variant),
        search=search,
        force=force,
        step=steps(console),
    )
    for left in result.left_out:
        typer.echo(
            f"left out {display_path(left.issue_dir)} ({counted(len(left.problems), 'error')}; "
            f"`research-news check {display_path(left.issue_dir)}` lists them):",
            err=True,
        )
        for problem in left.problems:
            typer.echo(f"  {problem}", err=True)
    for warning in result.warnings:
        typer.echo(str(warning), err=True)
    typer.echo(_summary(result))


def _summary(result: SiteResult) -> str:
    if result.up_to_date:
        return f"Up to date: {display_path(result.out_dir)}/ (nothing changed since the last build)"
    left = f"; left out {counted(len(result.left_out), 'issue')} with errors" if result.left_out else ""
    search = "" if result.searchable else " (no search index)"
    return (
        f"Built the site in {display_path(result.out_dir)}/: {counted(len(result.issues), 'issue')}, "
        f"{counted(result.files + result.issue_files, 'file')} in {result.seconds:.1f} s{search}{left}"
    )
