"""The frozen executable's entry script (PyInstaller runs this as ``__main__``).

It only hands over to ``ganpaint.__main__.main``: the same code path as the ``ganpaint``
console script, so ``--smoke-test``, the sub-commands and the editor behave alike.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    # a frozen program must say so before anything can start a child process (Windows, macOS)
    multiprocessing.freeze_support()
    from ganpaint.__main__ import main

    sys.exit(main())
