import os
import sys

# The collection's module_utils, imported from the checkout (exposed by `make setup`).
sys.path.insert(0, os.path.join(os.environ["DLFB_ROOT"], ".collections"))
