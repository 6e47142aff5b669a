#!/usr/bin/env python3
"""Record the bundled example runs with the real open-source ``browser-use`` agent.

Every run is written by browser-use itself: a real headless Chromium drives small
static pages (``scripts/example_site/``) served on 127.0.0.1, and the LLM is replaced
by a scripted stand-in that implements browser-use's ``BaseChatModel`` protocol and
answers each step with fixed ``AgentOutput`` JSON (no model, no network).  The stand-in
reads the element indices it clicks from the browser state browser-use sends it, the
way a model would, so the indices match whatever this Chromium build produced.

Run this in a scratch virtualenv that has ``browser-use[video]`` installed (NOT the
project's own environment); see ``scripts/README.md`` for the exact commands.

    python scripts/record_example_runs.py record [RUN ...] [--out DIR] [--force]
    python scripts/record_example_runs.py answers RUN_DIR [RUN_DIR ...] [--out FILE]
    python scripts/record_example_runs.py list

``record`` writes one folder per run laid out like a real local run folder::

    <run>/AgentHistory.json       agent.save_history()
    <run>/agent_history.gif       Agent(generate_gif=...)
    <run>/conversation/*.txt      Agent(save_conversation_path=...), one file per step
    <run>/screenshots/step_N.png  copied from the agent's temp folder
    <run>/video/<id>.mp4          BrowserProfile(record_video_dir=...)

The only edit made to what browser-use wrote: the absolute screenshot paths in
``AgentHistory.json`` point into this script's scratch temp folder; they are moved to
the imaginary ``/home/dev/.cache/bu-tmp`` (as in the original sample), so no path of
the recording machine leaks into the repository.

``answers`` loads each run's ``AgentHistory.json`` with browser-use's own
``AgentHistoryList.load_from_file`` and writes what the library says about it
(``final_result()``, ``is_done()``, ...) to a JSON file keyed by run name, so the
project's tests can check the server agrees with the library.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import http.server
import json
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
SITE_DIR = SCRIPTS / "example_site"
DEFAULT_RUNS_DIR = REPO / "server" / "browser_use_tasks_mcp" / "examples" / "runs"
DEFAULT_ANSWERS = REPO / "tests" / "fixtures" / "expected_library_answers.json"

HOST = "127.0.0.1"
PORT = 8765  # the example shop
DEAD_PORT = 8766  # nothing listens here: "another service" that is down
SHOP = f"http://{HOST}:{PORT}"
DEAD = f"http://{HOST}:{DEAD_PORT}"

# Where the screenshot paths inside AgentHistory.json are moved to (imaginary home folder).
IMAGINARY_TMP = "/home/dev/.cache/bu-tmp"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# --------------------------------------------------------------------------------------
# Static example site
# --------------------------------------------------------------------------------------


#: Pages the scenario being recorded serves differently: path -> (HTTP status, file in example_site).
#: Set by `record` for each scenario; the shop is otherwise the same static site.
OVERRIDES: dict[str, tuple[int, str]] = {}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        override = OVERRIDES.get(self.path.split("?", 1)[0])
        if override is None:
            super().do_GET()
            return
        status, name = override
        body = (SITE_DIR / name).read_bytes()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve_site() -> http.server.ThreadingHTTPServer:
    """Serve scripts/example_site on 127.0.0.1:8765 in a daemon thread."""
    handler = functools.partial(_QuietHandler, directory=str(SITE_DIR))
    server = http.server.ThreadingHTTPServer((HOST, PORT), handler)
    threading.Thread(target=server.serve_forever, name="example-site", daemon=True).start()
    return server


# --------------------------------------------------------------------------------------
# Scripted stand-in for the LLM
# --------------------------------------------------------------------------------------

Page = str  # the text of the latest browser-state message browser-use sent to the "model"
StepScript = Callable[[Page], dict[str, Any]]


class ScriptError(Exception):
    """The page did not look the way the script expects: the recording is aborted, not saved."""


def index_where(page: Page, attributes: str) -> int:
    """The interactive index browser-use printed for the element whose attributes start with
    ``attributes``, e.g. ``[40]<a id=link-blue-widget />`` or ``[3]<input type=password ... />``."""
    match = re.search(r"\[(\d+)\]<[a-z0-9]+ " + re.escape(attributes) + r"[ />]", page)
    if not match:
        raise ScriptError(f"no element <... {attributes}> in the browser state:\n{page[-3000:]}")
    return int(match.group(1))


def index_of(page: Page, element_id: str) -> int:
    """The interactive index of the element with this HTML id."""
    return index_where(page, f"id={element_id}")


def _message_text(message: Any) -> str:
    content = getattr(message, "content", None)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            getattr(part, "text", "") for part in content if getattr(part, "type", None) == "text"
        )
    return ""


def latest_browser_state(messages: list[Any]) -> Page:
    for message in reversed(messages):
        if getattr(message, "role", None) == "user":
            text = _message_text(message)
            if "<browser_state>" in text:
                return text
    return ""


class ScriptedChatModel:
    """Implements browser_use.llm.base.BaseChatModel with canned answers.

    Each call with the agent's output schema returns the next scripted step, parsed with
    ``output_format.model_validate_json`` exactly like a real provider parses a model's
    JSON; a step that does not fit the schema browser-use asked for (e.g. a non-``done``
    action on the forced last step) raises the same pydantic ``ValidationError`` a real
    provider would.  A call with ``JudgementResult`` returns the scripted verdict.
    """

    _verified_api_keys = True  # nothing to verify: there is no API

    def __init__(self, steps: list[StepScript], judgement: dict[str, Any] | None) -> None:
        self.model = "scripted-stand-in"
        self._steps = list(steps)
        self._judgement = judgement
        self.calls: list[str] = []
        self.script_errors: list[ScriptError] = []

    @property
    def provider(self) -> str:
        return "scripted"

    @property
    def name(self) -> str:
        return self.model

    @property
    def model_name(self) -> str:
        return self.model

    async def ainvoke(self, messages: list[Any], output_format: Any = None, **kwargs: Any) -> Any:
        from browser_use.llm.views import ChatInvokeCompletion

        if output_format is None:
            raise RuntimeError("the scripted stand-in only answers structured calls")
        self.calls.append(output_format.__name__)
        if output_format.__name__ == "JudgementResult":
            if self._judgement is None:
                raise RuntimeError("no judgement scripted for this run")
            payload = self._judgement
        else:
            if not self._steps:
                raise RuntimeError("the agent asked for more steps than were scripted")
            try:
                payload = self._steps.pop(0)(latest_browser_state(messages))
            except ScriptError as exc:
                # browser-use would record this as a step error; remember it so the run is discarded.
                self.script_errors.append(exc)
                raise
        completion = output_format.model_validate_json(json.dumps(payload))
        return ChatInvokeCompletion(completion=completion, usage=None)


def step(
    evaluation: str,
    memory: str,
    next_goal: str,
    thinking: str,
    actions: list[dict[str, Any]],
    plan_item: int,
    plan: list[str] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "thinking": thinking,
        "evaluation_previous_goal": evaluation,
        "memory": memory,
        "next_goal": next_goal,
        "current_plan_item": plan_item,
        "action": actions,
    }
    if plan is not None:
        out["plan_update"] = plan
    return out


# --------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    task: str
    max_steps: int
    steps: list[StepScript]
    judgement: dict[str, Any] | None
    summary: str
    viewport: tuple[int, int] | None = (1280, 800)
    agent_kwargs: dict[str, Any] = field(default_factory=dict)
    #: Pages served differently for this run (see OVERRIDES).
    overrides: dict[str, tuple[int, str]] = field(default_factory=dict)


# --- order-blue-widget: the original successful sample (bundled copy is the original) --

_BLUE_PLAN = [
    "Open the Acme Hardware product list",
    "Open the Blue Widget product page",
    "Check the shopping cart",
    "Fill in customer name and quantity",
    "Submit the order",
    "Report the order number",
]
_BLUE_DONE = "Order placed: 3 x Blue Widget (SKU BW-100) for Ada Lovelace. Order number: ACME-1042."

ORDER_BLUE_WIDGET = Scenario(
    name="order-blue-widget",
    summary="success: orders 3 Blue Widgets, recovers from an unreachable cart page",
    viewport=None,  # the original sample used browser-use's default headless size (1920x1080)
    max_steps=10,
    task=(
        f"Go to the Acme Hardware shop at {SHOP}/products.html, open the Blue Widget product, order 3 units "
        "for the customer 'Ada Lovelace', and report the order number shown on the confirmation page."
    ),
    steps=[
        lambda p: step(
            "Start of the task; nothing has been done yet.",
            "Task: order 3 Blue Widgets for Ada Lovelace and report the order number.",
            "Open the Acme Hardware product list.",
            "The browser is on a blank page. I start by opening the product list given in the task.",
            [{"navigate": {"url": f"{SHOP}/products.html", "new_tab": False}}],
            0,
            _BLUE_PLAN,
        ),
        lambda p: step(
            "Success - the product list page is open.",
            "Product list opened. Blue Widget costs EUR 19.99.",
            "Open the Blue Widget product page.",
            "The product list shows Blue Widget, Red Gadget and Green Sprocket. I open the Blue Widget.",
            [{"click": {"index": index_of(p, "link-blue-widget")}}],
            1,
        ),
        lambda p: step(
            "Success - the Blue Widget product page with the order form is open.",
            "On the Blue Widget page (SKU BW-100, EUR 19.99); it has an order form.",
            "Open the shopping cart to check that it is empty.",
            "Before ordering I want to make sure the cart is empty, so I open the cart page.",
            [{"navigate": {"url": f"{DEAD}/cart.html", "new_tab": False}}],
            2,
        ),
        lambda p: step(
            f"Failed - navigation to {DEAD}/cart.html failed, the site is unavailable.",
            "The cart service is down. The order form is on the Blue Widget page.",
            "Go back to the Blue Widget product page.",
            "The cart page could not be reached (connection refused). "
            "The cart is not needed; I go back to the product page.",
            [{"go_back": {}}],
            1,
            [item for item in _BLUE_PLAN if item != "Check the shopping cart"],
        ),
        lambda p: step(
            "Success - back on the Blue Widget product page.",
            "Order form visible: fields customer-name and quantity, button place-order.",
            "Type 'Ada Lovelace' as the name and 3 as the quantity.",
            "Back on the product page. I fill in the name and the quantity in one step.",
            [
                {"input": {"index": index_of(p, "customer-name"), "text": "Ada Lovelace", "clear": True}},
                {"input": {"index": index_of(p, "quantity"), "text": "3", "clear": True}},
            ],
            2,
        ),
        lambda p: step(
            "Success - name and quantity were typed into the form.",
            "Form filled: customer Ada Lovelace, quantity 3.",
            "Click the Place order button.",
            "Both fields are filled in. I submit the form.",
            [{"click": {"index": index_of(p, "place-order")}}],
            3,
        ),
        lambda p: step(
            "Success - the order was placed and the confirmation page is shown.",
            "Order ACME-1042 confirmed.",
            "Report the order number to the user.",
            "The confirmation page shows order number ACME-1042, 3 x Blue Widget for Ada Lovelace.",
            [{"done": {"text": _BLUE_DONE, "success": True, "files_to_display": []}}],
            4,
        ),
    ],
    judgement={
        "reasoning": (
            "The agent opened the product list, opened the Blue Widget page, recovered from the unreachable cart "
            "page, submitted the order form with the requested name and quantity and reported the order number "
            "shown on the confirmation page."
        ),
        "verdict": True,
        "failure_reason": "",
        "impossible_task": False,
        "reached_captcha": False,
    },
)

# --- red-gadget-expired-coupon: fails, calls done(success=False) ------------------------

_RED_PLAN = [
    "Open the Acme Hardware product list",
    "Open the Red Gadget product page",
    "Fill in name, quantity and coupon SPRING25 and place the order",
    "Report the order number and the discounted total",
]
_RED_DONE = (
    "Could not place the order: the coupon SPRING25 was rejected at checkout twice with "
    "'Coupon SPRING25 expired on 31 March 2026. Your order has NOT been placed.' "
    f"The promotions page ({DEAD}/promotions.html) was unreachable, so I found no replacement coupon. "
    "I did not order the 2 Red Gadgets for Grace Hopper at the full price of EUR 69.00 because the task "
    "asked for the coupon discount. No order number exists."
)

RED_GADGET_EXPIRED_COUPON = Scenario(
    name="red-gadget-expired-coupon",
    summary="failure: the coupon has expired; retries, promotions page down, done(success=false)",
    max_steps=10,
    task=(
        f"Go to the Acme Hardware shop at {SHOP}/products.html and order 2 Red Gadgets for the customer "
        "'Grace Hopper' using the coupon code SPRING25. Report the order number and the discounted total."
    ),
    steps=[
        lambda p: step(
            "Start of the task; nothing has been done yet.",
            "Task: order 2 Red Gadgets for Grace Hopper with coupon SPRING25; report order number and discounted total.",
            "Open the Acme Hardware product list.",
            "The browser shows an empty tab. I open the shop URL from the task.",
            [{"navigate": {"url": f"{SHOP}/products.html", "new_tab": False}}],
            0,
            _RED_PLAN,
        ),
        lambda p: step(
            "Success - the product list is open.",
            "Red Gadget costs EUR 34.50, so 2 units are EUR 69.00 before the coupon.",
            "Open the Red Gadget product page.",
            "The list shows Blue Widget, Red Gadget and Green Sprocket. I open the Red Gadget.",
            [{"click": {"index": index_of(p, "link-red-gadget")}}],
            1,
        ),
        lambda p: step(
            "Success - the Red Gadget page (SKU RG-200) with an order form is open.",
            "Order form has name, quantity and an optional coupon field; coupons are checked at checkout.",
            "Fill in Grace Hopper, quantity 2, coupon SPRING25 and place the order.",
            "All fields are on one form, so I fill them in and submit in one step.",
            [
                {"input": {"index": index_of(p, "customer-name"), "text": "Grace Hopper", "clear": True}},
                {"input": {"index": index_of(p, "quantity"), "text": "2", "clear": True}},
                {"input": {"index": index_of(p, "coupon-code"), "text": "SPRING25", "clear": True}},
                {"click": {"index": index_of(p, "place-order")}},
            ],
            2,
        ),
        lambda p: step(
            'Failed - checkout rejected the coupon: "Coupon SPRING25 expired on 31 March 2026. '
            'Your order has NOT been placed."',
            "Attempt 1: SPRING25 rejected as expired. Nothing ordered yet. Checkout offers a new coupon field.",
            "Re-enter SPRING25 in case it was mistyped, and apply it again.",
            "The code might have picked up stray characters in the first form, "
            "so I type it again carefully on the checkout page.",
            [
                {"input": {"index": index_of(p, "coupon-code"), "text": "SPRING25", "clear": True}},
                {"click": {"index": index_of(p, "apply-coupon")}},
            ],
            2,
        ),
        lambda p: step(
            "Failed - attempt 2 gives the same error: SPRING25 expired on 31 March 2026.",
            'SPRING25 is expired (checked twice). There is a "Current promotions" link to the promotions service.',
            "Open the current promotions to look for a valid replacement coupon.",
            "The coupon itself is the problem, not my typing. The promotions page may list the current code.",
            [{"navigate": {"url": f"{DEAD}/promotions.html", "new_tab": False}}],
            2,
        ),
        lambda p: step(
            f"Failed - navigation to {DEAD}/promotions.html failed, the site is unavailable.",
            "Promotions service is down; no replacement coupon known. Order still not placed.",
            "Go back to the checkout page.",
            "I cannot find another coupon. I return to checkout to decide how to finish.",
            [{"go_back": {}}],
            3,
        ),
        lambda p: step(
            "Success - back on the checkout page, which still shows the expired-coupon error.",
            "SPRING25 expired on 31 March 2026; promotions page unreachable; the order was not placed.",
            "Stop and report that the order could not be placed with the coupon.",
            "The task requires the coupon. Ordering at full price would not be what the user asked for, "
            "so I report the failure.",
            [{"done": {"text": _RED_DONE, "success": False, "files_to_display": []}}],
            3,
        ),
    ],
    judgement={
        "reasoning": (
            "The agent filled in the order form correctly, but checkout rejected the coupon SPRING25 as expired "
            "(31 March 2026) on both attempts and the promotions page could not be reached. No order was placed "
            "and no order number or discounted total was reported."
        ),
        "verdict": False,
        "failure_reason": (
            "The required coupon SPRING25 has expired, so the discounted order could not be placed. "
            "The agent correctly stopped instead of ordering at full price."
        ),
        "impossible_task": True,
        "reached_captcha": False,
    },
)

# --- trade-login-max-steps: never calls done, runs out of steps (status "incomplete") ----

_LOGIN_PLAN = [
    "Open the trade account sign-in page",
    "Sign in with the given email and password",
    "Open Invoices",
    "Report the total of the latest invoice",
]

TRADE_LOGIN_MAX_STEPS = Scenario(
    name="trade-login-max-steps",
    summary="incomplete: sign-in keeps failing, password reset is down, the run ends at max_steps without done",
    max_steps=5,
    task=(
        f"Sign in to the Acme Hardware trade account at {SHOP}/login.html with the email grace@hopper.example "
        "and the password 'cobol1959', open Invoices and report the total of the latest invoice."
    ),
    steps=[
        lambda p: step(
            "Start of the task; nothing has been done yet.",
            "Task: sign in as grace@hopper.example, then report the total of the latest invoice.",
            "Open the trade account sign-in page.",
            "The browser shows an empty tab. I open the sign-in URL from the task.",
            [{"navigate": {"url": f"{SHOP}/login.html", "new_tab": False}}],
            0,
            _LOGIN_PLAN,
        ),
        lambda p: step(
            "Success - the sign-in page is open.",
            "Sign-in form: email, password, Sign in button; also a Forgot password? link.",
            "Enter the email and password and sign in.",
            "I fill both fields with the credentials from the task and submit.",
            [
                {"input": {"index": index_of(p, "email"), "text": "grace@hopper.example", "clear": True}},
                {"input": {"index": index_where(p, "type=password"), "text": "cobol1959", "clear": True}},
                {"click": {"index": index_of(p, "sign-in")}},
            ],
            1,
        ),
        lambda p: step(
            'Failed - "Incorrect email or password. 2 attempts left before the account is locked for 30 minutes."',
            "Sign-in attempt 1 failed. The page cleared the password field.",
            "Type the password again and retry once.",
            "The password may have been mistyped; the email is still filled in. I retype the password and submit again.",
            [
                {"input": {"index": index_where(p, "type=password"), "text": "cobol1959", "clear": True}},
                {"click": {"index": index_of(p, "sign-in")}},
            ],
            1,
        ),
        lambda p: step(
            'Failed - same error, now "1 attempt left before the account is locked for 30 minutes."',
            "Two sign-in attempts failed with the given password; one more failure locks the account.",
            'Open "Forgot password?" instead of risking a lock-out.',
            "The password from the task is probably outdated. Another attempt would lock the account, "
            "so I try a password reset.",
            [{"click": {"index": index_of(p, "forgot-password")}}],
            1,
            [
                "Open the trade account sign-in page",
                "Reset the password",
                "Sign in",
                "Open Invoices",
                "Report the total",
            ],
        ),
        # Last step: browser-use now allows only `done`, but the stand-in (like a model that
        # ignores the schema) still answers with a navigation. Parsing fails, the step records the
        # validation error, and the run ends at max_steps without a `done`.
        lambda p: step(
            "Failed - password reset is temporarily unavailable; the page says to ask the account manager.",
            "Sign-in failed twice, reset is unavailable, 1 sign-in attempt left. Invoices not reached.",
            "Go back to the sign-in page.",
            "Maybe I can try the sign-in once more.",
            [{"navigate": {"url": f"{SHOP}/login.html", "new_tab": False}}],
            2,
        ),
    ],
    judgement=None,  # the judge only runs after `done`
)

# --- blue-widget-order-timeout: the order-blue-widget task on a day the order service times out --
# Same instruction as order-blue-widget; the shop's gateway answers the order with
# "504 Gateway Timeout" (tests/fixtures/runs-across/, the failing twin compare_tasks is tested on).

_TIMEOUT_DONE = (
    "Could not place the order: submitting the order form for 3 x Blue Widget (SKU BW-100) for Ada Lovelace "
    "returned '504 Gateway Timeout - The order service did not answer within 30 seconds. Your order has NOT "
    "been placed.' twice. No order number exists."
)
BLUE_WIDGET_ORDER_TIMEOUT = Scenario(
    name="blue-widget-order-timeout",
    summary="failure: same task as order-blue-widget; the order service times out (504) twice",
    max_steps=10,
    task=ORDER_BLUE_WIDGET.task,
    overrides={"/confirmation.html": (504, "gateway-timeout.html")},
    steps=[
        ORDER_BLUE_WIDGET.steps[0],
        ORDER_BLUE_WIDGET.steps[1],
        lambda p: step(
            "Success - the Blue Widget product page with the order form is open.",
            "On the Blue Widget page (SKU BW-100, EUR 19.99); order form with name and quantity.",
            "Type 'Ada Lovelace' as the name and 3 as the quantity.",
            "The order form is right here, so I fill in the name and the quantity.",
            [
                {"input": {"index": index_of(p, "customer-name"), "text": "Ada Lovelace", "clear": True}},
                {"input": {"index": index_of(p, "quantity"), "text": "3", "clear": True}},
            ],
            2,
            [item for item in _BLUE_PLAN if item != "Check the shopping cart"],
        ),
        lambda p: step(
            "Success - name and quantity were typed into the form.",
            "Form filled: customer Ada Lovelace, quantity 3.",
            "Click the Place order button.",
            "Both fields are filled in. I submit the form.",
            [{"click": {"index": index_of(p, "place-order")}}],
            3,
        ),
        lambda p: step(
            "Failed - the order page shows '504 Gateway Timeout: The order service did not answer within "
            "30 seconds. Your order has NOT been placed.'",
            "Order attempt 1 timed out (504); no order placed.",
            "Go back to the order form and submit it once more.",
            "A gateway timeout is often temporary. I go back to the form and try once more.",
            [{"go_back": {}}],
            3,
        ),
        lambda p: step(
            "Success - back on the Blue Widget product page.",
            "Order attempt 1 timed out. Retrying once.",
            "Fill in the form again and place the order.",
            "The form may have been reset, so I type both fields again and submit.",
            [
                {"input": {"index": index_of(p, "customer-name"), "text": "Ada Lovelace", "clear": True}},
                {"input": {"index": index_of(p, "quantity"), "text": "3", "clear": True}},
                {"click": {"index": index_of(p, "place-order")}},
            ],
            3,
        ),
        lambda p: step(
            "Failed - the same '504 Gateway Timeout' page again; the order was not placed.",
            "Two order attempts timed out (504). No order number.",
            "Report that the order could not be placed.",
            "The order service is down. Retrying again is unlikely to help; I report the failure.",
            [{"done": {"text": _TIMEOUT_DONE, "success": False, "files_to_display": []}}],
            4,
        ),
    ],
    judgement={
        "reasoning": (
            "The agent filled in the order form correctly, but both submissions ended on a 504 Gateway Timeout "
            "page and no order was placed, so no order number could be reported."
        ),
        "verdict": False,
        "failure_reason": "The shop's order service timed out (504 Gateway Timeout) on both attempts; no order was placed.",
        "impossible_task": False,
        "reached_captcha": False,
    },
)

SCENARIOS = {
    s.name: s
    for s in (RED_GADGET_EXPIRED_COUPON, TRADE_LOGIN_MAX_STEPS, ORDER_BLUE_WIDGET, BLUE_WIDGET_ORDER_TIMEOUT)
}
# Recorded by default; order-blue-widget is bundled as the original sample and only re-recorded on request.
DEFAULT_RUNS = ["red-gadget-expired-coupon", "trade-login-max-steps"]


# --------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------


def _find_chromium() -> str:
    for candidate in (
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("Chromium not found: apt-get install -y chromium (or set CHROMIUM=/path/to/chromium)")


async def record(scenario: Scenario, run_dir: Path, scratch: Path) -> None:
    import browser_use.agent.service as agent_service
    from browser_use import Agent, BrowserProfile, BrowserSession

    # browser-use asks PyPI whether a newer browser-use exists; keep the recording offline.
    async def _no_version_check() -> None:
        return None

    agent_service.check_latest_browser_use_version = _no_version_check  # type: ignore[assignment]

    profile_kwargs: dict[str, Any] = dict(
        executable_path=_find_chromium(),
        headless=True,
        args=CHROMIUM_ARGS,
        chromium_sandbox=False,
        # browser-use would otherwise download ad-block/cookie extensions from the internet.
        enable_default_extensions=False,
        record_video_dir=run_dir / "video",
        keep_alive=False,
    )
    if scenario.viewport:
        width, height = scenario.viewport
        profile_kwargs["viewport"] = {"width": width, "height": height}
        profile_kwargs["window_size"] = {"width": width, "height": height}
    session = BrowserSession(browser_profile=BrowserProfile(**profile_kwargs))

    OVERRIDES.clear()
    OVERRIDES.update(scenario.overrides)
    llm = ScriptedChatModel(scenario.steps, scenario.judgement)
    agent = Agent(
        task=scenario.task,
        llm=llm,
        browser_session=session,
        use_vision=True,
        use_judge=True,
        directly_open_url=False,  # start on the new-tab page: step 1 navigates, like a real first step
        save_conversation_path=run_dir / "conversation",
        generate_gif=str(run_dir / "agent_history.gif"),
        enable_signal_handler=False,
        **scenario.agent_kwargs,
    )
    try:
        await agent.run(max_steps=scenario.max_steps)
    finally:
        await agent.close()
    _save_run(scenario, agent, llm, run_dir, scratch)


def _save_run(scenario: Scenario, agent: Any, llm: ScriptedChatModel, run_dir: Path, scratch: Path) -> None:
    """Keep what browser-use wrote: history, screenshots (gif, video, conversation are already in place)."""
    if llm.script_errors or llm._steps:
        shutil.rmtree(run_dir)
        raise SystemExit(
            f"[{scenario.name}] the run did not follow the script (recording discarded): "
            f"{llm.script_errors or f'{len(llm._steps)} scripted steps unused'}"
        )
    agent.save_history(run_dir / "AgentHistory.json")

    shots_src = Path(agent.agent_directory) / "screenshots"
    shots_dst = run_dir / "screenshots"
    shots_dst.mkdir()
    for png in sorted(shots_src.glob("step_*.png")):
        shutil.copy2(png, shots_dst / png.name)

    _move_scratch_paths(run_dir, scratch)
    print(f"[{scenario.name}] recorded to {run_dir}; stand-in calls: {llm.calls}")


def _move_scratch_paths(run_dir: Path, scratch: Path) -> None:
    """Point screenshot paths at the imaginary home folder; refuse to keep any real path."""
    tmp_prefix = str(scratch / "tmp")
    history = run_dir / "AgentHistory.json"
    history.write_text(
        history.read_text(encoding="utf-8").replace(tmp_prefix, IMAGINARY_TMP), encoding="utf-8"
    )
    leaks = [str(scratch), str(Path.home()), "/tmp/", "/root"]  # noqa: S108 - paths to look for, not to use
    for path in run_dir.rglob("*"):
        if path.suffix in (".json", ".txt"):
            text = path.read_text(encoding="utf-8")
            for leak in leaks:
                if leak in text:
                    raise SystemExit(f"{path} still contains the real path {leak!r}")


def record_all(names: list[str], out: Path, force: bool, scratch: Path) -> None:
    existing = [out / name for name in names if (out / name).exists()]
    if existing and not force:
        raise SystemExit(f"{', '.join(map(str, existing))} exist(s); pass --force to replace")
    (scratch / "tmp").mkdir()
    # Every temp folder browser-use makes (agent dir with screenshots, Chromium profile, downloads)
    # goes under the scratch folder, which is removed at the end.
    tempfile.tempdir = str(scratch / "tmp")
    server = serve_site()
    try:
        for name in names:
            run_dir = out / name
            if run_dir.exists():
                shutil.rmtree(run_dir)
            run_dir.mkdir(parents=True)
            asyncio.run(record(SCENARIOS[name], run_dir, scratch))
    finally:
        server.shutdown()
        tempfile.tempdir = None


# --------------------------------------------------------------------------------------
# The library's own answers about a recorded history
# --------------------------------------------------------------------------------------


def library_answers(history_path: Path) -> dict[str, Any]:
    from browser_use.agent.views import AgentHistoryList, AgentOutput
    from browser_use.tools.service import Tools

    output_model = AgentOutput.type_with_custom_actions(Tools().registry.create_action_model())
    history = AgentHistoryList.load_from_file(history_path, output_model)
    return {
        "final_result": history.final_result(),
        "is_done": history.is_done(),
        "is_successful": history.is_successful(),
        "number_of_steps": history.number_of_steps(),
        "errors": history.errors(),
        "has_errors": history.has_errors(),
        "urls": history.urls(),
        "total_duration_seconds": history.total_duration_seconds(),
        "screenshot_paths": history.screenshot_paths(),
        "action_names": history.action_names(),
        "is_judged": history.is_judged(),
        "is_validated": history.is_validated(),
        "judgement": history.judgement(),
    }


def write_answers(run_dirs: list[Path], out: Path) -> None:
    answers: dict[str, Any] = {}
    for run_dir in run_dirs:
        answers[run_dir.name] = library_answers(run_dir / "AgentHistory.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(answers, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(answers, indent=2, ensure_ascii=False))


# --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="record runs with browser-use and Chromium")
    rec.add_argument("runs", nargs="*", metavar="RUN", help=f"default: {' '.join(DEFAULT_RUNS)}")
    rec.add_argument("--out", type=Path, default=DEFAULT_RUNS_DIR, help="parent folder of the run folders")
    rec.add_argument("--force", action="store_true", help="replace existing run folders")
    ans = sub.add_parser("answers", help="write the library's answers for recorded runs")
    ans.add_argument("run_dirs", nargs="+", type=Path)
    ans.add_argument("--out", type=Path, default=DEFAULT_ANSWERS)
    sub.add_parser("list", help="list the scripted runs")
    args = parser.parse_args(argv)

    if args.command == "list":
        for scenario in SCENARIOS.values():
            print(f"{scenario.name}: {scenario.summary}")
        return
    if args.command == "record":
        unknown = [name for name in args.runs if name not in SCENARIOS]
        if unknown:
            parser.error(f"unknown run(s) {unknown}; known: {list(SCENARIOS)}")

    # Must be set before browser_use is imported. browser-use's config folder goes to a
    # throw-away folder too, so nothing is written to the home folder.
    scratch = Path(tempfile.mkdtemp(prefix="bu-record-"))
    os.environ["ANONYMIZED_TELEMETRY"] = "false"
    os.environ["BROWSER_USE_CLOUD_SYNC"] = "false"
    os.environ["BROWSER_USE_CONFIG_DIR"] = str(scratch / "config")
    try:
        if args.command == "record":
            record_all(args.runs or DEFAULT_RUNS, args.out, args.force, scratch)
        else:
            write_answers(args.run_dirs, args.out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
