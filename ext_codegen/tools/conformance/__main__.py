"""``python -m ext_codegen.tools.conformance``: the same tool as ``python -m ext_codegen conformance``.

The worker processes are started this way (``--worker BACKEND``).
"""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m ext_codegen.tools.conformance"))
