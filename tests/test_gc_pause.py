"""Automatic garbage collection held off during the kit's set-up steps, and given back as it was."""

from __future__ import annotations

import gc
import threading

import pytest

from workmail_sandbox._gc_pause import paused_gc, with_paused_gc


@pytest.fixture(autouse=True)
def _collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_collection_is_off_inside_and_on_again_after():
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_pauses_nest_and_the_outermost_gives_collection_back():
    with paused_gc():
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled(), "the inner pause ended, the outer one still holds"
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_program_stays_off():
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_an_error_inside_still_gives_collection_back():
    with pytest.raises(ValueError, match="boom"), paused_gc():
        raise ValueError("boom")
    assert gc.isenabled()


def test_the_decorator_keeps_the_function_and_its_answer():
    @with_paused_gc
    def double(x: int) -> int:
        """Twice x."""
        assert not gc.isenabled()
        return 2 * x

    assert double(21) == 42 and double.__name__ == "double" and double.__doc__ == "Twice x."
    assert gc.isenabled()


def test_threads_pausing_at_once_leave_collection_on():
    barrier = threading.Barrier(4)

    def pause():
        with paused_gc():
            barrier.wait(10)

    threads = [threading.Thread(target=pause) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert gc.isenabled()


def test_a_lesson_set_up_leaves_collection_as_it_was(workmail_sandbox):
    from workmail_sandbox import lessons

    state = lessons.setup(2)
    assert gc.isenabled() and state.function_name
    gc.disable()
    lessons.setup(3)
    assert not gc.isenabled()
