"""`get_output_file` on every source: a run folder's files, Cloud v2 and legacy v1 on the emulator."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.emulator import FILES_TASK, get_seed
from tests.helpers import call_error, call_ok, text_of
from tests.tools.common import SUCCEEDED_RUN, Source, assert_only_inside_fences, local_source, snapshot_call

pytestmark = pytest.mark.anyio
TOOL = "get_output_file"
INLINE_LIMIT = 20_000
SNIFFED = {"text/csv": "text/plain"}  # characters of text shown inline

CSV = "sku,qty\nBW-100,3\n"
BIG = "".join(f"line {i:06d} of the export\n" for i in range(20_000))  # 520,000 characters
BINARY = bytes(range(256)) * 8


@pytest.fixture
def runs_with_files(tmp_path: Path) -> Path:
    """The succeeded run copied to tmp_path with three output files beside its history."""
    run = tmp_path / SUCCEEDED_RUN
    shutil.copytree(BUNDLED_RUNS_DIR / SUCCEEDED_RUN, run)
    (run / "report.csv").write_text(CSV)
    (run / "export.txt").write_text(BIG)
    (run / "dump.bin").write_bytes(BINARY)
    return tmp_path


def seeded_files(version: str) -> dict[str, tuple[str, bytes]]:
    """File name -> (content type, bytes) as the emulator serves FILES_TASK's output files."""
    from tests.emulator.media import file_bytes

    task = get_seed().tasks[FILES_TASK]
    return {f.name: (f.content_type, file_bytes(task, f)) for f in task.output_files}


CLOUD_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (version, case, {"task_id": FILES_TASK, "file": name})
    for version in ("v2", "v1")
    for case, name in (
        ("csv", "sales_q1_q4.csv"),
        ("json", "sales_summary.json"),
        ("png", "revenue_chart.png"),
        ("big-text", "raw_export_log.txt"),
        ("missing", "nope.txt"),
    )
]
LOCAL_CASES = [
    ("csv", "report.csv"),
    ("big-text", "export.txt"),
    ("binary", "dump.bin"),
    ("missing", "nope.txt"),
]


@pytest.mark.parametrize(("src", "case", "args"), CLOUD_CASES, ids=[f"{s}-{c}" for s, c, _ in CLOUD_CASES])
async def test_snapshot(
    make_source: Callable[..., Source], src: str, case: str, args: dict[str, Any]
) -> None:
    await snapshot_call(make_source(src), TOOL, args, f"{TOOL}/{src}-{case}")


@pytest.mark.parametrize(("case", "name"), LOCAL_CASES, ids=[c for c, _ in LOCAL_CASES])
async def test_snapshot_local(runs_with_files: Path, case: str, name: str) -> None:
    args = {"task_id": SUCCEEDED_RUN, "file": name}
    await snapshot_call(local_source(runs_with_files), TOOL, args, f"{TOOL}/local-{case}")


async def test_local_text_file_inline(runs_with_files: Path) -> None:
    async with local_source(runs_with_files).client() as client:
        result = await call_ok(client, TOOL, {"task_id": SUCCEEDED_RUN, "file": "report.csv"})
    data = result.structured_content
    assert data is not None
    assert data["inline"] is True and data["truncated"] is False
    assert data["text"] == CSV
    assert data["size_bytes"] == len(CSV.encode())
    assert data["file"]["path"] == f"{SUCCEEDED_RUN}/report.csv"
    assert assert_only_inside_fences(text_of(result), CSV.rstrip("\n")) == 1


async def test_a_large_text_file_is_cut_and_says_how_to_get_the_rest(source_with_big_text: Any) -> None:
    source, task_id, name, content = source_with_big_text
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"task_id": task_id, "file": name})
        resource_uri = result.structured_content["resource_uri"]  # type: ignore[index]
        whole = await client.read_resource(resource_uri)
    data = result.structured_content
    assert data is not None
    assert data["inline"] is True and data["truncated"] is True
    assert data["size_bytes"] == len(content)
    # The inline text is the start of the file, cut.
    assert len(data["text"]) <= INLINE_LIMIT
    assert content.decode().startswith(data["text"].rstrip("…"))
    text = text_of(result)
    assert resource_uri == f"browser-use://tasks/{task_id}/files/{name}"
    assert (
        f"_Cut at {INLINE_LIMIT} characters of {len(content)}; read resource `{resource_uri}` for all of it._"
        in text
    )
    # ... and following the hint gives all of it, byte for byte.
    assert base64.b64decode(whole.contents[0].blob) == content  # type: ignore[union-attr]


