#!/usr/bin/env python3
"""The lab's notification sinks: what Alertmanager sends lands in a JSON-lines file.

  notification_sink.py webhook --address A --port P --out FILE   (Alertmanager's webhook POSTs)
  notification_sink.py smtp --address A --port P --out FILE      (plain SMTP, no AUTH, no TLS)
  notification_sink.py find --out FILE --alertname NAME --status firing|resolved --since T [--label K=V]
  notification_sink.py count --out FILE --alertname NAME --status firing|resolved --since T [--label K=V]

Each line: {"received": <unix time>, "kind": "webhook"|"smtp", "body": <JSON payload or message text>}.
`find` prints the receipt time of the first notification received after T about the alert (with
that label) in that state, and exits 1 when there is none yet. `count` (webhook file) prints how many
such notifications arrived after T and how many repeated the one before them in their group (same
group, same alerts, same states): an Alertmanager cluster sends each group state once, so a repeat
within the repeat interval is the cluster notifying twice.
Lab only: it listens on a lab node's address and accepts anything sent to it.
"""

import argparse
import json
import re
import socketserver
import sys
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


def matches(record, alertname, status, labels):
    """Whether a notification is about the alert in that state (and carries the labels)."""
    body = record["body"]
    if record["kind"] == "webhook":
        return isinstance(body, dict) and any(
            alert.get("status") == status
            and alert.get("labels", {}).get("alertname") == alertname
            and all(alert.get("labels", {}).get(key) == value for key, value in labels.items())
            for alert in body.get("alerts", [])
        )
    # Alertmanager's default subject: "[FIRING:1] <group labels' values> (<other common labels'
    # values>)" or "[RESOLVED] ..." - the labels are looked for there, as whole words (the body
    # names other hosts, e.g. in links); headers may be folded onto continuation lines
    text = re.sub(r"\r?\n[ \t]+", " ", body)
    subject = re.search(r"^Subject: (.*)$", text, re.MULTILINE)
    if subject is None or not subject.group(1).startswith("[" + status.upper()):
        return False
    words = re.findall(r"[^\s()]+", subject.group(1))
    return alertname in words and all(value in words for value in labels.values())


def read(out):
    """The sink's records, oldest first (none before the first one arrives)."""
    try:
        with open(out, encoding="utf-8") as sink:
            return [json.loads(line) for line in sink if line.strip()]
    except FileNotFoundError:
        return []


def find(out, alertname, status, since, labels):
    """Receipt time of the first matching notification after `since`, or None."""
    for record in read(out):
        if record["received"] >= since and matches(record, alertname, status, labels):
            return record["received"]
    return None


def count(records, alertname, status, since, labels):
    """Webhook notifications after `since` about the alert, and those repeating their group's last."""
    last_sent, notifications, repeats = {}, 0, 0
    for record in records:
        body = record["body"]
        if record["kind"] != "webhook" or not isinstance(body, dict) or record["received"] < since:
            continue
        # Prometheus replicas stamp their own start and end times: the alert's identity is its
        # fingerprint (labels, without the replica's) and its state
        content = (body.get("status"), sorted((a.get("fingerprint"), a.get("status")) for a in body.get("alerts", [])))
        group = body.get("groupKey")
        repeated = last_sent.get(group) == content
        last_sent[group] = content
        if matches(record, alertname, status, labels):
            notifications += 1
            repeats += repeated
    return {"notifications": notifications, "repeats": repeats}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["webhook", "smtp", "find", "count"])
    parser.add_argument("--address")
    parser.add_argument("--port", type=int)
    parser.add_argument("--out", required=True)
    parser.add_argument("--alertname")
    parser.add_argument("--status", choices=["firing", "resolved"])
    parser.add_argument("--since", type=float, default=0)
    parser.add_argument("--label", action="append", default=[], help="KEY=VALUE the alert must carry")
    args = parser.parse_args()
    labels = dict(pair.split("=", 1) for pair in args.label)
    if args.kind == "count":
        print(json.dumps(count(read(args.out), args.alertname, args.status, args.since, labels)))
        return
    if args.kind == "find":
        received = find(args.out, args.alertname, args.status, args.since, labels)
        if received is None:
            sys.exit(1)
        print(received)
        return
    (serve_webhook if args.kind == "webhook" else serve_smtp)(args.address, args.port, args.out)


if __name__ == "__main__":
    main()
