#!/usr/bin/env python3
"""The lab's notification sinks: what Alertmanager sends lands in a JSON-lines file.

  notification_sink.py webhook --address A --port P --out FILE   (Alertmanager's webhook POSTs)
  notification_sink.py smtp --address A --port P --out FILE      (plain SMTP, no AUTH, no TLS)

Each line: {"received": <unix time>, "kind": "webhook"|"smtp", "body": <JSON payload or message text>}.
Lab only: it listens on a lab node's address and accepts anything sent to it.
"""

import argparse
import json
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def record(out, kind, body, **extra):
    with LOCK, open(out, "a", encoding="utf-8") as sink:
        sink.write(json.dumps({"received": time.time(), "kind": kind, "body": body, **extra}) + "\n")


def serve_webhook(address, port, out):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            record(out, "webhook", body, path=self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    ThreadingHTTPServer((address, port), Handler).serve_forever()


def serve_smtp(address, port, out):
    class Session(socketserver.StreamRequestHandler):
        def reply(self, line):
            self.wfile.write((line + "\r\n").encode())

        def handle(self):
            self.reply("220 datalake-lab-sink ESMTP")
            envelope = {"from": None, "to": []}
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                command = line.decode("utf-8", "replace").strip()
                verb = command.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 datalake-lab-sink")
                elif verb == "MAIL":
                    envelope = {"from": command.split(":", 1)[-1].strip(), "to": []}
                    self.reply("250 OK")
                elif verb == "RCPT":
                    envelope["to"].append(command.split(":", 1)[-1].strip())
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    for raw in self.rfile:
                        text = raw.decode("utf-8", "replace").rstrip("\r\n")
                        if text == ".":
                            break
                        lines.append(text[1:] if text.startswith("..") else text)
                    record(out, "smtp", "\n".join(lines), envelope=envelope)
                    self.reply("250 OK: queued")
                elif verb == "QUIT":
                    self.reply("221 Bye")
                    return
                elif verb in ("RSET", "NOOP"):
                    self.reply("250 OK")
                else:
                    self.reply("502 Command not implemented")

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    Server((address, port), Session).serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["webhook", "smtp"])
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    (serve_webhook if args.kind == "webhook" else serve_smtp)(args.address, args.port, args.out)


if __name__ == "__main__":
    main()