@pytest.fixture(params=["local", "v2", "v1"])
def source_with_big_text(
    request: pytest.FixtureRequest, make_source: Callable[..., Source], runs_with_files: Path
) -> tuple[Source, str, str, bytes]:
    if request.param == "local":
        return local_source(runs_with_files), SUCCEEDED_RUN, "export.txt", BIG.encode()
    content_type, data = seeded_files(request.param)["raw_export_log.txt"]
    assert content_type == "text/plain"
    return make_source(request.param), FILES_TASK, "raw_export_log.txt", data


async def test_local_binary_file_is_a_link_and_the_resource_has_its_bytes(runs_with_files: Path) -> None:
    async with local_source(runs_with_files).client() as client:
        result = await call_ok(client, TOOL, {"task_id": SUCCEEDED_RUN, "file": "dump.bin"})
        whole = await client.read_resource(f"browser-use://tasks/{SUCCEEDED_RUN}/files/dump.bin")
    data = result.structured_content
    assert data is not None
    assert data["inline"] is False and data["text"] is None
    assert data["size_bytes"] == len(BINARY)
    assert base64.b64decode(whole.contents[0].blob) == BINARY  # type: ignore[union-attr]


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_cloud_files_are_the_seeded_ones(make_source: Callable[..., Source], version: str) -> None:
    seeded = seeded_files(version)
    async with make_source(version).client() as client:
        results = {
            name: await call_ok(client, TOOL, {"task_id": FILES_TASK, "file": name}) for name in seeded
        }
        resources = {
            name: await client.read_resource(f"browser-use://tasks/{FILES_TASK}/files/{name}")
            for name in seeded
        }
        missing = await call_error(client, TOOL, {"task_id": FILES_TASK, "file": "nope.txt"})
    for name, (content_type, content) in seeded.items():
        data = results[name].structured_content
        assert data is not None
        # The server types a file by sniffing its bytes, not by the upstream Content-Type:
        # the seeded text/csv file reads as text/plain.
        assert data["mime_type"] == SNIFFED.get(content_type, content_type), name
        assert data["size_bytes"] == len(content), name
        assert base64.b64decode(resources[name].contents[0].blob) == content, name  # type: ignore[union-attr]
        if content_type.startswith("image/"):
            assert data["inline"] is False and data["text"] is None
            (link,) = [b for b in results[name].content if getattr(b, "type", "") == "resource_link"]
            assert str(link.uri) == f"browser-use://tasks/{FILES_TASK}/files/{name}"  # type: ignore[union-attr]
            assert link.mime_type == content_type and link.size == len(content)  # type: ignore[union-attr]
        elif len(content) <= INLINE_LIMIT:
            assert data["inline"] is True and data["truncated"] is False
            assert data["text"] == content.decode(), name
    assert "has no output file `nope.txt`" in missing
    assert all(name in missing for name in seeded)


async def test_every_source_refuses_a_path_instead_of_a_file_name(source: Source) -> None:
    async with source.client() as client:
        message = await call_error(client, TOOL, {"task_id": source.finished, "file": "../AgentHistory.json"})
    assert message == (
        "**Invalid argument:** `file` '../AgentHistory.json' is not a plain file name; "
        "use a name exactly as `get_media` lists it."
    )


async def test_a_name_with_a_space_is_percent_encoded_and_reads_back_byte_for_byte(
    runs_with_files: Path,
) -> None:
    content = b"%PDF-1.4 tiny \x00\x01\x02"
    (runs_with_files / SUCCEEDED_RUN / "my report.pdf").write_bytes(content)
    async with local_source(runs_with_files).client() as client:
        result = await call_ok(client, TOOL, {"task_id": SUCCEEDED_RUN, "file": "my report.pdf"})
        uri = result.structured_content["resource_uri"]  # type: ignore[index]
        read = await client.read_resource(uri)
    assert uri == f"browser-use://tasks/{SUCCEEDED_RUN}/files/my%20report.pdf"
    assert base64.b64decode(read.contents[0].blob) == content  # type: ignore[union-attr]
    assert result.structured_content["size_bytes"] == len(content)  # type: ignore[index]
