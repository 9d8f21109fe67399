"""A real SMTP server (aiosmtpd) for the delivery tests.

Each message it accepts is appended as one JSON line to --out. With --hold-first N, the first
DATA is held N seconds before it is answered (a slow server, so a test can kill the sending
node mid-delivery); a client that hangs up meanwhile has delivered nothing: the handler is
cancelled with the connection and the message is not recorded, as a real server would drop it.
When a DATA starts, a line "data" is appended to --out + ".events".
"""
import argparse
import asyncio
import json

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out, hold):
        self.out = out
        self.hold = hold

    async def handle_DATA(self, server, session, envelope):
        with open(self.out + ".events", "a") as f:
            f.write("data\n")
        if self.hold > 0:
            hold, self.hold = self.hold, 0
            await asyncio.sleep(hold)
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
        }
        with open(self.out, "a") as f:
            f.write(json.dumps(record) + "\n")
        return "250 OK"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--hold-first", type=float, default=0)
    args = parser.parse_args()
    sink = Sink(args.out, args.hold_first)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="sink.test", decode_data=False), "127.0.0.1", args.port
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
