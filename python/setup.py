"""Build hook: with XFIQ_LIBRARY=/path/to/libxfiq.so set at install time the
shared library is copied into the package (xfiq/libxfiq.so), so the
installed package works wherever libxfiq is not on the loader's path.
Without it the package looks for libxfiq at import time (xfiq/_lib.py)."""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    def run(self):
        super().run()
        lib = os.environ.get("XFIQ_LIBRARY")
        if lib:
            if not os.path.isfile(lib):
                raise SystemExit("XFIQ_LIBRARY=%s: no such file" % lib)
            dst = os.path.join(self.build_lib, "xfiq", "libxfiq.so")
            shutil.copyfile(os.path.realpath(lib), dst)


setup(cmdclass={"build_py": BuildPy})
