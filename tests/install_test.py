#!/usr/bin/env python3
"""`meson install` into a DESTDIR puts everything in its FHS place, and what it installs works:
the binary finds its own catalogue and triages a fixture, `man` formats the pages, the shells
can read the completions.

    install_test.py MESON BUILDDIR   (with UPGLOG_FIXTURES, UPGLOG_DOC_BUILD set by meson)
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

MESON, BUILD = sys.argv[1], pathlib.Path(sys.argv[2])
FIXTURES = pathlib.Path(os.environ["UPGLOG_FIXTURES"])
DOC = pathlib.Path(os.environ["UPGLOG_DOC_BUILD"])
MAN = (DOC / "upglog.1").exists()
PAGES = ["man1/upglog.1", "man1/upglog-triage.1", "man1/upglog-scan.1", "man1/upglog-query.1", "man1/upglog-merge.1",
         "man1/upglog-rules.1", "man1/upglog-explain.1", "man5/upglog-rules.5",
         "man7/upglog-schema.7"]


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        dest = pathlib.Path(cls.tmp.name) / "dest"
        p = subprocess.run([MESON, "install", "-C", str(BUILD), "--no-rebuild", "--destdir",
                            str(dest)], capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise AssertionError(f"meson install failed:\n{p.stdout}\n{p.stderr}")
        binaries = list(dest.rglob("bin/upglog"))
        if len(binaries) != 1:
            raise AssertionError(f"installed binaries: {binaries}")
        cls.bin = binaries[0]
        cls.prefix = cls.bin.parent.parent
        cls.env = {k: v for k, v in os.environ.items() if not k.startswith("UPGLOG_")}
        cls.env["UPGLOG_CACHE_DIR"] = ""

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def installed(self, rel):
        path = self.prefix / rel
        self.assertTrue(path.is_file(), f"not installed: {rel}")
        return path

    def test_fhs_places(self):
        self.installed("share/upglog/patterns/msi.rules")
        self.installed("share/bash-completion/completions/upglog")
        self.installed("share/zsh/site-functions/_upglog")
        self.installed("share/fish/vendor_completions.d/upglog.fish")
        for doc in ("README.md", "LICENSE", "CHANGELOG.md"):
            self.installed(f"share/doc/upglog/{doc}")
        self.assertIn("MIT License", self.installed("share/doc/upglog/LICENSE").read_text())
        if MAN:
            for page in PAGES:
                self.installed(f"share/man/{page}")

    def test_installed_binary_uses_its_own_catalogue(self):
        with tempfile.TemporaryDirectory() as cwd:
            p = subprocess.run([str(self.bin), "-V"], capture_output=True, text=True, cwd=cwd,
                               env=self.env, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(f"rules in {self.prefix}/bin/../share/upglog/patterns", p.stdout)
            p = subprocess.run([str(self.bin), "triage", str(FIXTURES / "msi-modern-failed.log")],
                               capture_output=True, text=True, cwd=cwd, env=self.env,
                               timeout=300)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertTrue(p.stdout.startswith("FAILED"), p.stdout)
            # The headline names the root cause's code (fixtures/expected.tsv).
            row = next(r.split("\t") for r in (FIXTURES / "expected.tsv").read_text()
                       .splitlines() if r.startswith("msi-modern-failed.log\t"))
            self.assertIn(f"({row[4]})", p.stdout.splitlines()[0])
            p = subprocess.run([str(self.bin), "rules", "--check"], capture_output=True,
                               text=True, cwd=cwd, env=self.env, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    @unittest.skipUnless(MAN and shutil.which("man"), "man pages not built or no man")
    def test_man_formats_the_installed_pages(self):
        for page in PAGES:
            p = subprocess.run(["man", "-l", str(self.installed(f"share/man/{page}"))],
                               capture_output=True, text=True, env={**self.env, "MANPAGER": "cat",
                                                                    "MANWIDTH": "80"},
                               timeout=60)
            with self.subTest(page=page):
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("NAME", p.stdout)
                self.assertNotIn("warning", p.stderr)
        # `man upglog-triage` finds it through MANPATH, as it would under /usr/local.
        env = {**self.env, "MANPATH": str(self.prefix / "share" / "man"), "MANPAGER": "cat"}
        for name in ("upglog", "upglog-triage"):
            p = subprocess.run(["man", name], capture_output=True, text=True, env=env,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(name, p.stdout)

    def test_shells_read_the_completions(self):
        checks = [("bash", "share/bash-completion/completions/upglog"),
                  ("zsh", "share/zsh/site-functions/_upglog"),
                  ("fish", "share/fish/vendor_completions.d/upglog.fish")]
        for shell, rel in checks:
            if not shutil.which(shell):
                continue
            p = subprocess.run([shell, "-n", str(self.installed(rel))], capture_output=True,
                               text=True, timeout=60)
            with self.subTest(shell=shell):
                self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
