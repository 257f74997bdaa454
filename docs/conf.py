# ``sphinx-build docs OUT`` reads this file: it executes the configuration at
# the repository root, which the other form (``sphinx-build -c . docs OUT``)
# reads directly.
import os

_root_conf = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "conf.py")
_root_conf = os.path.normpath(_root_conf)
__file__ = _root_conf
with open(_root_conf) as _f:
    exec(compile(_f.read(), _root_conf, "exec"))
