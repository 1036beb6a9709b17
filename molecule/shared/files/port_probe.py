#!/usr/bin/env python3
"""Try a TCP connection to each HOST:PORT argument and print one JSON object {target: outcome}.

Outcomes: open (connected), refused (nothing listens: a TCP reset), prohibited (an ICMP
"administratively prohibited" answer, which is how the DataLake FB firewall refuses: the kernel
reports it as EHOSTUNREACH), timeout, or the error's name.
"""

import errno
import json
import socket
import sys

OUTCOMES = {errno.ECONNREFUSED: "refused", errno.EHOSTUNREACH: "prohibited"}


def probe(target):
    host, port = target.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            return "open"
    except TimeoutError:
        return "timeout"
    except OSError as error:
        return OUTCOMES.get(error.errno, errno.errorcode.get(error.errno, str(error)))


if __name__ == "__main__":
    print(json.dumps({target: probe(target) for target in sys.argv[1:]}))
