"""The extension points and their registration: what this package gives Inductor.

==========================  ==================================================================
file                        what Inductor (or Dynamo) calls it for
==========================  ==================================================================
``wrapper.py``              the Python module that allocates buffers and launches kernels
``scheduling.py``           fusion decisions and kernel code, delegated to ``TritonScheduling``
``device_op_overrides.py``  the stream, device and guard snippets spliced into the wrapper
``device_interface.py``     what Dynamo and Inductor ask about the device
``registration.py``         puts the four in Inductor's registries, and takes them out again
``hardcoded.py``            answers for the ``extdev`` device where Inductor hard-codes a list
``pending.py``              registrations the device autoload asked for mid-import
==========================  ==================================================================

What it may import: torch, Inductor, :mod:`ext_codegen.compat`,
:mod:`ext_codegen.names`, the device (:mod:`ext_codegen.device`, which
registering ``extdev`` loads), the Triton plugin's
:mod:`ext_codegen.triton_backend.driver` and
:mod:`ext_codegen.triton_backend.compiler` (registering gives Triton its
driver back and keys Inductor's caches by the plugin's version) and its own
modules; never the rest of the plugin, the tools, :mod:`ext_codegen.autoload`
or the package's ``__init__``.  Importing this folder's ``__init__`` imports
nothing, so the autoload can reach :mod:`.pending` while torch is still being
imported.
"""
