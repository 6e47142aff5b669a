"""The snapshot helper: placeholders hide only what varies between runs, and nothing is written silently."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.snapshot as snapshot
from tests.snapshot import Normaliser

URL = (
    "http://127.0.0.1:41234/media/files/t/a.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=EMULATORACCESSKEY%2F20261130%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20261130T053023Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=" + "ab" * 32
)


def test_placeholders_name_what_they_hide() -> None:
    normalised = Normaliser({"http://127.0.0.1:41234": "<EMULATOR>"}).text(URL)
    assert normalised == (
        "<EMULATOR>/media/files/t/a.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=EMULATORACCESSKEY%2F<AMZ_DAY>%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=<AMZ_DATE>&X-Amz-Expires=604800&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=<AMZ_SIGNATURE>"
    )


@pytest.mark.parametrize(
    "changed",
    [
        URL.replace("/a.csv", "/b.csv"),  # another file
        URL.replace("X-Amz-Expires=604800", "X-Amz-Expires=300"),  # another expiry
        URL.replace("127.0.0.1:41234", "127.0.0.1:41235"),  # another host than the emulator
        URL.replace("ab" * 32, "ab" * 31),  # not a signature
        URL.replace("us-east-1", "eu-west-1"),
    ],
)
def test_a_real_change_still_shows(changed: str) -> None:
    normaliser = Normaliser({"http://127.0.0.1:41234": "<EMULATOR>"})
    assert normaliser.text(changed) != normaliser.text(URL)


def test_timings_are_hidden_only_under_their_own_name() -> None:
    normaliser = Normaliser()
    assert (
        normaliser.text("**Waited:** 1.3s · **Duration:** 4.2s")
        == "**Waited:** <WAITED>s · **Duration:** 4.2s"
    )
    data = {"waited_s": 1.25, "duration_s": 4.2, "nested": [{"waited_s": 0.0}], "waited": 3}
    assert normaliser.data(data) == {
        "waited_s": "<TIMING>",
        "duration_s": 4.2,
        "nested": [{"waited_s": "<TIMING>"}],
        "waited": 3,
    }


def test_a_missing_snapshot_fails_and_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "SNAPSHOTS", tmp_path)
    monkeypatch.delenv("UPDATE_SNAPSHOTS", raising=False)
    with pytest.raises(pytest.fail.Exception, match=r"does not exist.*UPDATE_SNAPSHOTS=1"):
        snapshot.assert_snapshot("tool/case.md", "text\n")
    assert not (tmp_path / "tool" / "case.md").exists()


def test_a_different_snapshot_fails_with_a_diff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "SNAPSHOTS", tmp_path)
    monkeypatch.delenv("UPDATE_SNAPSHOTS", raising=False)
    (tmp_path / "case.md").write_text("one\ntwo\n")
    snapshot.assert_snapshot("case.md", "one\ntwo\n")
    with pytest.raises(pytest.fail.Exception, match=r"(?s)-two.*\+three"):
        snapshot.assert_snapshot("case.md", "one\nthree\n")
    assert (tmp_path / "case.md").read_text() == "one\ntwo\n"


def test_update_mode_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "SNAPSHOTS", tmp_path)
    monkeypatch.setenv("UPDATE_SNAPSHOTS", "1")
    snapshot.assert_snapshot("tool/new.md", "fresh\n")
    assert (tmp_path / "tool" / "new.md").read_text() == "fresh\n"
