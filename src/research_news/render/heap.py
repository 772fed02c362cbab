"""Python's garbage collector, kept from walking a laid-out issue again and again.

CPython's collector visits every object it tracks in a full collection, and it starts one each
time the objects that survived the younger collections have grown by a quarter. A layout is
millions of objects (WeasyPrint's boxes and pages) that live until the issue's PDFs are written:
while a 48-brief issue was laid out, tried and written, 15 full collections visited the growing
layout again and again, 3 s of a 34 s build, and found little garbage. So, for the print edition
(render/pdf.py):

- :func:`deferred`: while WeasyPrint lays out or writes a PDF, full collections wait. The young
  generations are still collected (most garbage dies young), and what a layout leaves behind is
  freed once it is made, by :func:`settled`.
- :func:`frozen_until_done` and :func:`settled`: once a layout is made, one full collection frees
  what it left behind and the objects still alive are frozen (``gc.freeze``: moved where
  collections do not look) until the print edition is done, when they are handed back to the
  collector. Garbage cycles among them wait until then: within one print job, the trial pages a
  splice did not take.
- What an earlier layout left when it was done with (the issue before this one in a site's
  process, a translation's in a worker, the preview's last version) is freed before the next
  layout begins, by one full collection (:func:`before_layout`, and a print job's start), as the
  full collections early in that layout used to: it would otherwise live through it.

Measured on the 48-brief issue: time in full collections 3.45 s → 1.09 s (in one process); the
build 38.6 s → 34.8 s, peak memory 315 → 317 MB (fresh processes, in turn, medians of 3); a site of
6 issues built in one process peaks at 147 MB (150 MB without these measures).

The collector's settings belong to the process. Both measures count their users, so nested and
concurrent ones (the preview's threads) put the settings back only when the last one is done; a
process that froze objects of its own (``gc.get_freeze_count()`` above zero when the first print
job starts) is left as it is, since ``gc.unfreeze`` would hand back its objects too.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

NO_FULL_COLLECTION = 1_000_000
"""The third threshold while full collections wait: that many collections of the middle generation."""

_LOCK = threading.RLock()  # a finalizer run by a collection under it may come back here
_deferring = 0
_thresholds = gc.get_threshold()  # as they were when the first deferral began
_freezing = 0
_ours = False  # whether the frozen objects are ours to hand back (nobody else froze any)


@contextmanager
def deferred() -> Iterator[None]:
    """No full collection starts by itself inside this block (in any thread); the thresholds are put
    back when the last such block ends."""
    global _deferring, _thresholds
    counted = False
    try:
        with _LOCK:
            if _deferring == 0:
                _thresholds = gc.get_threshold()
                gc.set_threshold(_thresholds[0], _thresholds[1], NO_FULL_COLLECTION)
            _deferring += 1
            counted = True
        yield
    finally:
        if counted:
            with _LOCK:
                _deferring -= 1
                if _deferring == 0:
                    gc.set_threshold(*_thresholds)


@contextmanager
def frozen_until_done() -> Iterator[None]:
    """A print job, during which :func:`settled` freezes what a layout leaves alive; when the last job
    that began ends, every object frozen meanwhile is handed back to the collector."""
    global _freezing, _ours
    counted = False
    try:
        with _LOCK:
            if _freezing == 0:
                _ours = gc.get_freeze_count() == 0
                gc.collect()  # what an earlier job left: see before_layout
            _freezing += 1
            counted = True
        yield
    finally:
        if counted:
            with _LOCK:
                _freezing -= 1
                if _freezing == 0 and _ours:
                    gc.unfreeze()


def before_layout() -> None:
    """(Before a layout) outside a print job, free what earlier layouts left: full collections wait
    while WeasyPrint lays out, so their garbage would otherwise live through this one. Inside a job,
    nothing: its start did that, and each layout's garbage is freed by :func:`settled`."""
    with _LOCK:
        if not _freezing:
            gc.collect()


def settled() -> None:
    """(Once a layout is made, inside :func:`frozen_until_done`) free the garbage it left behind and
    freeze the objects alive, so that later full collections do not visit them. Outside a print job,
    or when the process froze objects of its own, nothing."""
    with _LOCK:
        if _freezing and _ours:
            gc.collect()
            gc.freeze()
