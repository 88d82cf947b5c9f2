#!/usr/bin/env python3
"""tests/bootstrap.sh tells the truth: the compiler's errors are shown and it stops; without
root and without sudo it prints the apt-get line to run instead of failing on `sudo`.

The script runs from a scratch copy with stand-ins for dpkg-query, id, apt-get and meson on a
PATH that holds nothing else, so nothing is installed or built. Run by meson with
UPGLOG_SOURCE_ROOT.
"""
import os
import pathlib
import shutil
import subprocess
import tempfile
import unittest

ROOT = pathlib.Path(os.environ["UPGLOG_SOURCE_ROOT"])
TOOLS = ["bash", "grep", "mktemp", "cat", "rm", "dirname", "env", "true"]

COMPILER_ERROR = ("../src/cli/opts.c:332:27: error: 'undefined_thing' undeclared "
                  "(first use in this function)")


class Bootstrap(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self.tmp.name)
        (self.dir / "tests").mkdir()
        shutil.copy(ROOT / "tests" / "bootstrap.sh", self.dir / "tests" / "bootstrap.sh")
        self.bin = self.dir / "bin"
        self.bin.mkdir()
        for tool in TOOLS:
            path = shutil.which(tool)
            self.assertIsNotNone(path, tool)
            (self.bin / tool).symlink_to(path)
        self.calls = self.dir / "calls"

    def tearDown(self):
        self.tmp.cleanup()

    def shim(self, name, body):
        p = self.bin / name
        p.write_text(f"#!{shutil.which('bash')}\necho \"{name} $*\" >> {self.calls}\n{body}\n")
        p.chmod(0o755)

    def run_bootstrap(self, missing=(), uid=0):
        cases = "".join(f'    *" {p}") exit 1 ;;\n' for p in missing)
        self.shim("dpkg-query", f'case " $*" in\n{cases}esac\necho -n "install ok installed"')
        self.shim("dpkg", "echo amd64")
        self.shim("id", f"echo {uid}")
        self.shim("apt-get", "exit 0")
        self.shim("meson", f'case $1 in\ncompile) echo "{COMPILER_ERROR}"; '
                           'echo "ninja: build stopped: subcommand failed."; exit 1 ;;\n'
                           'esac\nexit 0')
        p = subprocess.run(["bash", str(self.dir / "tests" / "bootstrap.sh")],
                           capture_output=True, text=True, env={"PATH": str(self.bin)},
                           timeout=60)
        calls = self.calls.read_text() if self.calls.exists() else ""
        return p.returncode, p.stdout + p.stderr, calls

    def test_compile_error_is_shown_and_stops(self):
        code, out, calls = self.run_bootstrap()
        self.assertNotEqual(code, 0)
        self.assertIn(COMPILER_ERROR, out)
        self.assertNotIn("bootstrap: built", out)
        self.assertIn("meson compile -C build", calls)

    def test_no_root_no_sudo_prints_the_apt_get_line(self):
        code, out, calls = self.run_bootstrap(missing=("scdoc", "libcmocka-dev"), uid=1000)
        self.assertEqual(code, 1)
        self.assertIn("apt-get install -y --no-install-recommends libcmocka-dev scdoc", out)
        self.assertNotIn("sudo: command not found", out)
        self.assertNotIn("apt-get ", calls)
        self.assertNotIn("meson ", calls)

    def test_root_installs_what_is_missing(self):
        code, out, calls = self.run_bootstrap(missing=("scdoc",), uid=0)
        self.assertIn("apt-get install -y -qq --no-install-recommends scdoc", calls)
        self.assertNotEqual(code, 0)  # then fails on the stand-in compiler error
        self.assertIn(COMPILER_ERROR, out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
