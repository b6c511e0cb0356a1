"""The observability pieces on their own (the whole app: functional/test_observability)."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import pytest

from chinhhang.observability.exposition import is_internal
from chinhhang.observability.logs import JsonFormatter, logging_config
from chinhhang.observability.metrics import MULTIPROC_ENV, prepare_multiprocess_dir
from chinhhang.observability.middleware import request_id_of
from tests.unit.test_layering import offences

DOMAINS = (
    "chinhhang.accounts",
    "chinhhang.alerts",
    "chinhhang.catalog",
    "chinhhang.consumer",
    "chinhhang.printing",
    "chinhhang.regulator",
    "chinhhang.scans",
    "chinhhang.stamps",
    "chinhhang.trace",
    "chinhhang.web",
)


def test_observability_imports_no_domain() -> None:
    """Every domain counts into it, so it sits below them all (as `db` does)."""
    assert offences("observability", DOMAINS, frozenset()) == []


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        (b"abc-123", True),
        (b"A.b_c-9", True),
        (b"x" * 64, True),
        (b"x" * 65, False),
        (b"two words", False),
        (b"", False),
        (b"caf\xc3\xa9", False),
        (b"id\r\nX-Evil: 1", False),
    ],
)
def test_a_request_id_is_kept_only_when_short_and_plain(header: bytes, kept: bool) -> None:
    found = request_id_of([(b"accept", b"*/*"), (b"x-request-id", header)])
    if kept:
        assert found == header.decode()
    else:
        assert len(found) == 16
        assert int(found, 16) >= 0


def test_a_new_request_id_each_time() -> None:
    assert request_id_of([]) != request_id_of([])


@pytest.mark.parametrize(
    ("host", "internal"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("10.0.0.1", True),
        ("172.16.5.4", True),
        ("172.32.0.1", False),
        ("192.168.1.1", True),
        ("fd12:3456::1", True),
        ("::ffff:10.0.0.1", True),
        ("8.8.8.8", False),
        ("203.0.113.9", False),
        ("100.64.1.1", False),
        ("169.254.169.254", False),
        ("2001:db8::1", False),
        ("localhost", False),
        ("testclient", False),
        ("", False),
        (None, False),
    ],
)
def test_internal_addresses(host: str | None, internal: bool) -> None:
    assert is_internal(host) is internal


def test_a_json_line_has_the_fields_and_the_traceback() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.LogRecord(
            "chinhhang.x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info()
        )
    record.request_id = "r-1"
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "error"
    assert line["logger"] == "chinhhang.x"
    assert line["message"] == "failed here"
    assert line["request_id"] == "r-1"
    assert line["pid"] == os.getpid()
    assert line["time"].endswith("Z")
    assert "ValueError: broken" in line["exception"]
    assert "method" not in line


def test_the_logging_configurations() -> None:
    for name in ("json", "text"):
        config = logging_config(name)
        assert config["root"]["level"] == "WARNING"
        assert config["loggers"]["chinhhang"]["level"] == "INFO"
    assert logging_config("json")["formatters"]["default"]["()"].endswith("JsonFormatter")
    with pytest.raises(ValueError, match="log format"):
        logging_config("xml")


def test_the_multiprocess_folder_is_made_and_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    assert prepare_multiprocess_dir(8000, workers=1, base=tmp_path) is None
    assert MULTIPROC_ENV not in os.environ
    folder = tmp_path / "chinhhang-metrics-8000"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"old")
    (folder / "keep.txt").write_text("not ours")
    assert prepare_multiprocess_dir(8000, workers=3, base=tmp_path) == folder
    assert os.environ[MULTIPROC_ENV] == str(folder.resolve())
    assert sorted(path.name for path in folder.iterdir()) == ["keep.txt"]
    # The operator's folder is respected, with one worker too.
    theirs = tmp_path / "theirs"
    monkeypatch.setenv(MULTIPROC_ENV, str(theirs))
    assert prepare_multiprocess_dir(8000, workers=1, base=tmp_path) == theirs
    assert theirs.is_dir()
