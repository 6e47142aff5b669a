"""Completions of prompt and resource-template arguments."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from mcp_types import PromptReference, ResourceTemplateReference

from tests.emulator import FAILED_TASK
from tests.tools.common import LOCAL_RUNS, SUCCEEDED_RUN, Source

pytestmark = pytest.mark.anyio


async def test_local_completions_offer_run_names_and_step_numbers(make_source: Callable[..., Source]) -> None:
    async with make_source("local").client() as client:
        ids = await client.complete(PromptReference(name="debug_task"), {"name": "task_id", "value": "red"})
        all_ids = await client.complete(
            ResourceTemplateReference(uri="browser-use://tasks/{task_id}/steps"),
            {"name": "task_id", "value": ""},
        )
        steps = await client.complete(
            ResourceTemplateReference(uri="browser-use://tasks/{task_id}/steps/{step}"),
            {"name": "step", "value": "1"},
            context_arguments={"task_id": SUCCEEDED_RUN},
        )
    assert ids.completion.values == ["red-gadget-expired-coupon"]
    assert set(all_ids.completion.values) == set(LOCAL_RUNS)
    assert steps.completion.values == ["1"]


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_cloud_completions_offer_recent_task_ids(
    make_source: Callable[..., Source], version: str
) -> None:
    async with make_source(version).client() as client:
        ids = await client.complete(
            PromptReference(name="debug_task"), {"name": "task_id", "value": FAILED_TASK[:6]}
        )
        steps = await client.complete(
            ResourceTemplateReference(uri="browser-use://tasks/{task_id}/steps/{step}"),
            {"name": "step", "value": ""},
            context_arguments={"task_id": FAILED_TASK},
        )
    assert ids.completion.values == [FAILED_TASK]
    assert steps.completion.values == ["1", "2", "3", "4", "5", "6"]
