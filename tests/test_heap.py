"""render/heap.py: full collections wait while WeasyPrint works, a layout's survivors are frozen for
the print job, and the collector's settings always come back as they were."""

from __future__ import annotations

import gc
import threading
import time
import weakref

import pytest

from research_news.assemble import Edition
from research_news.render import heap
from research_news.render import pdf as pdf_module


@pytest.fixture(autouse=True)
def nothing_frozen():
    """Each test starts and ends with nothing frozen and the thresholds as they were."""
    if gc.get_freeze_count():
        pytest.skip("this process froze objects of its own")
    thresholds = gc.get_threshold()
    yield thresholds
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class _Cycle:
    """An object that refers to itself: only a collection frees it once it is dropped."""

    def __init__(self) -> None:
        self.me = self


def test_full_collections_wait_inside_and_the_thresholds_come_back(nothing_frozen):
    with heap.deferred():
        assert gc.get_threshold() == (*nothing_frozen[:2], heap.NO_FULL_COLLECTION)
        with heap.deferred():
            assert gc.get_threshold()[2] == heap.NO_FULL_COLLECTION
        assert gc.get_threshold()[2] == heap.NO_FULL_COLLECTION  # the outer block still waits
    assert gc.get_threshold() == nothing_frozen
    with pytest.raises(OSError), heap.deferred():
        raise OSError("disk full")
    assert gc.get_threshold() == nothing_frozen


def test_threads_put_the_thresholds_back_when_the_last_one_is_done(nothing_frozen):
    entered, release_first, first_done, release_second = (threading.Event() for _ in range(4))

    def first():
        with heap.deferred():
            entered.set()
            release_first.wait(10)
        first_done.set()

    def second():
        entered.wait(10)
        with heap.deferred():
            release_first.set()
            first_done.wait(10)
            seen.append(gc.get_threshold()[2])
            release_second.wait(10)

    seen: list[int] = []
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_done.wait(10)
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == [heap.NO_FULL_COLLECTION]  # the first thread left; the second still works
    release_second.set()
    for thread in threads:
        thread.join(10)
    assert gc.get_threshold() == nothing_frozen


@pytest.fixture
def no_automatic_collection():
    """No collection starts by itself (a young one could free a dropped cycle before the test looks)."""
    gc.disable()
    yield
    gc.enable()


def test_settled_frees_what_a_layout_left_and_freezes_the_rest_until_the_job_is_done(no_automatic_collection):
    living = _Cycle()
    with heap.frozen_until_done():
        dropped = weakref.ref(_Cycle())
        assert dropped() is not None  # a cycle: not freed when dropped
        heap.settled()
        assert dropped() is None
        assert gc.get_freeze_count() > 0
        with heap.frozen_until_done():  # a job inside another (the preview's threads): the outer one hands back
            pass
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    assert living.me is living


def test_settled_outside_a_print_job_freezes_nothing(no_automatic_collection):
    dropped = weakref.ref(_Cycle())
    heap.settled()
    assert gc.get_freeze_count() == 0
    assert dropped() is not None  # and collects nothing either: that is the collector's own business


def test_a_process_that_froze_objects_of_its_own_is_left_as_it_is():
    gc.freeze()
    frozen = gc.get_freeze_count()
    with heap.frozen_until_done():
        heap.settled()
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == frozen  # not handed back: they are not ours


def test_the_print_job_freezes_its_layout_and_hands_it_back(minimal_edition: Edition, nothing_frozen):
    frozen_during: list[int] = []

    def seen(phase, info):
        if phase == "start":
            frozen_during.append(gc.get_freeze_count())

    gc.callbacks.append(seen)
    try:
        printed = pdf_module.render_print(minimal_edition, offprints=[minimal_edition.briefs[0].slug])
    finally:
        gc.callbacks.remove(seen)
    assert printed.issue is not None and printed.issue.data.startswith(b"%PDF")
    assert max(frozen_during) > 0  # collections during the job did not visit the frozen layout
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == nothing_frozen


def test_a_failed_print_job_hands_everything_back(minimal_edition: Edition, monkeypatch, nothing_frozen):
    def failing(*args, **kwargs):
        assert gc.get_threshold()[2] == nothing_frozen[2]  # between layouts and writes, nothing waits
        assert gc.get_freeze_count() > 0
        raise OSError("disk full")

    monkeypatch.setattr(pdf_module, "_write", failing)
    with pytest.raises(OSError):
        pdf_module.render_print(minimal_edition)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == nothing_frozen


def test_what_an_earlier_layout_left_is_freed_before_the_next_one(no_automatic_collection):
    """Full collections wait while WeasyPrint lays out: the garbage of a layout done with (the issue
    before this one in a site's process, the preview's last version) must not live through the next."""
    dropped = weakref.ref(_Cycle())
    with heap.frozen_until_done():  # a print job's start
        assert dropped() is None
        inside = weakref.ref(_Cycle())
        heap.before_layout()  # inside a job: each layout's garbage is freed by settled()
        assert inside() is not None
        heap.settled()
        assert inside() is None
    dropped = weakref.ref(_Cycle())
    heap.before_layout()  # outside a job (the preview's layouts)
    assert dropped() is None


def test_a_layout_outside_a_print_job_starts_after_a_collection(
    minimal_edition: Edition, monkeypatch, no_automatic_collection
):
    dropped = weakref.ref(_Cycle())
    alive_at_layout: list[bool] = []
    real_html = pdf_module.HTML

    def html(*args, **kwargs):
        document = real_html(*args, **kwargs)
        render = document.render

        def rendered(*args, **kwargs):
            alive_at_layout.append(dropped() is not None)
            return render(*args, **kwargs)

        document.render = rendered
        return document

    monkeypatch.setattr(pdf_module, "HTML", html)
    pdf_module.html_to_pdf(minimal_edition, "<html lang='en'><p>The preview's next version.</p>", None)
    assert alive_at_layout == [False]
