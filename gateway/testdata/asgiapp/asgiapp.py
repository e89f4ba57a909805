"""A bare ASGI app for the gateway's --protocol asgi test: echoes the body in pieces, records
lifespan events in GWTEST_DIR."""
import os


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            event = msg["type"].split(".")[1]
            with open(os.path.join(os.environ["GWTEST_DIR"], "lifespan"), "a") as f:
                f.write(event + "\n")
            await send({"type": msg["type"] + ".complete"})
            if event == "shutdown":
                return
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"path=" + scope["path"].encode() + b";",
                "more_body": True})
    await send({"type": "http.response.body", "body": b"root=" + scope["root_path"].encode() + b";",
                "more_body": True})
    await send({"type": "http.response.body", "body": b"body=" + body})
