"""Stage 4: renderers. Each turns an :class:`~research_news.assemble.Edition` into bytes or text.

Renderers never write files (the build stage does, atomically) and never reach outside
the content tree and the layout folders.
"""
