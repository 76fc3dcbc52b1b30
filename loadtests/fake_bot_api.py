"""A fake Telegram Bot API for load tests, in its own process so it never slows the load generator.

Speaks sendMessage / sendChatAction ({"ok":true,"result":Message}) and records when each reply
"echo: m<update_id>" arrived (wall clock, comparable across processes); on SIGTERM it writes
{update_id: time} as JSON to --out while shutting down.

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

    async def handle(request: web.Request) -> web.Response:
        if request.match_info["token"] != token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        body = await request.json()
        if request.match_info["method"] != "sendMessage":
            return web.json_response({"ok": True, "result": True})
        text = body.get("text", "")
        match = ECHO.fullmatch(text)
        if match:
            replies[int(match.group(1))] = time.time()
        message = {
            "message_id": next(ids),
            "date": int(time.time()),
            "chat": {"id": body["chat_id"], "type": "private"},
            "text": text,
        }
        return web.json_response({"ok": True, "result": message})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", handle)
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
