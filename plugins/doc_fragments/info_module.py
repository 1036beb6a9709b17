# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""Attributes of the read-only (*_info) modules."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode runs it as usual.
  diff_mode:
    support: none
    description: The module changes nothing, so there is nothing to diff.
"""
