"""research-news: research briefs in YAML, published as PDF, web and email."""

from . import weasyprint_import

__version__ = "0.1.0"

weasyprint_import.install()  # WeasyPrint, when a command needs it, imported 0.15 s sooner (see there)
