"""`research-news serve`: a live preview of an issue or a brief while it is written.

previews.py checks and renders a target in memory, pdfs.py renders its PDFs in a worker
process, app.py serves them (with the Host check) and tells open pages when they change,
server.py runs it all. Starlette, uvicorn and watchfiles are imported only here, so the
other commands start as fast as before.
"""
