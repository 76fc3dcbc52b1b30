"""SlackAdapter.fetch_url: url_private downloads with the bot token, and only those."""

from __future__ import annotations

import aiohttp
import pytest

from adapters.errors import PermanentSendError
from adapters.slack import SlackAdapter, SlackConfig
from tests.adapters.slack.support import SECRET
from tests.fakes.slack import FakeSlack


async def test_a_file_is_downloaded_with_the_bot_token(fake: FakeSlack, adapter: SlackAdapter) -> None:
    file = fake.add_file("F1", b"RIFF audio bytes", name="clip.wav", mimetype="audio/wav")
    assert await adapter.fetch_url(file["url_private_download"], max_bytes=1024) == b"RIFF audio bytes"
    assert [d.authorized for d in fake.downloads] == [True]


async def test_a_file_over_the_cap_is_refused(fake: FakeSlack, adapter: SlackAdapter) -> None:
    file = fake.add_file("F2", b"x" * 2048, name="big.wav", mimetype="audio/wav")
    with pytest.raises(PermanentSendError, match="over 1024 bytes"):
        await adapter.fetch_url(file["url_private"], max_bytes=1024)


async def test_the_token_goes_to_no_other_host(fake: FakeSlack, adapter: SlackAdapter) -> None:
    with pytest.raises(PermanentSendError, match="refusing to send the bot token"):
        await adapter.fetch_url("https://attacker.example/files-pri/T1-F1/clip.wav", max_bytes=1024)
    assert fake.downloads == []


async def test_the_sign_in_page_is_not_taken_for_the_file(fake: FakeSlack, http: aiohttp.ClientSession) -> None:
    """A wrong token gets Slack's HTML sign-in page with status 200: refused, not transcribed."""
    file = fake.add_file("F3", b"RIFF audio bytes", name="clip.wav", mimetype="audio/wav")
    wrong = SlackAdapter(
        SlackConfig(slug="team", bot_token="xoxb-wrong", signing_secret=SECRET, api_base=fake.api_base), http=http
    )
    with pytest.raises(PermanentSendError, match="sign-in page"):
        await wrong.fetch_url(file["url_private_download"], max_bytes=1024)
    assert [d.authorized for d in fake.downloads] == [False]
