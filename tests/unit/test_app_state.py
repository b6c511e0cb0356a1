"""The app's state object: attribute reads must see every way of writing and deleting."""

from __future__ import annotations

import pytest

from chinhhang.web import _AppState


def test_reads_follow_attribute_and_item_writes_and_deletes() -> None:
    state = _AppState()
    state.scanner = "first"
    assert state.scanner == "first" == state["scanner"]
    state.scanner = "second"
    assert state.scanner == "second" == state["scanner"]
    state["throttle"] = "by item"
    assert state.throttle == "by item"
    del state.scanner
    del state["throttle"]
    for name in ("scanner", "throttle"):
        assert not hasattr(state, name)
        with pytest.raises(KeyError):
            state[name]
    assert getattr(state, "journey_of_stamp", None) is None


def test_monkeypatched_state_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    state = _AppState()
    state.pages = "real"
    with monkeypatch.context() as patch:
        patch.setattr(state, "pages", "fake")
        assert state.pages == "fake" == state["pages"]
    assert state.pages == "real" == state["pages"]


def test_reads_do_not_go_through_getattr() -> None:
    """The point of the class: a read is an instance attribute, not a failed lookup first."""
    state = _AppState()
    state.settings = "settings"
    assert vars(state)["settings"] == "settings"
