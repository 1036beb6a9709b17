# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""Filters shared by the datalake_fb.platform roles."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_FACTOR_MB = {"": 1.0 / (1024 * 1024), "k": 1.0 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0 * 1024}


def to_megabytes(value):
    """Parse a JVM/Spark-style size ("512m", "4g", "1.5G", "2048", "8GiB") into whole MiB.

    A bare number is bytes, as the JVM reads it.
    """
    if isinstance(value, bool):
        raise AnsibleFilterError(f"to_megabytes: expected a size such as '512m' or '4g', got {value!r}")
    if isinstance(value, (int, float)):
        number, unit = float(value), ""
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise AnsibleFilterError(f"to_megabytes: expected a size such as '512m' or '4g', got {value!r}")
        number, unit = float(match.group(1)), match.group(2).lower()
    if number <= 0:
        raise AnsibleFilterError(f"to_megabytes: a size must be positive, got {value!r}")
    return int(number * _FACTOR_MB[unit])


def rewrite_url(url, rewrites):
    """Replace the longest matching prefix of url using a {prefix: replacement} map (mirrors)."""
    if not isinstance(rewrites, dict):
        raise AnsibleFilterError(f"rewrite_url: rewrites must be a dict of prefix: replacement, got {rewrites!r}")
    for prefix in sorted(rewrites, key=len, reverse=True):
        if url.startswith(prefix):
            return rewrites[prefix] + url[len(prefix):]
    return url


class FilterModule:
    """datalake_fb.platform filters."""

    def filters(self):
        return {"to_megabytes": to_megabytes, "rewrite_url": rewrite_url}
