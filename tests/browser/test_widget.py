"""The chat widget in real headless Chromium against the real app: greet, answer, replay on reload."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Page, async_playwright, expect

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("BOTRT_CHROMIUM", "/usr/bin/chromium")
# Runs as root in a closed network: no sandbox, and no background connections to Google.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000

BOT = ".botrt-msg.botrt-bot"
USER = ".botrt-msg.botrt-user"


@pytest.fixture
async def widget_page() -> AsyncIterator[Page]:
    """A fresh browser (empty localStorage) and one page; fails the test on any uncaught page error."""
    if not os.path.exists(CHROMIUM):
        # CI installs Chromium (.ci/run -> make test); there a missing browser is a failure.
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Chromium at {CHROMIUM}: scripts/ensure-chromium.sh should have installed it")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set BOTRT_CHROMIUM)")
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 420, "height": 720})
            context.set_default_timeout(TIMEOUT_MS)
            page = await context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page
        finally:
            await browser.close()
    assert not errors, f"uncaught errors in the widget: {errors}"


async def _open_and_answer_name(page: Page, base_url: str) -> None:
    await page.goto(f"{base_url}/chat/demo")
    await expect(page.locator("#botrt-status")).to_have_text("online", timeout=TIMEOUT_MS)
    await expect(page.locator(BOT, has_text="name").first).to_be_visible(timeout=TIMEOUT_MS)
    await page.locator("#botrt-input").fill("Ada")
    await page.locator("#botrt-input").press("Enter")
    # The answer: a bot bubble after the user's, naming them.
    await expect(page.locator(f"{USER} ~ {BOT}", has_text="Ada").first).to_be_visible(timeout=TIMEOUT_MS)


async def test_widget_greets_asks_the_name_and_answers_with_it(live_server: Any, widget_page: Page) -> None:
    page = widget_page
    await _open_and_answer_name(page, live_server.base_url)

    greeting = page.locator(BOT).first
    await expect(greeting).to_contain_text("Hi")
    user = page.locator(USER, has_text="Ada")
    await expect(user).to_have_count(1)
    await expect(user).to_have_text("Ada")
    # The server acknowledged the message: the bubble shows it as delivered.
    await expect(user).to_have_attribute("data-status", "delivered", timeout=TIMEOUT_MS)
    await expect(page.locator("#botrt-input")).to_have_value("")


async def test_reload_replays_the_conversation_from_the_server(live_server: Any, widget_page: Page) -> None:
    page = widget_page
    await _open_and_answer_name(page, live_server.base_url)
    session = await page.evaluate("localStorage.getItem('botrt:session:demo')")
    assert session, "the widget did not store the session from the welcome frame"

    await page.reload()
    # A fresh page starts empty and says last_seq 0: everything shown now came from the server's replay.
    await expect(page.locator("#botrt-status")).to_have_text("online", timeout=TIMEOUT_MS)
    await expect(page.locator(BOT, has_text="Ada").first).to_be_visible(timeout=TIMEOUT_MS)
    await expect(page.locator(BOT).first).to_contain_text("Hi")
    await expect(page.locator(BOT, has_text="name").first).to_be_visible()
    assert await page.evaluate("localStorage.getItem('botrt:session:demo')") == session
