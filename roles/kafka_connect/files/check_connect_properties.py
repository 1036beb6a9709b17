"""Checks a candidate connect-distributed.properties before it is written: key=value lines, each
key once, the settings a distributed worker cannot start without, numbers where Connect wants
them, and no login written out in the file (logins are ${file:...} references to the secrets
directory, which only root and the worker read)."""

import re
import sys

REQUIRED = (
    "bootstrap.servers",
    "group.id",
    "config.storage.topic",
    "offset.storage.topic",
    "status.storage.topic",
    "key.converter",
    "value.converter",
    "plugin.path",
    "listeners",
)
POSITIVE = (
    "config.storage.replication.factor",
    "offset.storage.replication.factor",
    "status.storage.replication.factor",
    "offset.flush.interval.ms",
    "rest.advertised.port",
)
INTERNAL_TOPICS = ("config.storage.topic", "offset.storage.topic", "status.storage.topic")
REFERENCE = re.compile(r"\$\{file:[^:}]+:[^}]+\}")


def problems(text):
    found, lines, errors = {}, {}, []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            errors.append(f"line {number}: not key=value")
            continue
        found[key] = value
        lines.setdefault(key, []).append(number)
        if key in POSITIVE and not (value.isdigit() and int(value) > 0):
            errors.append(f"line {number}: {key} must be a positive number")
        if (key.endswith("sasl.jaas.config") or key.endswith("password")) and not REFERENCE.fullmatch(value):
            errors.append(f"line {number}: {key} must be a ${{file:...}} reference, not the secret itself")
    errors += [f"missing {key}" for key in REQUIRED if key not in found]
    errors += [f"{key} given twice (lines {numbers})" for key, numbers in lines.items() if len(numbers) > 1]
    topics = [found[key] for key in INTERNAL_TOPICS if key in found]
    if len(set(topics)) != len(topics):
        errors.append("the config, offset and status topics must be three different topics")
    return errors


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        found = problems(handle.read())
    if found:
        sys.exit("connect-distributed.properties: " + "; ".join(found))
