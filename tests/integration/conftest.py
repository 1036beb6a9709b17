"""Testinfra checks of the single-node stack, run by molecule/default's verifier:

    pytest --hosts=podman://NODE tests/integration   (DLFB_TEST_NODE=NODE, DLFB_TEST_IP=its address)

The node's name and address come from the environment; the collection's module_utils are
imported from the checkout (exposed by `make setup`)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ["DLFB_ROOT"], ".collections"))


@pytest.fixture(scope="session")
def node():
    return {"name": os.environ["DLFB_TEST_NODE"], "ip": os.environ["DLFB_TEST_IP"]}
