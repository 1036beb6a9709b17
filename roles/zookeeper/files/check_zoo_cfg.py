"""Checks a candidate zoo.cfg the way ZooKeeper's QuorumPeerConfig reads it: key=value lines,
the required keys, numeric settings, and server.N=host:peer:election lines with unique ids."""

import re
import sys

REQUIRED = ("tickTime", "dataDir", "clientPort", "initLimit", "syncLimit")
NUMERIC = (
    "tickTime",
    "clientPort",
    "initLimit",
    "syncLimit",
    "maxSessionTimeout",
    "autopurge.snapRetainCount",
    "autopurge.purgeInterval",
)


def problems(text):
    found, servers, errors = {}, {}, []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or not value.strip():
            errors.append(f"line {number}: not key=value")
            continue
        key, value = key.strip(), value.strip()
        found[key] = value
        match = re.fullmatch(r"server\.(\d+)", key)
        if match:
            if not re.fullmatch(r"[A-Za-z0-9.-]+:\d+:\d+(:(participant|observer))?", value):
                errors.append(f"line {number}: {key} must be host:peer-port:election-port")
            servers.setdefault(match.group(1), []).append(number)
        elif key in NUMERIC and not value.isdigit():
            errors.append(f"line {number}: {key} must be a number")
    errors += [f"missing {key}" for key in REQUIRED if key not in found]
    errors += [f"server.{sid} given twice (lines {lines})" for sid, lines in servers.items() if len(lines) > 1]
    return errors


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        found = problems(handle.read())
    if found:
        sys.exit("zoo.cfg: " + "; ".join(found))
