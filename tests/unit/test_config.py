from __future__ import annotations

from pathlib import Path

import pytest

from chinhhang.config import Settings


def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]


def test_the_secret_is_made_once_whole_and_private(tmp_path: Path) -> None:
    first = settings(tmp_path).secret
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert settings(tmp_path).secret == first
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left


def test_an_empty_or_short_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("short\n")
    with pytest.raises(ValueError, match="no usable secret"):
        _ = settings(tmp_path).secret


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls_get_our_driver(tmp_path: Path, url: str, driver: str) -> None:
    assert Settings(data_dir=tmp_path, database_url=url, _env_file=None).sqlalchemy_url == driver  # type: ignore[call-arg]


def test_an_unsupported_database_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="postgresql"):
        _ = Settings(data_dir=tmp_path, database_url="mysql://x", _env_file=None).sqlalchemy_url  # type: ignore[call-arg]
