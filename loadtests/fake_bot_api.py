"""Fake platform APIs for load tests, in their own process so they never slow the load generator.

Speaks Telegram's sendMessage / sendChatAction ({"ok":true,"result":Message}), the Graph API's
POST /{version}/{node}/messages for WhatsApp (node: the phone number id; {"messaging_product",
"contacts", "messages":[{"id"}]}) and Instagram (node: the account; {"recipient_id",
"message_id"}), Slack's POST /api/chat.postMessage ({"ok":true,"channel","ts","message"}) and
Twilio's Messages.json, and records when each reply "echo: m<update_id>" arrived (wall clock,
comparable across processes); on SIGTERM it writes {update_id: time} as JSON to --out while
shutting down.

    python -m loadtests.fake_bot_api --port 8081 --token T --out replies.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import time
from pathlib import Path

from aiohttp import web

ECHO = re.compile(r"echo: m(\d+)")


def build(token: str, replies: dict[int, float]) -> web.Application:
    ids = itertools.count(1)

    def note(text: str) -> None:
        match = ECHO.fullmatch(text)
        if match:
            replies[int(match.group(1))] = time.time()

    async def graph(request: web.Request) -> web.Response:
        # Graph API: POST /{version}/{node}/messages with a bearer token. The node is a WhatsApp
        # phone number id (body with messaging_product) or an Instagram account (Send API).
        if request.headers.get("Authorization") != f"Bearer {token}":
            return web.json_response({"error": {"message": "bad token", "code": 190}}, status=401)
        body = await request.json()
        if "messaging_product" not in body:
            recipient = body["recipient"]["id"]
            if "sender_action" in body:  # typing_on / mark_seen: no message id
                return web.json_response({"recipient_id": recipient})
            note(body.get("message", {}).get("text", ""))
            return web.json_response({"recipient_id": recipient, "message_id": f"mid.out{next(ids)}"})
        note(body.get("text", {}).get("body", ""))
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": f"wamid.out{next(ids)}"}],
            }
        )

    async def slack(request: web.Request) -> web.Response:
        # Web API: POST /api/chat.postMessage, bearer bot token, JSON (or form) body. Slack
        # reports refusals as HTTP 200 {"ok": false, "error": ...}.
        if request.headers.get("Authorization") != f"Bearer {token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if request.content_type == "application/json":
            body = await request.json()
        else:
            body = dict(await request.post())
        text = str(body.get("text", ""))
        note(text)
        ts = f"{int(time.time())}.{next(ids):06d}"
        message = {"type": "message", "text": text, "user": "U0LOADBOT", "bot_id": "B0LOAD", "ts": ts}
        return web.json_response({"ok": True, "channel": body["channel"], "ts": ts, "message": message})

    async def twilio(request: web.Request) -> web.Response:
        # POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form encoded, Basic auth.
        form = await request.post()
        note(str(form.get("Body", "")))
        sid = f"SM{next(ids):032d}"
        return web.json_response({"sid": sid, "status": "queued", "to": form.get("To")}, status=201)

    async def handle(request: web.Request) -> web.Response:
        if request.match_info["token"] != token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        body = await request.json()
        if request.match_info["method"] != "sendMessage":
            return web.json_response({"ok": True, "result": True})
        text = body.get("text", "")
        note(text)
        message = {
            "message_id": next(ids),
            "date": int(time.time()),
            "chat": {"id": body["chat_id"], "type": "private"},
            "text": text,
        }
        return web.json_response({"ok": True, "result": message})

    app = web.Application()
    app.router.add_post("/api/chat.postMessage", slack)
    app.router.add_post("/bot{token}/{method}", handle)
    app.router.add_post("/{version}/{node}/messages", graph)
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", twilio)
    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    replies: dict[int, float] = {}
    app = build(args.token, replies)

    async def dump(_app: web.Application) -> None:
        args.out.write_text(json.dumps(replies))

    # run_app turns SIGTERM into a clean shutdown, which runs the cleanup hooks.
    app.on_cleanup.append(dump)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
