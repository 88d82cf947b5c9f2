#!/usr/bin/env python3
"""End-to-end tests of the upglog command line: every command, its exit status, its output.

Run by `meson test` with UPGLOG (the binary), UPGLOG_FIXTURES (fixtures/), UPGLOG_PATTERNS
and UPGLOG_CORPUS (the real installer logs next to the repository; tests on them are skipped
when the folder does not exist).
"""
import csv
import gzip
import io
import json
import os
import pathlib
import random
import re
import shutil
import select
import signal
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile

UPGLOG = os.environ["UPGLOG"]
FIXTURES = pathlib.Path(os.environ["UPGLOG_FIXTURES"])
CORPUS = pathlib.Path(os.environ.get("UPGLOG_CORPUS", "/nonexistent"))
CORPUS_IS = pathlib.Path(os.environ.get("UPGLOG_CORPUS_INSTALLSHIELD", "/nonexistent"))
SOURCE_ROOT = pathlib.Path(os.environ.get("UPGLOG_SOURCE_ROOT", "."))
# Sanitized builds run slower; give every command room.
TIMEOUT = 600


def run(*args, cwd=None, stdin=None, env=None):
    """Run upglog; return (exit status, stdout, stderr)."""
    p = subprocess.run(
        [UPGLOG, *map(str, args)], cwd=cwd, input=stdin, capture_output=True,
        timeout=TIMEOUT, env=env,
    )
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def run_on_terminal(*args, cwd=None):
    """Run upglog with standard error on a pseudo-terminal; return (status, stdout, stderr)."""
    import pty
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([UPGLOG, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
                             stderr=slave, stdin=subprocess.DEVNULL)
        os.close(slave)
        slave = -1
        err = b""
        while True:
            ready, _, _ = select.select([master], [], [], TIMEOUT)
            if not ready:
                p.kill()
                raise AssertionError("upglog hung on a terminal")
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            err += chunk
        out = p.stdout.read()
        p.wait(TIMEOUT)
        p.stdout.close()
        return p.returncode, out.decode("utf-8"), err.decode("utf-8")
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def triage_json(*args):
    code, out, err = run("triage", "--format", "json", *args)
    try:
        return code, json.loads(out), err
    except json.JSONDecodeError as e:
        raise AssertionError(f"triage printed invalid JSON ({e}):\n{out}\n{err}") from e


def expectations():
    """Rows of fixtures/expected.tsv: fixture, verdict, root_file, root_line, root_code."""
    path = FIXTURES / "expected.tsv"
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if cols[0] == "fixture":
                continue
            rows.append(dict(zip(("fixture", "verdict", "root_file", "root_line", "root_code"),
                                 cols)))
    return rows


class Usage(unittest.TestCase):
    def test_help_lists_every_command(self):
        code, out, _ = run("--help")
        self.assertEqual(code, 0)
        for name in ("scan", "triage", "query", "merge", "rules", "explain"):
            self.assertIn(name, out)

    def test_every_command_has_help(self):
        for name in ("scan", "triage", "query", "merge", "rules", "explain"):
            code, out, err = run(name, "--help")
            self.assertEqual(code, 0, name)
            self.assertTrue(out.startswith(f"usage: upglog {name}"), out)
            self.assertEqual(err, "")

    def test_usage_errors_exit_2_with_a_message(self):
        cases = [
            ("nosuchcommand",),
            ("scan",),
            ("scan", "--jobs", "x", "."),
            ("scan", "--bogus", "."),
            ("triage", "--format", "xml", "."),
            ("query",),
            ("query", "--format", "yaml", "SELECT 1"),
            ("rules", "--check", "--list"),
            ("explain",),
            ("explain", "notacode"),
        ]
        for args in cases:
            code, out, err = run(*args)
            self.assertEqual(code, 2, f"{args}: {err}")
            self.assertTrue(err.strip(), args)
            self.assertEqual(out, "", args)

    def test_no_arguments(self):
        code, _, err = run()
        self.assertEqual(code, 2)
        self.assertIn("usage", err)

    def test_version(self):
        code, out, _ = run("--version")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^upglog \d+\.\d+")


class Habits(unittest.TestCase):
    """The command-line manners people expect from a Unix tool."""

    FAILED = FIXTURES / "msi-modern-failed.log"

    def test_version_names_catalogue_and_features(self):
        for flag in ("-V", "--version"):
            code, out, _ = run(flag)
            self.assertEqual(code, 0)
            self.assertRegex(out, r"^upglog \d+\.\d+\.\d+\n")
            self.assertRegex(out, r"catalogue: [0-9a-f]{16} \(\d+ rules in .+\)")
            self.assertRegex(out, r"features: [+-]hyperscan [+-]libarchive \+pcre2-\d")

    def test_help_command(self):
        for name in ("scan", "triage", "query", "rules", "explain"):
            code, out, _ = run("help", name)
            self.assertEqual(code, 0)
            self.assertEqual(out, run(name, "--help")[1])
            self.assertEqual(out, run(name, "-h")[1])
        code, out, _ = run("help")
        self.assertEqual((code, out), run("--help")[:2])
        code, _, err = run("help", "tirage")
        self.assertEqual(code, 2)
        self.assertIn("did you mean 'triage'", err)

    def test_did_you_mean(self):
        cases = [
            (("tirage",), "did you mean 'triage'"),
            (("explian", "1603"), "did you mean 'explain'"),
            (("qeury", "SELECT 1"), "did you mean 'query'"),
            (("triage", "--fromat", "json", "x"), "did you mean '--format'"),
            (("scan", "--job", "2", "x"), "did you mean '--jobs'"),
            (("rules", "--chek"), "did you mean '--check'"),
            (("explain", "--format", "jsno", "1"), "did you mean 'json'"),
            (("rules", "--list", "msi.action-faild"), "did you mean 'msi.action-failed'"),
        ]
        for args, hint in cases:
            code, out, err = run(*args)
            with self.subTest(args=args):
                self.assertEqual(code, 2, err)
                self.assertIn(hint, err)
                self.assertEqual(out, "")
        # Nothing near: no suggestion.
        code, _, err = run("frobnicate")
        self.assertEqual(code, 2)
        self.assertNotIn("did you mean", err)

    def test_short_options(self):
        with tempfile.TemporaryDirectory() as d:
            code, out, err = run("triage", "-f", "json", "-j", "1", "-o", f"{d}/t.json",
                                 "-d", f"{d}/t.db", self.FAILED)
            self.assertEqual(code, 1, err)
            self.assertEqual(out, "")
            report = json.loads(pathlib.Path(f"{d}/t.json").read_text(encoding="utf-8"))
            self.assertEqual(report["verdict"], "failed")
            # Attached values and bundled flags.
            code, out, err = run("scan", "-qj2", f"-d{d}/s.db", self.FAILED)
            self.assertEqual((code, out, err), (1, "", ""))
            code, out, _ = run("query", "-fcsv", "-d", f"{d}/s.db",
                               "SELECT count(*) AS n FROM files")
            self.assertEqual((code, out.split()), (0, ["n", "1"]))

    def test_options_after_arguments_everywhere(self):
        code, out, err = run("explain", "1069", "--format", "json")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)[0]["code"], 1069)
        code, out, _ = run("explain", "-2147287038", "-f", "json")
        self.assertEqual(code, 0)
        self.assertIn("STG_E_FILENOTFOUND", out)
        code, out, err = run("triage", self.FAILED, "--format=json", "--jobs", "1")
        self.assertEqual(code, 1, err)
        self.assertEqual(json.loads(out)["verdict"], "failed")
        with tempfile.TemporaryDirectory() as d:
            run("scan", self.FAILED, "--db", f"{d}/s.db", "-q")
            code, out, _ = run("query", "SELECT count(*) FROM files", "--db", f"{d}/s.db",
                               "--format", "json")
            self.assertEqual(code, 0)
            self.assertEqual(str(json.loads(out)[0]["count(*)"]), "1")
        code, out, _ = run("rules", "msi.action-failed", "--list")
        self.assertEqual(code, 0)
        self.assertEqual(len(out.splitlines()), 2)
        # -- ends the options: what follows is an argument even when it looks like one.
        code, _, err = run("explain", "--", "--format")
        self.assertEqual(code, 2)
        self.assertIn("'--format' is neither a code", err)

    def test_option_spellings(self):
        with tempfile.TemporaryDirectory() as d:
            code, _, err = run("scan", f"--db={d}/a.db", "--jobs=1", "--quiet", self.FAILED)
            self.assertEqual((code, err), (1, ""))
            self.assertTrue(pathlib.Path(f"{d}/a.db").exists())
        # "-" is standard input, an argument like any other.
        code, out, _ = run("triage", "-", "-f", "json", stdin=self.FAILED.read_bytes())
        self.assertEqual(code, 1)
        self.assertEqual(json.loads(out)["verdict"], "failed")
        # read once: a second "-" would read nothing and replace the first (a failed log
        # reported as unknown, exit 0), so it is refused before anything is read
        for cmd in (["triage", "-", "-"], ["triage", "--label", "X", "-", "--", "-"],
                    ["scan", "--db", "never.db", "-", "-"]):
            with tempfile.TemporaryDirectory() as d:
                code, out, err = run(*cmd, stdin=self.FAILED.read_bytes(), cwd=d)
                self.assertEqual((code, out), (2, ""), cmd)
                self.assertIn("standard input (-) is given twice", err)
                self.assertEqual(list(pathlib.Path(d).iterdir()), [])
        code, _, err = run("scan", "x", "--jobs")
        self.assertEqual(code, 2)
        self.assertIn("option '--jobs' needs a value (N)", err)
        code, _, err = run("scan", "x", "-j")
        self.assertIn("option '-j' needs a value (N)", err)
        code, _, err = run("scan", "--force=yes", "x")
        self.assertIn("option '--force' takes no value", err)
        # Abbreviations are refused (a new option must never change an old command line),
        # with the full name suggested.
        code, _, err = run("triage", "--form", "json", self.FAILED)
        self.assertEqual(code, 2)
        self.assertIn("did you mean '--format'", err)

    def test_option_values_checked(self):
        for args in [("triage", "--format", "xml", "."), ("query", "-f", "yaml", "SELECT 1"),
                     ("triage", "--color", "sometimes", "."), ("--color", "sometimes", "rules"),
                     ("scan", "--db"), ("rules", "--check=yes")]:
            code, out, err = run(*args)
            with self.subTest(args=args):
                self.assertEqual(code, 2)
                self.assertEqual(out, "")
                self.assertTrue(err.startswith("upglog"), err)

    def test_color(self):
        env = dict(os.environ)
        env.pop("NO_COLOR", None)
        code, out, _ = run("triage", "--color=always", self.FAILED, env=env)
        self.assertEqual(code, 1)
        self.assertIn("\033[", out)
        code, out, _ = run("--color", "always", "triage", self.FAILED, env=env)
        self.assertIn("\033[", out)
        # Not a terminal: auto does not colour; never never does.
        for args in (("triage", self.FAILED), ("triage", "--color=never", self.FAILED),
                     ("--color=never", "triage", "--color=auto", self.FAILED)):
            code, out, _ = run(*args, env=env)
            self.assertEqual(code, 1)
            self.assertNotIn("\033[", out, args)
        # An explicit --color=always wins over NO_COLOR, which only turns auto off.
        env["NO_COLOR"] = "1"
        self.assertIn("\033[", run("triage", "--color=always", self.FAILED, env=env)[1])

    def test_triage_quiet(self):
        code, out, err = run("triage", "-q", self.FAILED)
        self.assertEqual((code, out, err), (1, "", ""))
        code, out, err = run("triage", "--quiet", FIXTURES / "msi-modern-ok.log")
        self.assertEqual((code, out, err), (0, "", ""))
        with tempfile.TemporaryDirectory() as d:
            code, out, err = run("triage", "-q", "-f", "json", "-o", f"{d}/r.json",
                                 self.FAILED)
            self.assertEqual((code, out, err), (1, "", ""))
            self.assertEqual(json.loads(pathlib.Path(f"{d}/r.json").read_text())["verdict"],
                             "failed")
        # Problems are still said on stderr.
        code, out, err = run("triage", "-q", "/nonexistent/x.log")
        self.assertEqual(code, 3)
        self.assertEqual(out, "")
        self.assertIn("/nonexistent/x.log", err)

    def test_scan_says_it_created_the_database(self):
        with tempfile.TemporaryDirectory() as d:
            code, _, err = run("scan", self.FAILED, cwd=d)
            self.assertEqual(code, 1)
            self.assertIn("created the database upglog.db", err)
            self.assertTrue((pathlib.Path(d) / "upglog.db").exists())
            code, _, err = run("scan", self.FAILED, cwd=d)
            self.assertNotIn("created", err)
            self.assertIn("(1 input unchanged, kept)", err)
            code, _, err = run("scan", "-q", "-d", "other.db", self.FAILED, cwd=d)
            self.assertEqual(err, "")

    def test_help_columns_aligned(self):
        for name in ("scan", "triage", "query", "rules", "explain"):
            _, out, _ = run(name, "--help")
            self.assertEqual([l for l in out.splitlines() if len(l) > 79], [], name)
            opts = out.split("\noptions:\n", 1)[1].split("\n\n", 1)[0].splitlines()
            starts = set()
            for line in opts:
                self.assertLessEqual(len(line), 79, line)
                m = re.match(r"^  (-\w, |    )--[\w-]+( \S+)?( +)\S", line)
                if m and len(m.group(3)) >= 2:
                    starts.add(m.end() - 1)
                elif not m:
                    # A continuation line, or a label too long to share its line.
                    self.assertRegex(line, r"^( {6,}\S|  (-\w, |    )--[\w-]+ \S+$)", line)
            with self.subTest(command=name):
                self.assertEqual(len(starts), 1, out)


class Progress(unittest.TestCase):
    """The progress line: on a terminal only, with percentage and time left when sizes are
    known, erased at the end."""

    def test_percentage_rate_and_time_left_for_files(self):
        with tempfile.TemporaryDirectory() as d:
            code, out, err = run_on_terminal("scan", "--db", f"{d}/s.db",
                                             FIXTURES / "msi-modern-failed.log",
                                             FIXTURES / "msi-modern-ok.log")
            self.assertEqual(code, 1, err)
            # The last progress line before the summary says everything was read.
            self.assertRegex(err, r"100% \u00b7 [\d.]+ KB of [\d.]+ KB \u00b7 [\d.]+ \w?B/s"
                                  r" \u00b7 0:00 left \u00b7 2 files")
            # It is erased before anything else is written.
            self.assertIn("\r\033[Kupglog: scanned 2 files", err)

    def test_folder_has_no_percentage(self):
        with tempfile.TemporaryDirectory() as d:
            code, _, err = run_on_terminal("scan", "--db", f"{d}/s.db",
                                           FIXTURES / "cisco-pub01-failed")
            self.assertIn(code, (0, 1), err)
            self.assertRegex(err, r"\d+ files \u00b7 [\d.]+ \w?B \u00b7 \d+ findings")
            self.assertNotIn("%", err)

    def test_triage_shows_progress_unless_quiet(self):
        code, out, err = run_on_terminal("triage", FIXTURES / "msi-modern-failed.log")
        self.assertEqual(code, 1)
        self.assertIn("100%", err)
        self.assertTrue(out.startswith("FAILED"), out)
        self.assertNotIn("\r", out)
        code, out, err = run_on_terminal("triage", "-q", FIXTURES / "msi-modern-failed.log")
        self.assertEqual((code, out, err), (1, "", ""))

    def test_never_without_a_terminal(self):
        with tempfile.TemporaryDirectory() as d:
            _, _, err = run("scan", "--db", f"{d}/s.db", FIXTURES / "msi-modern-failed.log")
            self.assertNotIn("\r", err)
            self.assertNotIn("%", err)


class CatalogueLookup(unittest.TestCase):
    """--rules > UPGLOG_PATTERNS > the checkout's patterns/ from a build folder > installed."""

    def version_catalogue(self, env):
        code, out, _ = run("--version", env=env)
        self.assertEqual(code, 0)
        m = re.search(r"catalogue: \w+ \((\d+) rules in (.+)\)", out)
        self.assertIsNotNone(m, out)
        return int(m.group(1)), m.group(2)

    def test_order(self):
        env = dict(os.environ)
        env.pop("UPGLOG_PATTERNS", None)
        # From the build folder: the checkout's patterns/.
        n, where = self.version_catalogue(env)
        self.assertEqual(pathlib.Path(where).resolve(), (SOURCE_ROOT / "patterns").resolve())
        with tempfile.TemporaryDirectory() as d:
            # UPGLOG_PATTERNS wins over it: a copy without one file has fewer rules.
            mine = pathlib.Path(d) / "mine"
            shutil.copytree(SOURCE_ROOT / "patterns", mine)
            # (a file that declares no family others name: msi-l10n.rules)
            (mine / "msi-l10n.rules").unlink()
            env["UPGLOG_PATTERNS"] = str(mine)
            n2, where2 = self.version_catalogue(env)
            self.assertEqual(where2, str(mine))
            self.assertLess(n2, n)
            # --rules comes on top of whichever catalogue was found.
            extra = pathlib.Path(d) / "extra"
            extra.mkdir()
            (extra / "x.rules").write_text(
                "rule local.example\n  severity error\n  family msi\n"
                "  match ^Widget failure \\d+\n  sample Widget failure 12\n",
                encoding="utf-8")
            code, out, _ = run("rules", "--list", "--rules", extra, env=env)
            self.assertEqual(code, 0)
            ids = [l.split()[1] for l in out.splitlines()[1:]]
            self.assertIn("local.example", ids)
            self.assertEqual(len(ids), n2 + 1)
            self.assertFalse(any(i.startswith("msi-l10n.") for i in ids))


class Rules(unittest.TestCase):
    def test_check_passes(self):
        code, out, err = run("rules", "--check")
        self.assertEqual(code, 0, out + err)
        self.assertIn("all pass", out)

    def test_list_counts_and_order(self):
        code, out, _ = run("rules", "--list")
        self.assertEqual(code, 0)
        rows = out.splitlines()[1:]
        self.assertGreaterEqual(len(rows), 150)
        prios = [int(r.split()[5]) for r in rows]
        self.assertEqual(prios, sorted(prios, reverse=True))

    def test_families_are_listed_from_the_catalogue(self):
        code, out, _ = run("rules", "--families")
        self.assertEqual(code, 0)
        names = re.findall(r"^family (\S+)  \((\S+?):\d+, (\d+) rules\)$", out, re.M)
        self.assertEqual(sorted(n for n, _, _ in names),
                         ["burn", "cisco", "dcd", "generic", "inno", "installshield", "msi",
                          "sql"])
        for name, origin, count in names:
            self.assertTrue(origin.endswith(".rules"), origin)
            self.assertGreater(int(count), 0, name)
        self.assertIn("verdict    sessions", out)
        self.assertIn("fallback   yes", out)
        code, _, err = run("rules", "--families", "--list")
        self.assertEqual(code, 2, err)

    def test_export_one_regex_per_rule(self):
        _, listing, _ = run("rules", "--list")
        code, out, _ = run("rules", "--export-regex")
        self.assertEqual(code, 0)
        regexes = out.splitlines()
        self.assertEqual(len(regexes), len(listing.splitlines()) - 1)
        self.assertFalse([r for r in regexes if "(?<" in r or "(?P<" in r])

    @unittest.skipUnless(shutil.which("rg"), "ripgrep not installed")
    def test_export_is_accepted_by_ripgrep(self):
        _, out, _ = run("rules", "--export-regex")
        with tempfile.TemporaryDirectory() as d:
            pats = pathlib.Path(d) / "p.txt"
            pats.write_text(out)
            sample = pathlib.Path(d) / "s.log"
            sample.write_text("Action ended 14:23:05: InstallFinalize. Return value 3.\n")
            p = subprocess.run(["rg", "-c", "-f", str(pats), str(sample)], capture_output=True,
                               text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.strip(), "1")

    def test_a_user_rule_replaces_a_shipped_one(self):
        _, listing, _ = run("rules", "--list")
        rule_id = listing.splitlines()[1].split()[1]
        with tempfile.TemporaryDirectory() as d:
            (pathlib.Path(d) / "mine.rules").write_text(
                f"rule {rule_id}\n  severity info\n  family generic\n  match ^ZZZ mine\n"
                "  sample ZZZ mine\n")
            code, out, _ = run("rules", "--rules", d, "--list")
            self.assertEqual(code, 0)
            self.assertEqual(len(out.splitlines()), len(listing.splitlines()))
            mine = [r for r in out.splitlines() if r.split()[1] == rule_id]
            self.assertEqual(mine[0].split()[2], "info")

    def test_a_failing_rule_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            (pathlib.Path(d) / "bad.rules").write_text(
                "rule zz.bad\n  severity error\n  family generic\n  match ^zz (?<code>\\d+)\n"
                "  sample zz nope\n  not zz 12\n")
            code, out, _ = run("rules", "--rules", d, "--check")
            self.assertEqual(code, 1)
            self.assertIn("FAIL zz.bad", out)
            self.assertIn("does not match", out)
            self.assertIn("\"zz 12\": matches", out)

    def test_a_broken_rule_file_stops_with_file_and_line(self):
        with tempfile.TemporaryDirectory() as d:
            (pathlib.Path(d) / "broken.rules").write_text(
                "rule zz.broken\n  severity error\n  family generic\n  match ^(unclosed\n"
                "  sample x\n")
            for cmd in (("rules", "--check"), ("scan", "--db", f"{d}/x.db", d)):
                code, out, err = run(cmd[0], "--rules", d, *cmd[1:])
                self.assertEqual(code, 2)
                self.assertIn("broken.rules:1", err)
                self.assertIn("missing closing parenthesis", err)


class Triage(unittest.TestCase):
    def test_stopped_upgrades_are_cancelled_or_incomplete(self):
        # SUB03: the user cancelled the installer; the driver's "Upgrade CANCELLED" and the
        # summary's "Result : FAILED" come after the cancel. SUB04: collected while the
        # installer ran; its log is cut after the nested removal's "Removal completed
        # successfully." and ServPrep, an earlier step, succeeded.
        code, d, err = triage_json(FIXTURES / "cisco-sub03-cancelled")
        self.assertEqual((code, d["verdict"]), (1, "cancelled"), err)
        self.assertEqual([(s["host"], s["verdict"]) for s in d["servers"]],
                         [("SUB03", "cancelled")])
        self.assertEqual(d["root_cause"]["code"], "1602")
        self.assertEqual(d["root_cause"]["rule"], "msi.action-cancelled")
        own = {pathlib.PurePath(f["path"]).name: f["verdict"] for f in d["files"]}
        self.assertEqual(own["UpgradeSummary.txt"], "failed")
        self.assertEqual(own["CCMUpgrade_031905.log"], "failed")
        code, d, err = triage_json(FIXTURES / "cisco-sub04-cut")
        self.assertEqual((code, d["verdict"]), (0, "incomplete"), err)
        self.assertEqual([(s["host"], s["verdict"]) for s in d["servers"]],
                         [("SUB04", "incomplete")])
        own = {pathlib.PurePath(f["path"]).name: f["verdict"] for f in d["files"]}
        self.assertEqual(own, {"CCMUpgrade_031905.log": "unknown",
                               "ServPrep_031905.log": "succeeded",
                               "ccminst_031905_232343.log": "incomplete"})
        # Scanned together with SUB02, whose upgrade failed: the cluster failed, each server
        # keeps its own outcome.
        code, d, err = triage_json(FIXTURES / "cisco-sub03-cancelled",
                                   FIXTURES / "cisco-sub04-cut", FIXTURES / "cluster" / "sub02")
        self.assertEqual(code, 1, err)
        self.assertEqual(sorted((s["host"], s["verdict"]) for s in d["servers"]),
                         [("SUB02", "failed"), ("SUB03", "cancelled"), ("SUB04", "incomplete")])

    def test_fixtures_verdict_and_root_cause(self):
        rows = expectations()
        self.assertGreaterEqual(len(rows), 2)
        for row in rows:
            target = FIXTURES / row["fixture"]
            code, d, err = triage_json(target)
            with self.subTest(fixture=row["fixture"]):
                self.assertEqual(d["verdict"], row["verdict"], err)
                if row["verdict"] in ("failed", "cancelled"):
                    self.assertEqual(code, 1)
                    rc = d["root_cause"]
                    self.assertIsNotNone(rc)
                    want = str(target / row["root_file"]) if target.is_dir() else str(target)
                    self.assertEqual(rc["file"], want)
                    self.assertEqual(rc["line"], int(row["root_line"]))
                    self.assertEqual(rc["code"] or "", row["root_code"])
                    self.assertTrue(rc["fix"])
                    self.assertTrue(rc["context"]["before"])
                    self.assertTrue(1 <= len(d["candidates"]) <= 3)
                    self.assertEqual(d["candidates"][0]["line"], rc["line"])
                    self.assertTrue(all(c["reason"] for c in d["candidates"]))
                else:
                    self.assertEqual(code, 0, err)
                    self.assertIsNone(d["root_cause"])
                self.assertEqual(set(d), {"verdict", "root_cause", "candidates", "failures",
                                          "findings", "counts", "noise", "files", "errors",
                                          "servers", "checks", "cluster", "notice"})
                self.assertIsNone(d["notice"])
                self.assertEqual(set(d["counts"]),
                                 {"noise", "info", "warning", "error", "catastrophic"})
                self.assertEqual(d["errors"], [])

    def test_text_report_names_file_line_and_what_to_do(self):
        row = next(r for r in expectations() if r["verdict"] == "failed")
        code, out, err = run("triage", FIXTURES / row["fixture"])
        self.assertEqual(code, 1, err)
        self.assertTrue(out.startswith("FAILED"), out)
        self.assertIn(f"{row['root_file']}:{row['root_line']}", out)
        self.assertIn("What to do", out)
        self.assertIn("harmless lines hidden", out)
        self.assertNotIn("\033[", out)  # not a terminal: no colour

    def test_output_file(self):
        row = expectations()[0]
        with tempfile.TemporaryDirectory() as d:
            out_path = pathlib.Path(d) / "report.json"
            code, out, _ = run("triage", "--format", "json", "--output", out_path,
                               FIXTURES / row["fixture"])
            self.assertEqual(out, "")
            self.assertEqual(json.loads(out_path.read_text())["verdict"], row["verdict"])

    def test_triage_of_a_database(self):
        row = next(r for r in expectations() if r["verdict"] == "failed")
        with tempfile.TemporaryDirectory() as d:
            db = f"{d}/f.db"
            code, _, err = run("scan", "--db", db, FIXTURES / row["fixture"])
            self.assertEqual(code, 1, err)
            code, data, _ = triage_json("--db", db)
            self.assertEqual(code, 1)
            self.assertEqual(data["verdict"], "failed")
            code, _, err = run("triage", "--db", f"{d}/none.db")
            self.assertEqual(code, 2)
            self.assertIn("none.db", err)

    def test_stdin(self):
        log = ("Action start 9:00:01: INSTALL.\n"
               "MSI (c) (1:2): MainEngineThread is returning 0\n").encode()
        code, out, _ = run("triage", "--format", "json", "-", stdin=log)
        self.assertEqual(code, 0)
        self.assertEqual(json.loads(out)["verdict"], "succeeded")

    def test_missing_input_is_named_and_exit_3(self):
        row = expectations()[0]
        code, d, err = triage_json(FIXTURES / row["fixture"], "/nonexistent/pub02.zip")
        self.assertEqual(code, 3)
        self.assertIn("/nonexistent/pub02.zip", err)
        self.assertEqual(len(err.strip().splitlines()), 1)
        self.assertEqual(d["verdict"], row["verdict"])
        self.assertEqual(d["errors"][0]["file"], "/nonexistent/pub02.zip")


CISCO_LOGS = pathlib.Path("C/Program Files/Common Files/Cisco/Logs")


def ccm_server(root, host, start, end, role="Subscriber", from_v="3.3(4)", final="4.0(1)",
               os_v="2000.2.6", extra=(), failed=False, name_host=True):
    """A small synthetic server bundle in the (inferred) shape of the cluster fixture: the
    upgrade driver's log and the upgrade summary. `start`/`end` are "HH:MM:SS" on 3/19/2005;
    `extra` holds (time, text) lines logged during the upgrade."""
    logs = root / CISCO_LOGS
    logs.mkdir(parents=True, exist_ok=True)
    d = "03/19/2005"
    lines = []
    if name_host:
        lines.append(f"{d} {start} INFO   Upgrade started on {host} by {host}\\Administrator")
    else:
        lines.append(f"{d} {start} INFO   Upgrade started by Administrator")
    if role:
        lines.append(f"{d} {start} INFO   Server role: {role}   Publisher: PUB01")
    lines.append(f"{d} {start} INFO   Installed: Cisco CallManager {from_v}   "
                 f"Target: Cisco CallManager 4.0(1)")
    lines.append(f"{d} {start} INFO   Operating system: Cisco IP Telephony Server OS {os_v} "
                 f"(Windows 2000 SP4)")
    for t, text in extra:
        lines.append(f"{d} {t} {text}")
    if failed:
        lines.append(f"{d} {end} ERROR  Upgrade FAILED at step 3 of 3")
    else:
        lines.append(f"{d} {end} INFO   Upgrade completed successfully")
    (logs / "CCMUpgrade_031905.log").write_bytes(("\r\n".join(lines) + "\r\n").encode())
    summary = [f"Server          : {host}" if name_host else "Server          : ?",
               f"Current version : {final}", ""]
    (root / "C" / "UpgradeSummary.txt").write_bytes("\r\n".join(summary).encode())
    return root


def cluster_json(*args):
    code, d, err = triage_json(*args)
    return code, d, {c["name"] for c in d["checks"]}, err


class Cluster(unittest.TestCase):
    def test_the_fixture_cluster(self):
        bundles = sorted((FIXTURES / "cluster").iterdir())
        code, d, names, err = cluster_json(*bundles)
        self.assertEqual(code, 1, err)
        self.assertEqual(d["verdict"], "failed")
        self.assertEqual([s["host"] for s in d["servers"]], ["PUB01", "TFTP01", "SUB01", "SUB02"])
        self.assertEqual(d["cluster"]["order"], ["PUB01", "TFTP01", "SUB01", "SUB02"])
        self.assertEqual([s["role"] for s in d["servers"]],
                         ["publisher", "tftp", "subscriber", "subscriber"])
        self.assertEqual([s["verdict"] for s in d["servers"]],
                         ["succeeded", "succeeded", "succeeded", "failed"])
        sub02 = d["servers"][3]
        row = next(r for r in expectations() if r["fixture"] == "cluster/sub02")
        self.assertEqual(sub02["root_cause"]["file"],
                         str(FIXTURES / "cluster" / "sub02" / row["root_file"]))
        self.assertEqual(sub02["root_cause"]["line"], int(row["root_line"]))
        self.assertEqual(sub02["root_cause"]["code"], "1920")
        self.assertEqual((sub02["from_version"], sub02["to_version"], sub02["final_version"]),
                         ("3.3(4)", "4.0(1)", "3.3(4)"))
        self.assertEqual(len(sub02["candidates"]), 3)
        self.assertTrue(all(s["started"] and s["finished"] for s in d["servers"]))
        self.assertEqual(names, {"upgrade-order", "domain-controller", "mixed-versions"})
        order = next(c for c in d["checks"] if c["name"] == "upgrade-order")
        self.assertEqual((order["severity"], order["host"], order["hosts"]),
                         ("error", "TFTP01", ["TFTP01", "PUB01"]))
        self.assertTrue(order["file"].endswith("tftp01/" + str(CISCO_LOGS / "CCMUpgrade_031905.log")))
        self.assertIsInstance(order["line"], int)
        self.assertEqual(order["evidence"], "inferred")
        dc = next(c for c in d["checks"] if c["name"] == "domain-controller")
        self.assertEqual((dc["host"], dc["evidence"]), ("SUB02", "verified"))
        self.assertIn("ccminst_031905_", dc["file"])
        for c in d["checks"]:
            self.assertTrue(c["advice"] and c["text"])
        # every file names its server
        self.assertTrue(all(f["host"] for f in d["files"]))

    def test_the_fixture_cluster_as_text(self):
        code, out, err = run("triage", *sorted((FIXTURES / "cluster").iterdir()))
        self.assertEqual(code, 1, err)
        self.assertTrue(out.startswith("FAILED  4 servers"), out)
        for host in ("PUB01", "TFTP01", "SUB01", "SUB02"):
            self.assertRegex(out, rf"(?m)^{host} \xb7 ")
            self.assertRegex(out, rf"(?m)^  {host} +\w+ +2005-03-19T")
        self.assertIn("SUB02 failed at 2005-03-19T", out)
        self.assertIn("stays on 3.3(4)", out)
        self.assertIn("[error] upgrade-order (TFTP01,PUB01)", out)
        self.assertIn("[error] domain-controller (SUB02)", out)
        self.assertIn("[error] mixed-versions", out)

    def test_servers_and_checks_tables(self):
        with tempfile.TemporaryDirectory() as t:
            db = f"{t}/c.db"
            code, _, err = run("scan", "--db", db, *sorted((FIXTURES / "cluster").iterdir()))
            self.assertEqual(code, 1, err)
            con = sqlite3.connect(db)
            self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 2)
            rows = con.execute("SELECT host, role, outcome, from_version, final_version"
                               " FROM servers ORDER BY started").fetchall()
            self.assertEqual(rows, [("PUB01", "publisher", "succeeded", "3.3(4)", "4.0(1)"),
                                    ("TFTP01", "tftp", "succeeded", "3.3(4)", "4.0(1)"),
                                    ("SUB01", "subscriber", "succeeded", "3.3(4)", "4.0(1)"),
                                    ("SUB02", "subscriber", "failed", "3.3(4)", "3.3(4)")])
            failed = con.execute("SELECT host, line, text FROM v_failed_servers").fetchall()
            self.assertEqual(len(failed), 1)
            self.assertEqual(failed[0][0], "SUB02")
            self.assertIn("Error 1920.", failed[0][2])
            checks = {r[0] for r in con.execute("SELECT name FROM v_checks")}
            self.assertEqual(checks, {"upgrade-order", "domain-controller", "mixed-versions"})
            self.assertEqual(con.execute("SELECT count(*) FROM files WHERE host IS NULL")
                             .fetchone()[0], 0)
            self.assertEqual(con.execute("SELECT count(*) FROM verdicts WHERE host IS NULL")
                             .fetchone()[0], 0)
            self.assertEqual(sorted(r[0] for r in con.execute("SELECT host FROM sources")),
                             ["PUB01", "SUB01", "SUB02", "TFTP01"])
            self.assertEqual(con.execute("SELECT v.host FROM verdicts v JOIN files f ON"
                                         " f.id = v.file_id WHERE f.path LIKE '%ccminst%'"
                                         " AND f.path LIKE '%/sub02/%'").fetchone()[0], "SUB02")

    def test_root_cause_is_the_earlier_failure(self):
        # Two logs of one server fail at two times: the earlier one is the cause.
        with tempfile.TemporaryDirectory() as t:
            root = ccm_server(pathlib.Path(t) / "sub05", "SUB05", "20:00:00", "20:50:00",
                              failed=True,
                              extra=[("20:10:00", "ERROR  Cannot connect to database CCM0300 on PUB01")])
            early = root / CISCO_LOGS / "DBInst_031905.log"
            early.write_bytes(b"03/19/2005 20:05:00 DBInstall 4.0(1) started\r\n"
                              b"[20:05:02.200] ERROR StartService(MSSQLSERVER) failed: error 1069:"
                              b" The service did not start due to a logon failure.\r\n")
            code, d, _, err = cluster_json(root)
            self.assertEqual(code, 1, err)
            rc = d["servers"][0]["root_cause"]
            self.assertEqual(rc["file"], str(early))
            self.assertEqual(rc["line"], 2)

    def test_each_check_fires_and_not(self):
        def cluster(t, **over):
            base = pathlib.Path(t)
            specs = {
                "PUB01": dict(start="20:00:00", end="21:00:00", role="Publisher"),
                "SUB01": dict(start="21:10:00", end="21:40:00"),
                "SUB02": dict(start="21:50:00", end="22:20:00"),
            }
            for host, o in over.items():
                specs[host].update(o)
            return [ccm_server(base / h.lower(), h, **s) for h, s in specs.items()]

        with tempfile.TemporaryDirectory() as t:
            code, d, names, err = cluster_json(*cluster(t))
            self.assertEqual((code, names), (0, set()), (err, d["checks"]))
            self.assertEqual(d["verdict"], "succeeded")
        cases = [
            ("upgrade-order", dict(SUB01=dict(start="20:30:00")), "error"),
            ("concurrent-upgrade", dict(SUB02=dict(start="21:30:00")), "warning"),
            ("mixed-versions", dict(SUB02=dict(final="3.3(4)")), "error"),
            ("os-version", dict(SUB01=dict(os_v="2000.2.4sr4")), "error"),
            ("source-version", dict(PUB01=dict(from_v="3.1(4)")), "error"),
            ("terminal-services", dict(SUB01=dict(extra=[(
                "21:10:05", "WARN   Terminal Services session detected; upgrade is not "
                "supported from a remote session")])), "warning"),
            ("vnc", dict(SUB01=dict(extra=[(
                "21:10:05", "INFO   Remote session: WinVNC 3.3.7 server running, 1 viewer "
                "connected")])), "info"),
            ("security-policy", dict(SUB02=dict(extra=[(
                "21:50:05", "WARN   McAfee VirusScan service is running; it must be disabled "
                "before the upgrade")])), "warning"),
            ("configuration-during-upgrade", dict(PUB01=dict(extra=[(
                "21:20:00", "WARN   CCMAdmin: device SEP000C85A1B2C3 updated by user admin")])),
             "warning"),
        ]
        for name, over, severity in cases:
            with self.subTest(check=name), tempfile.TemporaryDirectory() as t:
                code, d, names, err = cluster_json(*cluster(t, **over))
                self.assertEqual(names, {name}, d["checks"])
                c = d["checks"][0]
                self.assertEqual(c["severity"], severity)
                self.assertTrue(c["file"] and c["line"] >= 1 and c["text"] and c["advice"])
                self.assertEqual(c["evidence"], "inferred")
                self.assertEqual(code, 1 if severity == "error" else 0, err)
        # the near misses: a supported OS and source release, a change after the upgrade
        near = [dict(SUB01=dict(os_v="2000.2.5sr2")), dict(PUB01=dict(from_v="3.2(3)")),
                dict(PUB01=dict(extra=[("19:59:00", "INFO   CCMAdmin: no changes")])),
                dict(SUB02=dict(extra=[("22:25:00", "WARN   CCMAdmin: route pattern 9.@ "
                                                    "updated by user admin")]))]
        for over in near:
            with self.subTest(near=over), tempfile.TemporaryDirectory() as t:
                code, d, names, err = cluster_json(*cluster(t, **over))
                self.assertEqual((code, names), (0, set()), d["checks"])
        # the maintenance window: 2h20m of upgrades
        with tempfile.TemporaryDirectory() as t:
            bundles = cluster(t)
            _, _, names, _ = cluster_json(*bundles)
            self.assertNotIn("maintenance-window", names)
            code, d, names, _ = cluster_json("--window", "2h", *bundles)
            self.assertEqual(names, {"maintenance-window"})
            self.assertEqual(code, 0)
            self.assertIn("2h20m", d["checks"][0]["text"])

    def test_roles_from_evidence_and_options(self):
        with tempfile.TemporaryDirectory() as t:
            pub = ccm_server(pathlib.Path(t) / "a", "CM1", "20:00:00", "21:00:00", role=None)
            bars = pub / CISCO_LOGS / "BARS" / "Backup"
            bars.mkdir(parents=True)
            (bars / "stiBackup_031905.log").write_bytes(
                b"Sat Mar 19 19:30:05 2005 : Cisco IP Telephony Applications Backup Utility "
                b"4.0.7 - backup started\r\nSat Mar 19 19:30:06 2005 : Backup server: CM1   "
                b"Storage location: D:\\Backup (local directory)\r\n"
                b"Sat Mar 19 19:50:00 2005 : Backup completed successfully\r\n")
            sub = ccm_server(pathlib.Path(t) / "b", "CM2", "20:30:00", "21:30:00", role=None)
            (sub / CISCO_LOGS / "ServPrep_031905.log").write_bytes(
                b"3/19/2005 8:30:05 PM  ServPrep 4.0(1): preparing CM2 for the Cisco CallManager"
                b" upgrade\r\n3/19/2005 8:30:09 PM  Stopping service 'Cisco CallManager'\r\n")
            code, d, names, _ = cluster_json(pub, sub)
            roles = {s["host"]: (s["role"], s["role_evidence"]) for s in d["servers"]}
            self.assertEqual(roles["CM1"][0], "publisher")
            self.assertIn("Backup Utility", roles["CM1"][1])
            self.assertEqual(roles["CM2"][0], "subscriber")
            self.assertIn("ServPrep", roles["CM2"][1])
            self.assertEqual(names, {"upgrade-order"})
            code, d, names, _ = cluster_json("--role", "CM2=publisher", "--role", "cm1=tftp",
                                             pub, sub)
            roles = {s["host"]: (s["role"], s["role_evidence"]) for s in d["servers"]}
            self.assertEqual(roles, {"CM1": ("tftp", "given with --role"),
                                     "CM2": ("publisher", "given with --role")})
            code, _, err = run("triage", "--role", "CM2", pub)
            self.assertEqual(code, 2)
            self.assertIn("--role", err)
            code, _, err = run("triage", "--window", "soon", pub)
            self.assertEqual(code, 2)
            self.assertIn("--window", err)

    def test_host_from_option_name_and_label(self):
        with tempfile.TemporaryDirectory() as t:
            a = ccm_server(pathlib.Path(t) / "sub07-logs", "X", "20:00:00", "20:30:00",
                           name_host=False)
            _, d, _, _ = cluster_json(a)
            self.assertEqual([s["host"] for s in d["servers"]], ["SUB07"])
            _, d, _, _ = cluster_json("--host", "CM9", a)
            self.assertEqual([s["host"] for s in d["servers"]], ["CM9"])
            # a host the logs name wins over --host and over the input's name
            b = ccm_server(pathlib.Path(t) / "whatever-01", "SUB08", "20:00:00", "20:30:00")
            _, d, _, _ = cluster_json("--host", "CM9", b)
            self.assertEqual([s["host"] for s in d["servers"]], ["SUB08"])
            log = (a / CISCO_LOGS / "CCMUpgrade_031905.log").read_bytes()
            db = f"{t}/s.db"
            for label in ("sub11-upgrade.log", "sub12-upgrade.log"):
                code, _, err = run("scan", "--db", db, "--label", label, "-", stdin=log)
                self.assertEqual(code, 0, err)
            con = sqlite3.connect(db)
            rows = con.execute("SELECT path, host, host_from FROM files ORDER BY path").fetchall()
            self.assertEqual(rows, [("stdin:sub11-upgrade.log", "SUB11", "name"),
                                    ("stdin:sub12-upgrade.log", "SUB12", "name")])

    def test_a_version_1_database_upgrades_in_place(self):
        v1 = (SOURCE_ROOT / "tests" / "data" / "schema-v1.sql").read_text()
        with tempfile.TemporaryDirectory() as t:
            db = f"{t}/old.db"
            con = sqlite3.connect(db)
            con.executescript(v1)
            con.execute("INSERT INTO scans (started, tool_version, catalogue_hash, arguments)"
                        " VALUES ('2026-01-01T00:00:00Z', 'old', 'x', '[]')")
            con.commit()
            con.close()
            # read-only use says what to do
            code, _, err = run("query", "--db", db, "SELECT 1")
            self.assertEqual(code, 2)
            self.assertIn("v1", err)
            code, _, err = run("scan", "--db", db, FIXTURES / "cluster" / "sub01")
            self.assertEqual(code, 0, err)
            con = sqlite3.connect(db)
            self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 2)
            self.assertEqual(con.execute("SELECT tool_version FROM scans ORDER BY id")
                             .fetchone()[0], "old")
            self.assertEqual(con.execute("SELECT host, outcome FROM v_servers").fetchall(),
                             [("SUB01", "succeeded")])
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")


# What a database holds, without ids: rows point at each other by path and line.
CONTENT_SQL = [
    "SELECT path, kind, host, size, mtime, complete FROM sources ORDER BY path",
    "SELECT path, location, family, encoding, size, mtime, bytes, lines, cut_lines, replaced,"
    " hash, status, error, host, host_from FROM files ORDER BY path",
    "SELECT fi.path, f.line, f.offset, f.ts, f.rule_id, f.severity, f.level, f.code, f.action,"
    " f.text, f.title, f.captures, f.context_before, f.context_after FROM findings f"
    " JOIN files fi ON fi.id = f.file_id ORDER BY fi.path, f.line",
    "SELECT fi.path, h.rule_id, h.severity, h.count, h.first_line, h.last_line FROM rule_hits h"
    " JOIN files fi ON fi.id = h.file_id ORDER BY fi.path, h.rule_id",
    "SELECT fi.path, v.outcome, f.line, v.root_line, v.action, v.exit_code, v.reboot, v.reason,"
    " v.product, v.host, v.started, v.failed_at, v.finished FROM verdicts v"
    " JOIN files fi ON fi.id = v.file_id LEFT JOIN findings f ON f.id = v.finding_id"
    " ORDER BY fi.path",
    "SELECT fi.path, c.rank, c.line, f.line, c.reason FROM candidates c"
    " JOIN verdicts v ON v.id = c.verdict_id JOIN files fi ON fi.id = v.file_id"
    " LEFT JOIN findings f ON f.id = c.finding_id ORDER BY fi.path, c.rank",
    "SELECT fi.path, x.key, x.value, x.line, x.ts FROM facts x JOIN files fi ON fi.id = x.file_id"
    " ORDER BY fi.path, x.line, x.key",
    "SELECT * FROM v_servers ORDER BY host",
    "SELECT * FROM v_checks ORDER BY name, hosts, text",
]


def content(db):
    """Every row of `db` that does not depend on ids or on when it was written."""
    con = sqlite3.connect(db)
    try:
        return [con.execute(sql).fetchall() for sql in CONTENT_SQL]
    finally:
        con.close()


class Merge(unittest.TestCase):
    """upglog merge: shards scanned apart, merged, equal one scan of all their inputs."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        t = cls.tmp.name
        cls.inputs = [FIXTURES / "cluster" / "pub01", FIXTURES / "cluster" / "sub01"]
        cls.shards = [f"{t}/pub01.db", f"{t}/sub01.db"]
        for shard, inp in zip(cls.shards, cls.inputs):
            code, _, err = run("scan", "--quiet", "--db", shard, inp)
            assert code in (0, 1), err
        cls.single = f"{t}/single.db"
        cls.single_code, _, err = run("scan", "--quiet", "--db", cls.single, *cls.inputs)
        assert cls.single_code in (0, 1), err
        cls.target = f"{t}/target.db"
        cls.merge_code, _, cls.merge_err = run("merge", "--db", cls.target, *cls.shards)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_merge_of_two_shards_equals_one_scan_of_both(self):
        self.assertEqual(self.merge_code, self.single_code, self.merge_err)
        self.assertIn(f"created the database {self.target}", self.merge_err)
        self.assertIn("merged 2 of 2 shards", self.merge_err)
        want, got = content(self.single), content(self.target)
        for sql, w, g in zip(CONTENT_SQL, want, got):
            self.assertEqual(g, w, sql)
        self.assertEqual([h for h, *_ in got[-2]], ["PUB01", "SUB01"])
        # upglog query gives the same rows
        for sql in ("SELECT host, role, outcome, reason, file, line FROM v_servers",
                    "SELECT file, outcome, reason FROM v_failures ORDER BY file",
                    "SELECT rule_id, sum(count) FROM rule_hits GROUP BY rule_id ORDER BY 1"):
            a = run("query", "--db", self.single, "--format", "json", sql)
            b = run("query", "--db", self.target, "--format", "json", sql)
            self.assertEqual(b, a, sql)
        # and triage --db the same report, in every format
        for fmt in ("text", "json", "markdown", "jsonl"):
            ca, a, ea = run("triage", "--db", self.single, "--format", fmt)
            cb, b, eb = run("triage", "--db", self.target, "--format", fmt)
            self.assertEqual(cb, ca, eb)
            self.assertEqual(b.replace(self.target, "DB"), a.replace(self.single, "DB"), fmt)

    def test_each_shard_keeps_its_scan(self):
        con = sqlite3.connect(self.target)
        scans = con.execute("SELECT id, started, finished, tool_version, catalogue_hash,"
                            " arguments FROM scans ORDER BY id").fetchall()
        servers = con.execute("SELECT scan_id, host FROM servers ORDER BY scan_id, host")\
            .fetchall()
        con.close()
        self.assertEqual(len(scans), 3)
        for i, shard in enumerate(self.shards):
            con = sqlite3.connect(shard)
            own = con.execute("SELECT started, finished, tool_version, catalogue_hash,"
                              " arguments FROM scans").fetchone()
            con.close()
            self.assertEqual(scans[i][1:], own)
        # the merge's own scan: its command line, and the whole cluster
        self.assertEqual(json.loads(scans[2][5])[0], "merge")
        self.assertEqual(servers, [(1, "PUB01"), (2, "SUB01"), (3, "PUB01"), (3, "SUB01")])

    def test_the_same_shard_twice_adds_no_file(self):
        with tempfile.TemporaryDirectory() as t:
            db = f"{t}/t.db"
            shutil.copy(self.target, db)
            before = content(db)
            code, _, err = run("merge", "--db", db, self.shards[0], self.shards[0])
            self.assertEqual(code, self.single_code, err)
            self.assertIn("0 files copied", err)
            self.assertIn("already present", err)
            after = content(db)
            self.assertEqual(after[:7], before[:7])
            con = sqlite3.connect(db)
            self.assertEqual(con.execute("SELECT count(*) FROM scans").fetchone()[0], 3 + 3)
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            con.close()

    def test_bad_shards_are_named_and_the_rest_merged(self):
        with tempfile.TemporaryDirectory() as t:
            missing = f"{t}/missing.db"
            text = f"{t}/notes.db"
            pathlib.Path(text).write_bytes(b"not a database\r\n")
            foreign = f"{t}/inventory.db"
            con = sqlite3.connect(foreign)
            con.execute("CREATE TABLE inventory (host TEXT)")
            con.close()
            newer = f"{t}/newer.db"
            shutil.copy(self.shards[1], newer)
            con = sqlite3.connect(newer)
            con.execute("PRAGMA user_version = 9")
            con.close()
            old = f"{t}/old.db"
            con = sqlite3.connect(old)
            con.executescript((SOURCE_ROOT / "tests" / "data" / "schema-v1.sql").read_text())
            con.execute("INSERT INTO scans (started, finished, tool_version, catalogue_hash,"
                        " arguments) VALUES ('2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z',"
                        " 'old', 'x', '[]')")
            con.commit()
            con.close()
            db = f"{t}/t.db"
            bad = {missing: "No such file", text: "not a database", foreign: "not an upglog",
                   newer: "newer than this upglog", old: "upgrade the shard first", t: "folder"}
            code, _, err = run("merge", "--db", db, *bad, self.shards[0])
            self.assertEqual(code, 3, err)
            lines = err.splitlines()
            for shard, why in bad.items():
                said = [ln for ln in lines if ln.startswith(f"upglog: {shard}: ")]
                self.assertEqual(len(said), 1, (shard, err))
                self.assertIn(why, said[0])
            self.assertIn(f"merged 1 of {len(bad) + 1} shards", err)
            self.assertEqual(content(db)[1], content(self.shards[0])[1])
            # the old shard merges once upgraded, as the message says
            code, _, err = run("query", "--write", "--db", old, "SELECT 1")
            self.assertEqual(code, 0, err)
            code, _, err = run("merge", "--db", db, old)
            self.assertEqual(code, 0, err)
            self.assertIn("merged 1 of 1 shard into", err)
            con = sqlite3.connect(db)
            self.assertEqual(con.execute("SELECT tool_version FROM scans ORDER BY id DESC")
                             .fetchone()[0], "old")
            con.close()

    def test_usage(self):
        code, _, err = run("merge", "--db", f"{self.tmp.name}/x.db")
        self.assertEqual(code, 2)
        self.assertIn("give at least one SHARD", err)
        self.assertFalse(os.path.exists(f"{self.tmp.name}/x.db"))
        code, _, err = run("merge", "--db", self.target, self.shards[0], "--quiet")
        self.assertEqual(err, "")

    def test_concurrent_merges_and_a_scan(self):
        """Four merges and a scan writing one new database at once: nothing lost, no
        duplicate, the database intact."""
        with tempfile.TemporaryDirectory() as t:
            names = ["pub01", "sub01", "sub02", "tftp01"]
            shards = []
            for n in names:
                shards.append(f"{t}/{n}.db")
                code, _, err = run("scan", "-q", "--db", shards[-1], FIXTURES / "cluster" / n)
                self.assertIn(code, (0, 1), err)
            db = f"{t}/fleet.db"
            procs = [subprocess.Popen([UPGLOG, "merge", "-q", "--db", db, s, shards[0]],
                                      stderr=subprocess.PIPE) for s in shards]
            procs.append(subprocess.Popen([UPGLOG, "scan", "-q", "--db", db,
                                           FIXTURES / "cluster" / "sub02"],
                                          stderr=subprocess.PIPE))
            for p in procs:
                _, err = p.communicate(timeout=TIMEOUT)
                self.assertIn(p.returncode, (0, 1), err)
            one = f"{t}/one.db"
            run("scan", "-q", "--db", one, *[FIXTURES / "cluster" / n for n in names])
            self.assertEqual(content(db)[1:7], content(one)[1:7])
            con = sqlite3.connect(db)
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            # 4 merges x (2 shard scans + their own) + the scan
            self.assertEqual(con.execute("SELECT count(*) FROM scans").fetchone()[0], 13)
            con.close()


class ClusterManners(unittest.TestCase):
    """The cluster options and output with the command-line habits: option tables, --quiet,
    the progress line, options after the inputs."""

    BUNDLES = sorted((FIXTURES / "cluster").iterdir())

    def test_quiet_cluster_prints_nothing_and_exits_with_the_verdict(self):
        code, out, err = run("triage", "-q", *self.BUNDLES)
        self.assertEqual((code, out, err), (1, "", ""))
        # All servers succeeded, but a check of severity error (upgrade-order) fired.
        code, out, err = run("triage", "--quiet", *self.BUNDLES[:3])
        self.assertEqual((code, out, err), (1, "", ""))
        code, out, err = run("triage", "-q", FIXTURES / "cluster" / "pub01")
        self.assertEqual((code, out, err), (0, "", ""))
        with tempfile.TemporaryDirectory() as d:
            code, out, err = run("triage", "-qf", "json", "-o", f"{d}/r.json", *self.BUNDLES)
            self.assertEqual((code, out, err), (1, "", ""))
            r = json.loads(pathlib.Path(f"{d}/r.json").read_text())
            self.assertEqual([s["host"] for s in r["servers"]],
                             ["PUB01", "TFTP01", "SUB01", "SUB02"])
            self.assertEqual(r["cluster"]["verdict"], "failed")
            # Again from the database, with other options, still quiet.
            code, _, _ = run("scan", "-q", "-d", f"{d}/c.db", *self.BUNDLES)
            self.assertEqual(code, 1)
            code, out, err = run("triage", "-q", "-d", f"{d}/c.db", "--window", "2h")
            self.assertEqual((code, out, err), (1, "", ""))
            # A usage error is still said.
            code, out, err = run("triage", "-q", "-d", f"{d}/c.db", "--window", "soon")
            self.assertEqual((code, out), (2, ""))
            self.assertIn("--window", err)

    def test_progress_then_the_cluster_report(self):
        code, out, err = run_on_terminal("triage", *self.BUNDLES)
        self.assertEqual(code, 1, err)
        self.assertIn("files \xb7", err)  # folders: no percentage, files so far
        self.assertNotIn("%", err)
        self.assertTrue(out.startswith("FAILED  4 servers"), out)
        self.assertNotIn("\r", out)
        self.assertIn("[error] upgrade-order (TFTP01,PUB01)", out)
        code, out, err = run_on_terminal("triage", "-q", *self.BUNDLES)
        self.assertEqual((code, out, err), (1, "", ""))

    def test_cluster_options_in_any_place_and_spelling(self):
        # after the inputs, with =, a value that holds '=' itself
        code, d, err = triage_json(*self.BUNDLES, "--role=TFTP01=services", "--window=2h")
        self.assertEqual(code, 1, err)
        roles = {s["host"]: (s["role"], s["role_evidence"]) for s in d["servers"]}
        self.assertEqual(roles["TFTP01"], ("services", "given with --role"))
        self.assertIn("maintenance-window", {c["name"] for c in d["checks"]})
        # repeatable: both are taken
        code, d, err = triage_json("--role", "SUB01=secondary", *self.BUNDLES,
                                   "--role", "SUB02=secondary")
        self.assertEqual(code, 1, err)
        roles = {s["host"]: s["role"] for s in d["servers"]}
        self.assertEqual((roles["SUB01"], roles["SUB02"]), ("secondary", "secondary"))
        # spelt in full; a typo gets a suggestion
        code, _, err = run("triage", "--rol", "SUB01=tftp", *self.BUNDLES)
        self.assertEqual(code, 2)
        self.assertIn("--role", err)
        code, _, err = run("scan", "--windw", "2h", *self.BUNDLES)
        self.assertEqual(code, 2)
        self.assertIn("did you mean '--window'", err)
        code, _, err = run("triage", *self.BUNDLES, "--host")
        self.assertEqual(code, 2)
        self.assertIn("--host", err)
        # stdin with its label, the option after the -
        log = (FIXTURES / "msi-modern-failed.log").read_bytes()
        p = subprocess.run([UPGLOG, "triage", "-f", "json", "-", "--label", "APP07"],
                           input=log, capture_output=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 1, p.stderr)
        files = json.loads(p.stdout)["files"]
        self.assertEqual([f["path"] for f in files], ["stdin:APP07"])

    def test_help_and_man_page_name_the_cluster_options(self):
        for cmd in ("scan", "triage"):
            code, out, _ = run(cmd, "--help")
            self.assertEqual(code, 0)
            for o in ("--host NAME", "--label NAME", "--role HOST=ROLE", "--window DURATION"):
                self.assertIn(o, out)
            self.assertRegex(out, r"--role HOST=ROLE[^\n]*\n(?:  +[^\n]*\n)*?.*\(repeatable\)")


ISO_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?(Z|[+-]\d\d:\d\d)?$")
JSONL_FIELDS = {"kind", "id", "ts", "host", "file", "line", "severity", "level", "rule", "code",
                "action", "title", "text"}


def cluster_inputs():
    return sorted((FIXTURES / "cluster").iterdir())


class Formats(unittest.TestCase):
    """Each output format of the triage, for its shape (html: tests/html_test.py)."""

    def check_jsonl(self, out):
        kinds = {}
        types = {}
        for n, line in enumerate(out.splitlines(), 1):
            o = json.loads(line)  # one object per line
            self.assertIsInstance(o, dict)
            for k, v in o.items():  # flat: no nesting
                self.assertNotIsInstance(v, (dict, list), f"line {n}: {k}")
                if v is not None:
                    types.setdefault(k, set()).add(type(v).__name__)
            kinds.setdefault(o["kind"], []).append(o)
            if o["kind"] != "check":
                self.assertTrue(JSONL_FIELDS <= set(o), f"line {n}: {sorted(o)}")
            if o["ts"] is not None:
                self.assertRegex(o["ts"], ISO_TS)
        # ids name each event once
        ids = [o["id"] for v in kinds.values() for o in v]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertTrue(all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids))
        # one type per field, numbers as numbers
        self.assertEqual({k: v for k, v in types.items() if len(v) > 1}, {})
        for k in ("line", "level", "code"):
            self.assertEqual(types.get(k, {"int"}), {"int"}, k)
        return kinds

    def test_jsonl_triage(self):
        code, out, err = run("triage", "--format", "jsonl", *cluster_inputs())
        self.assertEqual(code, 1, err)
        kinds = self.check_jsonl(out)
        self.assertEqual(len(kinds["server"]), 4)
        self.assertEqual(len(kinds["verdict"]), 16)
        self.assertEqual(sorted(c["rule"] for c in kinds["check"]),
                         ["domain-controller", "mixed-versions", "upgrade-order"])
        root = next(f for f in kinds["finding"] if f["line"] == 189 and
                    f["file"].endswith("ccminst_031905_223826.log"))
        self.assertEqual((root["host"], root["code"], root["severity"], root["level"]),
                         ("SUB02", 1920, "catastrophic", 4))
        self.assertEqual(root["ts"], "2005-03-19T23:05:48")
        sub02 = next(s for s in kinds["server"] if s["host"] == "SUB02")
        self.assertEqual((sub02["outcome"], sub02["line"], sub02["code"]), ("failed", 189, 1920))
        failed = [v for v in kinds["verdict"] if v["outcome"] == "failed"]
        self.assertTrue(failed and all(v["severity"] == "error" for v in failed))

    def test_jsonl_codes_in_hex_keep_their_text(self):
        log = ("[0F1C:0A2C][2024-05-02T10:11:12]i001: Burn v3.11.1.2318, Windows v10.0 (Build "
               "19045: Service Pack 0), path: C:\\Temp\\setup.exe\r\n"
               "[0F1C:0A2C][2024-05-02T10:11:12]e000: Error 0x80070005: Failed to begin "
               "registration session.\r\n"
               "[0F1C:0A2C][2024-05-02T10:11:13]i007: Exit code: 0x80070005, restarting: "
               "No\r\n").encode()
        code, out, err = run("triage", "--format", "jsonl", "--label", "ws01", "-", stdin=log)
        self.assertEqual(code, 1, err)
        kinds = self.check_jsonl(out)
        hexed = [o for v in kinds.values() for o in v if o.get("code_text")]
        self.assertGreaterEqual(len(hexed), 2)
        for o in hexed:
            self.assertEqual(o["host"], "WS01")
            self.assertEqual(o["code"], int(o["code_text"], 16))

    def test_jsonl_names_unreadable_files(self):
        code, out, err = run("triage", "--format", "jsonl", FIXTURES / "msi-modern-ok.log",
                             "/nonexistent/pub02.zip")
        self.assertEqual(code, 3)
        kinds = self.check_jsonl(out)
        bad = [v for v in kinds["verdict"] if v["file"] == "/nonexistent/pub02.zip"]
        self.assertEqual(len(bad), 1)
        self.assertEqual((bad[0]["status"], bad[0]["severity"]), ("unreadable", "error"))
        self.assertIn("No such file", bad[0]["text"])
        ok = [v for v in kinds["verdict"] if v["file"].endswith("msi-modern-ok.log")]
        self.assertEqual((ok[0]["outcome"], ok[0]["reboot"], ok[0]["code"]),
                         ("succeeded", True, 3010))

    def test_jsonl_scan_to_stdout_and_file(self):
        row = next(r for r in expectations() if r["verdict"] == "failed")
        with tempfile.TemporaryDirectory() as d:
            code, out, err = run("scan", "--db", f"{d}/s.db", "--format", "jsonl",
                                 FIXTURES / row["fixture"])
            self.assertEqual(code, 1, err)
            kinds = self.check_jsonl(out)
            self.assertIn("scanned", err)  # the summary stays on stderr
            con = sqlite3.connect(f"{d}/s.db")
            stored = con.execute("SELECT count(*) FROM findings WHERE level >= 1").fetchone()[0]
            self.assertEqual(len(kinds["finding"]), stored)
            code, out2, _ = run("scan", "--db", f"{d}/s.db", "-q", "--format", "jsonl", "-o",
                                f"{d}/s.jsonl", FIXTURES / row["fixture"])
            self.assertEqual((code, out2), (1, ""))
            # a second run of the same inputs: the same events, the same ids
            self.assertEqual(pathlib.Path(f"{d}/s.jsonl").read_text(), out)
            code, _, err = run("scan", "--db", f"{d}/s.db", "--format", "json", FIXTURES)
            self.assertEqual(code, 2)
            self.assertIn("jsonl", err)
            code, _, err = run("scan", "--db", f"{d}/s.db", "-o", f"{d}/x", FIXTURES)
            self.assertEqual(code, 2)

    def test_markdown(self):
        code, out, err = run("triage", "--format", "markdown", *cluster_inputs())
        self.assertEqual(code, 1, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], "## upglog triage: FAILED")
        table = [l for l in lines if l.startswith("| ")]
        self.assertEqual(table[0].split("|")[1].strip(), "server")
        self.assertEqual(len([l for l in table if re.match(r"\| (PUB01|TFTP01|SUB0[12]) \|", l)]),
                         4)
        # every table row has as many cells as its header
        fence = out.index("````text")
        block = out[fence:out.index("````", fence + 8)]
        self.assertIn("> 189 | Error 1920.", block)
        self.assertIn(" 188 | ", block)
        self.assertIn(" 190 | ", block)
        self.assertIn("**What to do**", out)
        self.assertIn("### Checks", out)
        for name in ("domain-controller", "mixed-versions", "upgrade-order"):
            self.assertRegex(out, rf"\| error \| {name} \|")
        code, out, _ = run("triage", "--format", "md", FIXTURES / "cisco-pub01-failed")
        self.assertIn("### Other failures (in time order)", out)
        rows = [l for l in out.splitlines() if re.match(r"\| \d{4}-", l)]
        self.assertGreater(len(rows), 3)
        self.assertEqual([r.split("|")[1].strip() for r in rows],
                         sorted(r.split("|")[1].strip() for r in rows))
        for r in rows:  # pipes inside text are escaped: every row has 6 cells
            self.assertEqual(len(re.split(r"(?<!\\)\|", r)), 8, r)

    def test_html_to_a_file(self):
        with tempfile.TemporaryDirectory() as d:
            code, out, err = run("triage", "--format", "html", "-o", f"{d}/r.html",
                                 FIXTURES / "msi-modern-ok.log")
            self.assertEqual((code, out), (0, ""), err)
            page = pathlib.Path(f"{d}/r.html").read_text()
            self.assertTrue(page.startswith("<!DOCTYPE html>"))
            self.assertIn("SUCCEEDED", page)
            self.assertIn("restart pending", page)
            self.assertNotIn("<script", page)

    def test_cancelled_in_every_format(self):
        # The first run of the InstallShield suite fixture alone: the user cancelled (0x642).
        # A cancelled setup is counted apart from failed ones and named in every format.
        text = (FIXTURES / "installshield-suite-retry.log").read_bytes().decode("utf-16")
        end = text.index("\n", text.index("State manager: removing state info")) + 1
        with tempfile.TemporaryDirectory() as d:
            log = pathlib.Path(d) / "setup.log"
            log.write_bytes(text[:end].encode("utf-16"))
            code, out, err = run("triage", log)
            self.assertEqual(code, 1, err)
            self.assertTrue(out.startswith("CANCELLED"), out)
            self.assertIn("read: 0 failed, 1 cancelled, 0 incomplete", out)
            code, out, _ = run("triage", "-f", "json", log)
            doc = json.loads(out)
            self.assertEqual((code, doc["verdict"]), (1, "cancelled"))
            # the cause is the cancel question, a warning: its lines around it are kept too
            ctx = doc["root_cause"]["context"]
            self.assertEqual((len(ctx["before"]), len(ctx["after"])), (3, 3), doc["root_cause"])
            self.assertEqual([(f["verdict"], f["exit_code"], f["root_cause"]["line"])
                              for f in doc["failures"]], [("cancelled", 1602, 28)])
            code, out, _ = run("triage", "-f", "jsonl", log)
            kinds = self.check_jsonl(out)
            self.assertEqual([(o["outcome"], o["severity"]) for o in kinds["verdict"]],
                             [("cancelled", "error")])
            self.assertEqual([o["outcome"] for o in kinds["server"]], ["cancelled"])
            code, out, _ = run("triage", "-f", "md", log)
            self.assertEqual(out.splitlines()[0], "## upglog triage: CANCELLED")
            self.assertIn("| **cancelled** |", out)
            self.assertIn("1 file read: 0 failed, 1 cancelled,", out)
            code, out, _ = run("triage", "-f", "html", "-o", f"{d}/r.html", log)
            page = pathlib.Path(f"{d}/r.html").read_text()
            self.assertEqual((code, out), (1, ""))
            self.assertIn('id="verdict">CANCELLED<', page)
            self.assertIn('<span class="badge o-cancelled">cancelled</span>', page)
            self.assertRegex(page, r'<p id="file-counts">1 file read: 0 failed, 1 cancelled,')

    def test_every_listed_format_is_handled(self):
        # The option table lists the values (--help, man page, completions); each needs its
        # branch in the command, else it is refused as "not handled". Values from the table,
        # as the fish completions print them.
        fish = run("--generate", "complete-fish")[1]
        listed = {m.group(1): m.group(2).split() for m in re.finditer(
            r"__fish_seen_subcommand_from (\w+)' -s f -l format -x -a '([^']*)'", fish)}
        self.assertEqual(listed["triage"], ["text", "json", "jsonl", "html", "markdown", "md"])
        self.assertEqual(listed["scan"], ["jsonl"])
        log = FIXTURES / "msi-modern-ok.log"
        with tempfile.TemporaryDirectory() as d:
            for cmd, args in (("triage", [log]), ("scan", ["-q", "-d", f"{d}/f.db", log]),
                              ("explain", ["1603"])):
                for value in listed[cmd]:
                    with self.subTest(cmd=cmd, format=value):
                        code, out, err = run(cmd, "--format", value, *args)
                        self.assertEqual(code, 0, err)
                        self.assertTrue(out)
                        self.assertNotIn("not handled", err)

    def test_unknown_format_names_the_choices(self):
        code, _, err = run("triage", "--format", "yaml", FIXTURES / "msi-modern-ok.log")
        self.assertEqual(code, 2)
        # The option table checks the value and names every one it takes (md too).
        self.assertIn("text, json, jsonl, html, markdown or md", err)


class TextReport(unittest.TestCase):
    """The text report's contract: failures in time order, labels true to the rule, reasons,
    restart pending, hints that lead somewhere."""

    def other_failures(self, out):
        part = out.split("Other failures", 1)[1].split("\n\n", 1)[0]
        return [l for l in part.splitlines()[1:] if l.startswith("  ") and "..." not in l[:6]]

    def test_other_failures_in_time_order_with_rule(self):
        code, out, _ = run("triage", FIXTURES / "cisco-pub01-failed")
        self.assertEqual(code, 1)
        rows = self.other_failures(out)
        self.assertGreater(len(rows), 3)
        times = [r.split()[0] for r in rows]
        self.assertEqual(times, sorted(times))
        # the WARN line: labelled with the severity its rule gives, and the rule named
        warn = next(r for r in rows if "WARN  StartService" in r)
        self.assertIn("[error windows.service-logon-1069]", warn)

    def test_ignored_errors_apart_on_success(self):
        code, out, _ = run("triage", FIXTURES / "msi-modern-ok.log")
        self.assertEqual(code, 0)
        self.assertEqual(self.other_failures(out), ["  none"])
        ignored = out.split("Ignored errors", 1)[1]
        self.assertIn("CA_CheckSpoolerVersion", ignored.split("\nFiles")[0])
        self.assertIn("restart pending", out.split("\n")[3])  # on the server's line
        self.assertRegex(out, r"msi-modern-ok.log: succeeded, .*3010.*; restart pending")

    def test_every_unknown_or_incomplete_file_says_why(self):
        code, out, _ = run("triage", FIXTURES / "cisco-pub01-failed")
        files = out.split("\nFiles", 1)[1].split("\nHidden")[0].splitlines()[1:]
        unknown = [l for l in files if ": unknown, " in l]
        self.assertEqual(len(unknown), 2)
        for l in unknown:
            self.assertRegex(l, r": unknown, \w+")

    def test_hint_names_the_database(self):
        with tempfile.TemporaryDirectory() as d:
            code, out, _ = run("triage", "--db", f"{d}/h.db", FIXTURES / "cisco-pub01-failed")
            self.assertIn(f"upglog query --db {d}/h.db", out)
            hint = re.search(r'upglog query --db (\S+) "([^"]+)"', out)
            code, rows, err = run("query", "--db", hint.group(1), hint.group(2))
            self.assertEqual(code, 0, err)
            self.assertIn("ERROR", rows)
        code, out, _ = run("triage", FIXTURES / "cisco-pub01-failed")
        self.assertIn("add --db", out)  # in memory: say how to keep one

    def test_role_line_reads_as_prose(self):
        code, out, _ = run("triage", *sorted((FIXTURES / "cluster").iterdir()))
        self.assertIn("PUB01 \u00b7 publisher (stated in CCMUpgrade_031905.log:6) \u00b7 SUCCEEDED",
                      out)
        for line in out.splitlines():
            if " \u00b7 publisher " in line or " \u00b7 subscriber " in line:
                self.assertNotIn("((", line)
        code, out, _ = run("triage", "--role", "PUB01=publisher", FIXTURES / "cisco-pub01-ok")
        self.assertIn("PUB01 \u00b7 publisher (given with --role) \u00b7 SUCCEEDED", out)

    def test_a_server_whose_logs_could_not_be_read_says_so(self):
        with tempfile.TemporaryDirectory() as d:
            missing = pathlib.Path(d) / "sub09-logs.zip"
            code, out, err = run("triage", missing, FIXTURES / "sql2000-failed")
            self.assertEqual(code, 3, err)
            self.assertIn("SUB09: its log could not be read (", out)
            self.assertNotIn("SUB09: no log says", out)
            self.assertIn("No such file or directory", err)

    def test_an_unwritable_output_is_refused_before_the_scan(self):
        one = FIXTURES / "sql2000-failed"
        with tempfile.TemporaryDirectory() as d:
            for cmd in (["scan", "-f", "jsonl", "-o", f"{d}/no/such/x.jsonl", "--db",
                         f"{d}/s.db", one],
                        ["triage", "-f", "html", "-o", d, "--db", f"{d}/t.db", one]):
                code, out, err = run(*cmd)
                self.assertEqual((code, out), (2, ""), cmd)
                self.assertRegex(err, r"cannot write: (No such file or directory|Is a directory)")
                self.assertNotIn("scanned", err)  # nothing was read, no database made
                self.assertEqual(sorted(os.listdir(d)), [])

    def test_counts_of_one_are_singular(self):
        # sql2000-failed: one file, one harmless line; every report and the summary say so
        one = FIXTURES / "sql2000-failed"
        code, out, _ = run("triage", one)
        self.assertIn("Hidden      1 harmless line hidden:", out)
        self.assertIn("Files       1 read:", out)
        code, out, _ = run("triage", "-f", "md", one)
        self.assertIn("\n1 file read: 1 failed,", out)
        self.assertIn("; 1 harmless line hidden.", out)
        with tempfile.TemporaryDirectory() as d:
            code, out, _ = run("triage", "-f", "html", "-o", f"{d}/r.html", one)
            page = pathlib.Path(f"{d}/r.html").read_text()
            self.assertIn('<p id="file-counts">1 file read:', page)
            self.assertIn("<p>1 harmless line (lines that look like errors and are not) was "
                          "hidden.</p>", page)
            code, _, err = run("scan", "--db", f"{d}/s.db", one)
            self.assertRegex(err, r"scanned 1 file, .*, 23 lines .*: 6 findings, 1 failed")
        code, out, _ = run("triage", FIXTURES / "cisco-pub01-failed")
        self.assertRegex(out, r"\d+ harmless lines hidden")

    def test_table_keeps_the_file_name(self):
        with tempfile.TemporaryDirectory() as d:
            run("scan", "--db", f"{d}/t.db", FIXTURES / "cisco-pub01-failed")
            code, out, _ = run("query", "--db", f"{d}/t.db",
                               "SELECT path FROM files WHERE path LIKE '%ccminst%'")
            self.assertEqual(code, 0)
            cell = out.splitlines()[2].strip()
            self.assertTrue(cell.endswith("ccminst_031405_224107.log"), cell)
            self.assertIn("...", cell)
            self.assertLessEqual(len(cell), 80)


class Query(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.db = f"{cls.tmp.name}/q.db"
        row = next(r for r in expectations() if r["verdict"] == "failed")
        code, _, err = run("scan", "--db", cls.db, FIXTURES / row["fixture"])
        assert code == 1, err

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_table(self):
        code, out, _ = run("query", "--db", self.db, "SELECT outcome, count(*) AS n FROM "
                           "verdicts GROUP BY outcome ORDER BY outcome")
        self.assertEqual(code, 0)
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["outcome", "n"])
        self.assertTrue(set(lines[1]) <= {"-", " "})
        self.assertIn("failed", out)

    def test_csv_and_json(self):
        sql = "SELECT file, line, text FROM v_failures"
        code, out, _ = run("query", "--db", self.db, "--format", "csv", sql)
        self.assertEqual(code, 0)
        rows = list(csv.reader(io.StringIO(out)))
        self.assertEqual(rows[0], ["file", "line", "text"])
        self.assertGreaterEqual(len(rows), 2)
        code, out, _ = run("query", "--db", self.db, "--format", "json", sql)
        self.assertEqual(code, 0)
        data = json.loads(out)
        self.assertEqual(data[0]["file"], rows[1][0])

    def test_read_only_by_default(self):
        before = sqlite3.connect(self.db).execute("SELECT count(*) FROM findings").fetchone()
        for sql in ("DELETE FROM findings", "DROP TABLE rules",
                    "UPDATE files SET status = 'x'", "PRAGMA user_version = 9"):
            code, out, err = run("query", "--db", self.db, sql)
            self.assertEqual(code, 2, sql)
            self.assertIn("--write", err)
        after = sqlite3.connect(self.db).execute("SELECT count(*) FROM findings").fetchone()
        self.assertEqual(before, after)

    def test_write_when_asked(self):
        with tempfile.TemporaryDirectory() as d:
            db = f"{d}/w.db"
            shutil.copy(self.db, db)
            code, _, err = run("query", "--db", db, "--write", "DELETE FROM candidates")
            self.assertEqual(code, 0, err)
            _, out, _ = run("query", "--db", db, "--format", "csv",
                            "SELECT count(*) FROM candidates")
            self.assertEqual(out.splitlines()[1], "0")

    def test_sql_error_and_missing_database(self):
        code, _, err = run("query", "--db", self.db, "SELECT nope FROM nowhere")
        self.assertEqual(code, 2)
        self.assertIn("SQL error", err)
        code, _, err = run("query", "--db", f"{self.tmp.name}/missing.db", "SELECT 1")
        self.assertEqual(code, 2)
        self.assertIn("missing.db", err)
        self.assertFalse(os.path.exists(f"{self.tmp.name}/missing.db"))


class Explain(unittest.TestCase):
    def test_launcher_messages_are_their_own_namespace(self):
        """1608 is an MSI exit code and an InstallShield setup.exe message: both, labelled."""
        code, out, _ = run("explain", "--format", "json", "1608")
        self.assertEqual(code, 0)
        spaces = {e["space"]: e["meaning"] for e in json.loads(out)}
        self.assertIn("msi-exit", spaces)
        self.assertIn("InstallDriver", spaces["is-launcher"])
        self.assertNotIn("InstallDriver", spaces["msi-exit"])

    def test_1603_both_namespaces(self):
        code, out, _ = run("explain", "1603")
        self.assertEqual(code, 0)
        self.assertIn("msi-exit", out)
        self.assertIn("msi-message", out)
        self.assertIn("Fix:", out)

    def test_hresult_and_json(self):
        code, out, _ = run("explain", "--format", "json", "0x80070643")
        self.assertEqual(code, 0)
        data = json.loads(out)
        self.assertIn(1603, [e["code"] for e in data])
        code, out, _ = run("explain", "-2147287038")
        self.assertEqual(code, 0)
        self.assertIn("STG_E_FILENOTFOUND", out)

    def test_rule_ids(self):
        code, out, err = run("explain", "msi.action-failed", "1603")
        self.assertEqual(code, 0, err)
        self.assertTrue(out.startswith("msi.action-failed (rule, "), out)
        self.assertIn("Fix:", out)
        self.assertRegex(out, r"From: .*msi\.rules:\d+")
        self.assertIn("1603 (msi-exit", out)
        code, out, _ = run("explain", "-f", "json", "msi.action-failed")
        d = json.loads(out)
        self.assertEqual([(e["space"], e["name"], e["code"]) for e in d],
                         [("rule", "msi.action-failed", 1603)])
        # A user's rule is explained from its --rules folder.
        with tempfile.TemporaryDirectory() as t:
            pathlib.Path(t, "x.rules").write_text(
                "rule local.widget\n  severity error\n  family msi\n"
                "  match ^Widget failure \\d+\n  explain The widget broke.\n"
                "  sample Widget failure 12\n", encoding="utf-8")
            code, out, _ = run("explain", "local.widget", "--rules", t)
            self.assertEqual(code, 0)
            self.assertIn("The widget broke.", out)
        # Neither a code nor a rule: usage error with the nearest id, and nothing printed.
        code, out, err = run("explain", "1603", "msi.action-faild")
        self.assertEqual((code, out), (2, ""))
        self.assertIn("did you mean 'msi.action-failed'", err)

    def test_unknown_code(self):
        code, _, err = run("explain", "4242")
        self.assertEqual(code, 1)
        self.assertIn("4242", err)


class Scan(unittest.TestCase):
    def test_scan_then_rescan_keeps_unchanged(self):
        row = expectations()[0]
        with tempfile.TemporaryDirectory() as d:
            db = f"{d}/s.db"
            code, _, err = run("scan", "--db", db, FIXTURES / row["fixture"])
            self.assertIn(code, (0, 1), err)
            self.assertIn("scanned", err)
            code2, _, err2 = run("scan", "--db", db, FIXTURES / row["fixture"])
            self.assertEqual(code2, code)
            self.assertIn("scanned 0 files", err2)
            con = sqlite3.connect(db)
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            self.assertEqual(con.execute("SELECT count(*) FROM scans").fetchone()[0], 2)
            dupes = con.execute(
                "SELECT count(*) FROM (SELECT path FROM files GROUP BY path "
                "HAVING count(*) > 1)").fetchone()[0]
            self.assertEqual(dupes, 0)

    def test_quiet(self):
        row = expectations()[0]
        with tempfile.TemporaryDirectory() as d:
            _, out, err = run("scan", "--quiet", "--db", f"{d}/s.db", FIXTURES / row["fixture"])
            self.assertEqual(out, "")
            self.assertEqual(err, "")


FAILED_MSI = (
    "=== Verbose logging started: 3/14/2005  22:41:07  Build type: SHIP UNICODE 2.00.2600.1183"
    "  Calling process: C:\\WINNT\\system32\\msiexec.exe ===\r\n"
    "Action start 22:41:08: INSTALL.\r\n"
    "Action start 22:50:01: InstallFinalize.\r\n"
    + "MSI (s) (D8:2C): Note: 1: 2205 2:  3: Error \r\n" * 50 +
    "Error 1722. There is a problem with this Windows Installer package. A program run as part"
    " of the setup did not finish as expected. Contact your support personnel or package vendor."
    "  Action DBInstall, location: C:\\Program Files\\Cisco\\Bin\\DBInstall.exe, command: "
    "/upgrade\r\n"
    "Action ended 22:52:52: InstallFinalize. Return value 3.\r\n"
    "Action ended 22:52:53: INSTALL. Return value 3.\r\n"
    "MSI (c) (9C:A4): MainEngineThread is returning 1603\r\n")
GOOD_MSI = (
    "=== Verbose logging started: 3/9/2005  9:12:40  Build type: SHIP UNICODE 2.00.2600.1183"
    "  Calling process: C:\\WINNT\\system32\\msiexec.exe ===\r\n"
    "Action start 9:12:41: INSTALL.\r\n"
    + "MSI (s) (D8:2C): Note: 1: 2205 2:  3: Error \r\n" * 50 +
    "Action ended 9:30:02: INSTALL. Return value 1.\r\n"
    "MSI (c) (9C:A4): MainEngineThread is returning 0\r\n")


def zip_bytes(members, compress=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def streamed_zip(name, data):
    """A zip written to a pipe: sizes and CRC follow the data (descriptor, flag bit 3)."""
    class Pipe(io.RawIOBase):
        def __init__(self):
            self.buf = bytearray()
        def writable(self):
            return True
        def seekable(self):
            return False
        def write(self, b):
            self.buf += b
            return len(b)
    pipe = Pipe()
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open(name, "w") as member:
            member.write(data)
    raw = bytes(pipe.buf)
    assert raw[raw.find(b"PK\x03\x04") + 6] & 8, "no data descriptor"
    return raw


def encrypted_zip(name, data):
    """A zip whose one member says it is encrypted (traditional PKWARE bit)."""
    raw = bytearray(zip_bytes([(name, data)], zipfile.ZIP_STORED))
    local = raw.find(b"PK\x03\x04")
    central = raw.find(b"PK\x01\x02")
    raw[local + 6] |= 1
    raw[central + 8] |= 1
    return bytes(raw)


def corrupt_zip(good, bad_name, bad_data):
    """A zip with a good member and one whose compressed bytes were damaged."""
    raw = bytearray(zip_bytes(good + [(bad_name, bad_data)]))
    start = raw.rfind(b"PK\x03\x04")
    name_len = int.from_bytes(raw[start + 26:start + 28], "little")
    extra_len = int.from_bytes(raw[start + 28:start + 30], "little")
    data = start + 30 + name_len + extra_len
    for i in range(data + 10, data + 40):
        raw[i] ^= 0x5A
    return bytes(raw)


class Hostile(unittest.TestCase):
    """A folder of good bundles and every kind of bad input: the batch goes to the end."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = pathlib.Path(cls.tmp.name) / "in"
        d.mkdir()
        cls.dir = d
        # Good inputs.
        (d / "pub01.zip").write_bytes(zip_bytes([
            ("C\\Program Files\\Common Files\\Cisco\\Logs\\ccminst.log",
             FAILED_MSI.encode("utf-16")),
            ("C\\sqlsp.log", b"22:08:01 Installation Succeeded\r\n")]))
        tar = io.BytesIO()
        with tarfile.open(fileobj=tar, mode="w:gz") as t:
            data = GOOD_MSI.encode()
            info = tarfile.TarInfo("sub01/C/Program Files/Common Files/Cisco/Logs/ok.log")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        (d / "sub01.tar.gz").write_bytes(tar.getvalue())
        (d / "single.log.gz").write_bytes(gzip.compress(GOOD_MSI.encode(), mtime=0))
        (d / "unicode.log").write_bytes(GOOD_MSI.encode("utf-16"))
        (d / "streamed.zip").write_bytes(streamed_zip("streamed.log", FAILED_MSI.encode()))
        # Bad inputs, each with the status word upglog must record.
        cls.bad = {}
        big = FAILED_MSI.encode() * 2000
        (d / "cut.log.gz").write_bytes(gzip.compress(big, mtime=0)[:20000])
        cls.bad["cut.log.gz"] = "truncated"
        (d / "damaged.zip").write_bytes(corrupt_zip(
            [("fine.log", GOOD_MSI.encode())], "broken.log", FAILED_MSI.encode() * 50))
        cls.bad["damaged.zip!broken.log"] = "corrupt"
        (d / "secret.zip").write_bytes(encrypted_zip("locked.log", GOOD_MSI.encode()))
        cls.bad["secret.zip!locked.log"] = "encrypted"
        (d / "bomb.zip").write_bytes(zip_bytes([("bomb.log", b"A" * (64 << 20))]))
        cls.bad["bomb.zip!bomb.log"] = "bomb"
        inner = zip_bytes([("deep.log", GOOD_MSI.encode())])
        for level in range(3):
            inner = zip_bytes([(f"level{level}.zip", inner)])
        (d / "nested.zip").write_bytes(inner)
        cls.bad["level1.zip!level0.zip"] = "too-deep"
        rnd = random.Random(7)
        (d / "junk.log").write_bytes(bytes(rnd.randrange(256) for _ in range(8192)))
        cls.bad["junk.log"] = "binary"
        (d / "gone.log").symlink_to(d / "nowhere" / "x.log")
        cls.bad["gone.log"] = "unreadable"
        (d / "loop").mkdir()
        (d / "loop" / "again").symlink_to(d / "loop")
        cls.bad["loop/again"] = "loop"
        # Readable but odd: a 30 MB line (cut and counted), a name that is not UTF-8.
        head, tail = FAILED_MSI.encode().split(b"\r\n", 1)
        (d / "long.log").write_bytes(head + b"\r\n" + b"x" * (30 << 20) + b"\r\n" + tail)
        os.close(os.open(os.path.join(os.fsencode(d), b"caf\xe9.log"),
                         os.O_WRONLY | os.O_CREAT, 0o644))
        with open(os.path.join(os.fsencode(d), b"caf\xe9.log"), "wb") as f:
            f.write(GOOD_MSI.encode())
        cls.db = pathlib.Path(cls.tmp.name) / "h.db"
        cls.code, cls.out, cls.err = run("scan", "--db", cls.db, d)
        cls.con = sqlite3.connect(cls.db)

    @classmethod
    def tearDownClass(cls):
        cls.con.close()
        cls.tmp.cleanup()

    def test_exit_status_3(self):
        self.assertEqual(self.code, 3, self.err)

    def test_each_bad_file_named_once_with_its_status(self):
        lines = [l for l in self.err.splitlines() if not l.startswith(("upglog: scanned", "upglog: created the database"))]
        for name, status in self.bad.items():
            with self.subTest(name=name):
                hits = [l for l in lines if name in l]
                self.assertEqual(len(hits), 1, f"{name}: {hits}")
                rows = self.con.execute(
                    "SELECT status, error FROM files WHERE path LIKE ?",
                    (f"%{name}",)).fetchall()
                self.assertEqual(len(rows), 1, name)
                self.assertEqual(rows[0][0], status)
                self.assertIn(name.split("!")[-1], rows[0][1])

    def test_nothing_else_is_reported(self):
        lines = [l for l in self.err.splitlines() if not l.startswith(("upglog: scanned", "upglog: created the database"))]
        unexplained = [l for l in lines
                       if not any(n in l for n in self.bad) and "not valid UTF-8" not in l]
        self.assertEqual(unexplained, [])

    def test_good_logs_read_right(self):
        rows = dict(self.con.execute(
            "SELECT f.path, v.outcome FROM files f JOIN verdicts v ON v.file_id = f.id"))
        def verdict(suffix):
            found = [v for p, v in rows.items() if p.endswith(suffix)]
            self.assertEqual(len(found), 1, suffix)
            return found[0]
        self.assertEqual(verdict("pub01.zip!C/Program Files/Common Files/Cisco/Logs/ccminst.log"),
                         "failed")
        self.assertEqual(verdict("sub01.tar.gz!sub01/C/Program Files/Common Files/Cisco/Logs/"
                                 "ok.log"), "succeeded")
        self.assertEqual(verdict("single.log.gz"), "succeeded")
        self.assertEqual(verdict("unicode.log"), "succeeded")
        self.assertEqual(verdict("damaged.zip!fine.log"), "succeeded")
        self.assertEqual(verdict("streamed.zip!streamed.log"), "failed")
        locs = dict(self.con.execute("SELECT path, location FROM files"))
        self.assertEqual(locs[f"{self.dir}/pub01.zip!C/Program Files/Common Files/Cisco/Logs/"
                              "ccminst.log"], "cisco-logs")
        self.assertEqual(locs[f"{self.dir}/pub01.zip!C/sqlsp.log"], "c-root")
        enc = dict(self.con.execute("SELECT path, encoding FROM files"))
        self.assertEqual(enc[f"{self.dir}/unicode.log"], "utf-16le")

    def test_what_was_read_before_a_fault_is_kept(self):
        lines, = self.con.execute(
            "SELECT lines FROM files WHERE path LIKE '%cut.log.gz'").fetchone()
        self.assertGreater(lines, 100)
        n, = self.con.execute(
            "SELECT count(*) FROM findings f JOIN files fi ON fi.id = f.file_id "
            "WHERE fi.path LIKE '%cut.log.gz'").fetchone()
        self.assertGreater(n, 0)

    def test_long_line_cut_and_the_rest_kept(self):
        cut, lines, outcome = self.con.execute(
            "SELECT f.cut_lines, f.lines, v.outcome FROM files f JOIN verdicts v "
            "ON v.file_id = f.id WHERE f.path LIKE '%long.log'").fetchone()
        self.assertEqual(cut, 1)
        self.assertEqual(lines, 1 + FAILED_MSI.count("\r\n"))
        self.assertEqual(outcome, "failed")

    def test_name_that_is_not_utf8(self):
        rows = self.con.execute(
            "SELECT path, status FROM files WHERE path LIKE '%caf\\xE9.log'").fetchall()
        self.assertEqual(rows, [(f"{self.dir}/caf\\xE9.log", "ok")])

    @unittest.skipIf(os.environ.get("UPGLOG_SANITIZED"), "sanitizers add their own memory")
    def test_memory_stays_bounded(self):
        peak = re.search(r"peak memory ([0-9.]+) (KB|MB)", self.err)
        self.assertIsNotNone(peak, self.err)
        mb = float(peak.group(1)) / (1000 if peak.group(2) == "KB" else 1)
        self.assertLess(mb, 64)


class CrashSafety(unittest.TestCase):
    """A scan killed with SIGKILL mid-batch leaves a sound database; the same scan again
    finishes the job without duplicating or losing a file."""

    DUMP = ("SELECT f.path, f.lines, f.hash, f.status, v.outcome, v.root_line,"
            " (SELECT count(*) FROM findings x WHERE x.file_id = f.id),"
            " (SELECT sum(count) FROM rule_hits h WHERE h.file_id = f.id)"
            " FROM files f LEFT JOIN verdicts v ON v.file_id = f.id ORDER BY f.path")

    def test_killed_scan_resumes(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = pathlib.Path(tmp) / "batch"
            d.mkdir()
            for i in range(48):
                text = (FAILED_MSI if i % 3 == 0 else GOOD_MSI) * 300
                (d / f"server{i:02d}.log").write_bytes(text.encode("utf-16"))
            (d / "more.zip").write_bytes(zip_bytes(
                [(f"C/inner{i}.log", GOOD_MSI.encode() * 300) for i in range(6)]))
            ref = pathlib.Path(tmp) / "ref.db"
            code, _, err = run("scan", "--quiet", "--db", ref, d)
            self.assertEqual(code, 1, err)
            want = sqlite3.connect(ref).execute(self.DUMP).fetchall()
            self.assertEqual(len(want), 54)

            db = pathlib.Path(tmp) / "crash.db"
            p = subprocess.Popen([UPGLOG, "scan", "--quiet", "--jobs", "2", "--db", db, d],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # Kill it as soon as some files are in: the rest of the batch is still to do.
            done = 0
            while p.poll() is None and done == 0:
                try:
                    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
                    done = con.execute("SELECT count(*) FROM files").fetchone()[0]
                    con.close()
                except sqlite3.Error:
                    pass
            p.send_signal(signal.SIGKILL)
            p.wait()
            self.assertEqual(p.returncode, -signal.SIGKILL, "the scan ended before the kill")
            con = sqlite3.connect(db)
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            partial = con.execute("SELECT count(*) FROM files").fetchone()[0]
            con.close()
            self.assertGreater(partial, 0)
            self.assertLess(partial, 54)

            code, _, err = run("scan", "--quiet", "--db", db, d)
            self.assertEqual(code, 1, err)
            con = sqlite3.connect(db)
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            self.assertEqual(con.execute(self.DUMP).fetchall(), want)


class Reliability(unittest.TestCase):
    """Nothing lost, nothing leaked: identity, honest reads, secrets, concurrent writers."""

    SECRET_LOG = (
        "=== Verbose logging started: 3/14/2005  22:41:07  Build type: SHIP UNICODE 2.00.2600.1183"
        "  Calling process: C:\\WINNT\\system32\\msiexec.exe ===\r\n"
        "MSI (s) (D8:2C) [22:41:07:812]: Command Line: SAPWD=Sesame01 DBPASSWORD=\"Open Sesame02\""
        " REBOOT=ReallySuppress\r\n"
        "MSI (s) (D8:2C) [22:41:07:813]: PROPERTY CHANGE: Adding SQLSAPWD property. Its value is"
        " 'Sesame03'.\r\n"
        "Action start 22:41:08: INSTALL.\r\n"
        "Action start 22:50:01: DBInstall.\r\n"
        "Error 1722. There is a problem with this Windows Installer package. A program run as part"
        " of the setup did not finish as expected. Contact your support personnel or package "
        "vendor.  Action DBInstall, location: C:\\MSSQL\\Binn\\osql.exe, command: -S PUB01 -U sa"
        " -P Sesame04 -i C:\\ccm.sql\r\n"
        "[Microsoft][ODBC SQL Server Driver][SQL Server]Login failed for user 'sa'. "
        "driver={sql server};server=PUB01;UID=sa;PWD=Sesame05;database=master\r\n"
        "Action ended 22:52:52: DBInstall. Return value 3.\r\n"
        "Action ended 22:52:53: INSTALL. Return value 3.\r\n"
        "Property(S): CCMPWD = Sesame06\r\n"
        "MSI (c) (9C:A4): MainEngineThread is returning 1603\r\n")

    def test_two_differently_named_logs_are_both_stored(self):
        import warnings
        failed = FAILED_MSI.encode()
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
            d = pathlib.Path(tmp) / "bundle"
            d.mkdir()
            (d / "a.zip").write_bytes(zip_bytes([
                ("logs\\setup.log", failed), ("logs/setup.log", failed.replace(b"1722", b"1723")),
                ("./logs/setup.log", GOOD_MSI.encode()), ("logs/setup.log", failed)]))
            (d / "b.zip").write_bytes(zip_bytes([("inner.log", failed)]))
            (d / "b.zip!inner.log").write_bytes(failed)
            (d / "c\x01.log").write_bytes(failed)
            (d / "c\\x01.log").write_bytes(failed)
            code, _, err = run("scan", "--db", f"{tmp}/i.db", d)
            self.assertEqual(code, 1, err)
            self.assertIn("4 failed" if False else "failed", err)
            self.assertIn("a.zip!logs/setup.log\\#2", err)  # the duplicate is reported
            con = sqlite3.connect(f"{tmp}/i.db")
            paths = [r[0] for r in con.execute("SELECT path FROM files ORDER BY path")]
            self.assertEqual(len(paths), 8, paths)
            self.assertEqual(len(set(paths)), 8)
            failed_n = con.execute(
                "SELECT count(*) FROM verdicts WHERE outcome = 'failed'").fetchone()[0]
            self.assertEqual(failed_n, 7)
            self.assertIn("scanned 8 files", err)
            self.assertIn("7 failed", err)

    def test_four_concurrent_writers_on_a_new_database(self):
        inputs = [FIXTURES / "cisco-pub01-failed", FIXTURES / "cisco-pub01-ok",
                  FIXTURES / "msi-modern-failed.log", FIXTURES / "msi-modern-ok.log"]
        with tempfile.TemporaryDirectory() as tmp:
            want_files = want_findings = 0
            codes = []
            for i, path in enumerate(inputs):
                code, _, err = run("scan", "--quiet", "--db", f"{tmp}/alone{i}.db", path)
                codes.append(code)
                con = sqlite3.connect(f"{tmp}/alone{i}.db")
                want_files += con.execute("SELECT count(*) FROM files").fetchone()[0]
                want_findings += con.execute("SELECT count(*) FROM findings").fetchone()[0]
                version = con.execute("PRAGMA user_version").fetchone()[0]
                con.close()
            for attempt in range(3):
                db = f"{tmp}/shared{attempt}.db"
                procs = [subprocess.Popen([UPGLOG, "scan", "--quiet", "--jobs", "1", "--db", db,
                                           path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                         for path in inputs]
                for p, code in zip(procs, codes):
                    out, err = p.communicate(timeout=TIMEOUT)
                    self.assertEqual(p.returncode, code, err.decode())
                    self.assertNotIn(b"locked", err)
                    self.assertNotIn(b"already exists", err)
                con = sqlite3.connect(db)
                self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
                self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], version)
                self.assertEqual(version, 2)  # every migration step ran, once
                self.assertEqual(con.execute(
                    "SELECT count(*) FROM scans WHERE finished IS NOT NULL").fetchone()[0], 4)
                # ... and each scan wrote its servers (schema v2) beside the others'
                self.assertEqual(con.execute(
                    "SELECT count(DISTINCT scan_id) FROM servers").fetchone()[0], 4)
                self.assertEqual(con.execute("SELECT count(*) FROM files").fetchone()[0],
                                 want_files)
                self.assertEqual(con.execute("SELECT count(*) FROM findings").fetchone()[0],
                                 want_findings)
                con.close()

    def test_four_concurrent_writers_of_one_input(self):
        """Scans of the same folder at the same time: each forgets only files it did not see,
        so none removes what another stored."""
        with tempfile.TemporaryDirectory() as tmp:
            d = pathlib.Path(tmp) / "batch"
            d.mkdir()
            for i in range(24):
                (d / f"server{i:02d}.log").write_text(FAILED_MSI if i % 2 else GOOD_MSI)
            for attempt in range(4):
                db = f"{tmp}/same{attempt}.db"
                procs = [subprocess.Popen([UPGLOG, "scan", "--quiet", "--jobs", "1", "--db", db,
                                           d], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                         for _ in range(4)]
                for p in procs:
                    _, err = p.communicate(timeout=TIMEOUT)
                    self.assertEqual(p.returncode, 1, err.decode())
                con = sqlite3.connect(db)
                self.assertEqual(con.execute("SELECT count(*) FROM files").fetchone()[0], 24)
                self.assertEqual(con.execute(
                    "SELECT count(*) FROM verdicts WHERE outcome = 'failed'").fetchone()[0], 12)
                con.close()

    def test_running_and_killed_scans_are_reported(self):
        with tempfile.TemporaryDirectory() as tmp:
            db = f"{tmp}/r.db"
            d = pathlib.Path(tmp) / "in"
            d.mkdir()
            (d / "a.log").write_text(FAILED_MSI)
            # A scan that waits on standard input after a first, finished input.
            p = subprocess.Popen([UPGLOG, "scan", "--quiet", "--jobs", "1", "--db", db, d, "-"],
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            try:
                seen = 0
                for _ in range(2000):
                    try:
                        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
                        seen = con.execute(
                            "SELECT count(*) FROM sources WHERE complete").fetchone()[0]
                        con.close()
                    except sqlite3.Error:
                        pass
                    if seen:
                        break
                    subprocess.run(["sleep", "0.01"])
                self.assertEqual(seen, 1)
                code, out, err = run("triage", "--db", db)
                self.assertEqual(code, 3, err)
                self.assertIn("is still running", err)
                self.assertRegex(out.splitlines()[1], r"^Note  scan #1 .* is still running")
                code, out, err = run("query", "--db", db, "SELECT count(*) AS n FROM files")
                self.assertEqual(code, 3, err)
                self.assertIn("is still running", err)
                self.assertIn("n", out)
            finally:
                p.kill()
                p.wait()
                p.stdin.close()
            code, out, err = run("triage", "--db", db)
            self.assertEqual(code, 3, err)
            self.assertIn("did not finish", err)
            self.assertNotIn("still running", err)
            # the report itself says so too: a page or a file may travel without stderr
            self.assertRegex(out.splitlines()[1], r"^Note  scan #1 .* did not finish")
            code, out, err = run("triage", "--format", "json", "--db", db)
            self.assertEqual(code, 3, err)
            self.assertIn("did not finish", json.loads(out)["notice"])
            code, out, err = run("triage", "-f", "md", "--db", db)
            self.assertIn("\n> **Note:** scan \\#1 ", out)
            code, out, err = run("triage", "-f", "html", "-o", f"{tmp}/k.html", "--db", db)
            self.assertEqual(code, 3, err)
            self.assertIn('<p class="notice" id="notice"><strong>Note:</strong> scan #1 ',
                          pathlib.Path(f"{tmp}/k.html").read_text())
            # A scan that finishes makes the database whole again.
            code, _, err = run("scan", "--quiet", "--db", db, d)
            self.assertEqual(code, 1, err)
            code, out, err = run("triage", "--db", db)
            self.assertEqual(code, 1, err)
            self.assertEqual(err, "")
            self.assertNotIn("\nNote  ", out)
            self.assertIsNone(json.loads(run("triage", "-f", "json", "--db", db)[1])["notice"])

    def test_read_only_query_leaves_no_wal_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            db = f"{tmp}/w.db"
            code, _, err = run("scan", "--quiet", "--db", db, FIXTURES / "msi-modern-ok.log")
            self.assertEqual(code, 0, err)
            code, _, err = run("query", "--db", db, "SELECT count(*) FROM files")
            self.assertEqual(code, 0, err)
            code, _, err = run("triage", "--db", db)
            self.assertEqual(code, 0, err)
            self.assertEqual(sorted(os.listdir(tmp)), ["w.db"])
            # Still read-only: no ATTACH that would create a file, no VACUUM INTO.
            for sql in (f"ATTACH '{tmp}/x.db' AS x", f"VACUUM INTO '{tmp}/y.db'"):
                code, _, err = run("query", "--db", db, sql)
                self.assertEqual(code, 2, sql)
            self.assertEqual(sorted(os.listdir(tmp)), ["w.db"])

    def test_query_values_keep_their_types(self):
        with tempfile.TemporaryDirectory() as tmp:
            db = f"{tmp}/t.db"
            run("scan", "--quiet", "--db", db, FIXTURES / "msi-modern-ok.log")
            code, out, err = run("query", "--db", db, "--format", "json",
                                 "SELECT 1 AS i, 2.5 AS r, NULL AS n")
            self.assertEqual(code, 0, err)
            self.assertEqual(out, '[\n  {"i": 1, "r": 2.5, "n": null}\n]\n')
            code, out, err = run("query", "--db", db, "--format", "jsonl",
                                 "SELECT x'ff00' AS b, CAST(x'80' AS TEXT) AS t; SELECT 7 AS k")
            self.assertEqual(code, 0, err)
            self.assertEqual([json.loads(l) for l in out.splitlines()],
                             [{"b": "x'ff00'", "t": "\ufffd"}, {"k": 7}])

    def test_secrets_never_reach_the_database_or_the_output(self):
        with tempfile.TemporaryDirectory() as tmp:
            log = pathlib.Path(tmp) / "SAPWD=Sesame07" / "setup.log"
            log.parent.mkdir()
            log.write_text(self.SECRET_LOG)
            db = f"{tmp}/s.db"
            code, out, err = run("scan", "--db", db, log.parent)
            self.assertEqual(code, 1, err)
            outputs = [out, err]
            for fmt in ("text", "json"):
                code, out, err = run("triage", "--format", fmt, "--db", db)
                self.assertEqual(code, 1, err)
                outputs += [out, err]
            code, out, err = run("triage", "--format", "json", log)
            outputs += [out, err]
            self.assertIn("Its value is '****'", "".join(outputs))
            con = sqlite3.connect(db)
            dump = []
            for (table,) in con.execute("SELECT name FROM sqlite_schema WHERE type = 'table'"):
                for row in con.execute(f"SELECT * FROM {table}"):
                    dump.append(repr(row))
            con.close()
            everything = "\n".join(outputs + dump)
            # File names are identities and are kept as they are; the arguments are masked.
            everything = everything.replace("SAPWD=Sesame07/", "")
            everything = everything.replace("SAPWD=Sesame07\\\\/", "")
            for n in range(1, 7):
                self.assertNotIn(f"Sesame0{n}", everything)
            args = sqlite3.connect(db).execute("SELECT arguments FROM scans").fetchone()[0]
            self.assertIn("SAPWD=****", args)
            # A database written by an older upglog may hold a secret: reports mask it again.
            con = sqlite3.connect(db)
            con.execute("UPDATE findings SET text = text || ' PWD=Sesame09;',"
                        " context_before = 'osql -U sa -P Sesame10'")
            con.execute("UPDATE verdicts SET reason = reason || ' SAPWD=Sesame11'")
            con.commit()
            con.close()
            for fmt in ("text", "json"):
                code, out, err = run("triage", "--format", fmt, "--db", db)
                self.assertEqual(code, 1, err)
                for n in range(9, 12):
                    self.assertNotIn(f"Sesame{n:02d}", out)
            self.assertIn("PWD=****;", out)

    def test_a_database_this_user_may_only_read(self):
        """Readable, not writable, in a folder this user may not write: query and triage
        read it; scan says it is read-only, naming it (never "not an upglog database")."""
        as_other = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                self.skipTest("root without setpriv: cannot drop the right to write")
            as_other = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            folder = pathlib.Path(tmp) / "ro"
            folder.mkdir()
            db = folder / "r.db"
            code, _, err = run("scan", "--quiet", "--db", db, FIXTURES / "msi-modern-failed.log")
            self.assertEqual(code, 1, err)
            os.chmod(db, 0o444)
            os.chmod(folder, 0o555)
            try:
                def other(*args):
                    p = subprocess.run([*as_other, UPGLOG, *map(str, args)],
                                       capture_output=True, timeout=TIMEOUT)
                    return p.returncode, p.stdout.decode(), p.stderr.decode()
                code, out, err = other("query", "--db", db, "--format", "csv",
                                       "SELECT count(*) AS n FROM files")
                self.assertEqual((code, out), (0, "n\r\n1\r\n"), err)
                code, _, err = other("triage", "--db", db)
                self.assertEqual(code, 1, err)
                code, _, err = other("scan", "--db", db, FIXTURES / "msi-modern-ok.log")
                self.assertEqual(code, 2, err)
                self.assertIn(str(db), err)
                self.assertIn("read-only", err)
                self.assertNotIn("not an upglog database", err)
            finally:
                os.chmod(folder, 0o755)
                os.chmod(db, 0o644)

    def test_fifo_named_rules_does_not_hang(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.mkfifo(f"{tmp}/x.rules")
            for cmd in (["rules", "--check", "--rules", tmp],
                        ["triage", "--rules", tmp, FIXTURES / "msi-modern-ok.log"]):
                code, _, err = run(*cmd)
                self.assertEqual(code, 2, err)
                self.assertIn("x.rules: not a regular file", err)

    def test_triage_output_never_overwrites_an_input(self):
        with tempfile.TemporaryDirectory() as tmp:
            log = pathlib.Path(tmp) / "x.log"
            log.write_bytes(FAILED_MSI.encode())
            code, _, err = run("triage", "--output", log, log)
            self.assertEqual(code, 2, err)
            self.assertEqual(log.read_bytes(), FAILED_MSI.encode())
            code, _, err = run("triage", "--output", f"{tmp}/report.txt", log)
            self.assertEqual(code, 1, err)


def corpus_rows(folder=CORPUS):
    rows = []
    with (folder / "MANIFEST.tsv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows.append(r)
    return rows


def corpus_expected(folder_name):
    """Rows of tests/corpus_expected.tsv for one corpus folder: file -> (outcome, lines)."""
    expected = {}
    with (SOURCE_ROOT / "tests" / "corpus_expected.tsv").open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            folder, name, outcome, first, accept, _ = line.rstrip("\n").split("\t")
            if folder == folder_name:
                lines = {int(x) for x in accept.split(",")} | {int(first)}
                expected[name] = (outcome, int(first), lines)
    return expected


# A verdict may refine the manifest's outcome, never contradict it: a cancel is a kind of
# failure, and a log the manifest could not judge may be judged failed, never succeeded.
REFINES = {("failed", "cancelled"), ("unknown", "failed")}


class CorpusChecks:
    """Every real log scans without a read error, gets its manifest's outcome (or the refinement
    tests/corpus_expected.tsv records), and failed or cancelled logs their root-cause line."""

    folder = CORPUS
    name = "real"

    def want(self, row, expected):
        if row["file"] in expected:
            outcome = expected[row["file"]][0]
            if outcome != row["outcome"]:
                self.assertIn((row["outcome"], outcome), REFINES, row["file"])
            return outcome
        return row["outcome"]

    def test_outcomes(self):
        expected = corpus_expected(self.name)
        wrong = []
        for r in corpus_rows(self.folder):
            path = self.folder / r["file"]
            want = self.want(r, expected)
            code, d, err = triage_json(path)
            with self.subTest(log=r["file"]):
                self.assertEqual(d["errors"], [], err)
                self.assertNotIn("upglog:", err)
                # `want` is the log's own verdict; the server's is "cancelled" also when a
                # Windows Installer log that says failed ended with the user's cancel (1602).
                own = d["files"][0]["verdict"]
                if own != want:
                    wrong.append(f"{r['file']}: {own} (expected: {want})")
                if d["verdict"] == "cancelled" and own != "cancelled":
                    self.assertEqual(d["files"][0].get("exit_code"), 1602)
                if d["verdict"] in ("failed", "cancelled"):
                    self.assertIsNotNone(d["root_cause"], r["file"])
                    if d["root_cause"].get("rule"):  # a finding: its lines around it are kept
                        ctx = d["root_cause"].get("context") or {}
                        self.assertTrue(ctx.get("before") or ctx.get("after"), r["file"])
                    self.assertEqual(code, 1)
                elif d["verdict"] == "succeeded":
                    self.assertEqual(code, 0)
        self.assertEqual(wrong, [])

    def test_root_causes(self):
        """The first candidate is the line an engineer points at (>= 95%), and always among
        the three candidates (tests/corpus_expected.tsv)."""
        expected = corpus_expected(self.name)
        stopped = [r["file"] for r in corpus_rows(self.folder)
                   if self.want(r, expected) in ("failed", "cancelled")]
        self.assertEqual(sorted(expected), sorted(stopped))
        first_right, missing = 0, []
        for name in stopped:
            _, d, _ = triage_json(self.folder / name)
            lines = [c["line"] for c in d["candidates"]]
            if lines and lines[0] in expected[name][2]:
                first_right += 1
            if not expected[name][2] & set(lines):
                missing.append(f"{name}: candidates {lines}, expected {sorted(expected[name][2])}")
        self.assertEqual(missing, [])
        self.assertGreaterEqual(first_right / len(stopped), 0.95,
                                f"first candidate right on {first_right} of {len(stopped)}")

    def test_one_scan_of_everything(self):
        with tempfile.TemporaryDirectory() as d:
            code, _, err = run("scan", "--db", f"{d}/c.db", self.folder)
            self.assertEqual(code, 1, err)  # some logs are failed installs
            self.assertNotIn("unreadable", err.split("scanned")[0])
            con = sqlite3.connect(f"{d}/c.db")
            bad = con.execute("SELECT path, status FROM files WHERE status <> 'ok'").fetchall()
            self.assertEqual(bad, [])


@unittest.skipUnless((CORPUS / "MANIFEST.tsv").exists(), "real corpus not present")
class RealCorpus(CorpusChecks, unittest.TestCase):
    folder = CORPUS
    name = "real"


@unittest.skipUnless((CORPUS_IS / "MANIFEST.tsv").exists(), "InstallShield corpus not present")
class InstallShieldCorpus(CorpusChecks, unittest.TestCase):
    folder = CORPUS_IS
    name = "installshield"

    def test_sessions_kept(self):
        """Each of the six appended runs keeps its exit status as a finding; the last decides."""
        log = "installshield-suite-sketchup2026-wine-staging-6runs.log"
        with tempfile.TemporaryDirectory() as d:
            run("scan", "--quiet", "--db", f"{d}/c.db", self.folder / log)
            con = sqlite3.connect(f"{d}/c.db")
            ends = con.execute(
                "SELECT f.code FROM findings f JOIN rules r ON r.rule_id = f.rule_id"
                " WHERE r.event = 'final-status' ORDER BY f.line").fetchall()
            starts = con.execute(
                "SELECT count(*) FROM findings f JOIN rules r ON r.rule_id = f.rule_id"
                " WHERE r.event = 'log-start'").fetchone()[0]
            reason, code = con.execute("SELECT reason, exit_code FROM verdicts").fetchone()
        self.assertEqual(starts, 6)
        self.assertEqual([c for (c,) in ends], ["0x00000006"] * 6)
        self.assertEqual(code, 6)
        self.assertIn("last of 6 sessions", reason)

    def test_timestamps_with_localised_am_pm(self):
        """`11-13-2023[02:58:03 p. m.]` is 14:58:03 on 13 November 2023."""
        _, d, _ = triage_json(self.folder / "installshield-suite-sketchup-es-install.log")
        self.assertEqual(d["files"][0]["family"], "installshield")
        _, d, _ = triage_json(self.folder / "installshield-suite-sketchup2026-wine-staging-6runs.log")
        self.assertEqual(d["root_cause"]["ts"], "2026-01-13T18:12:19")


if __name__ == "__main__":
    # `cli_test.py --corpus` runs only the tests on the real logs, and reports "skipped" to
    # meson (exit 77) when they are not next to the repository; without it, everything else.
    corpus_only = "--corpus" in sys.argv
    if corpus_only:
        sys.argv.remove("--corpus")
        if not any((c / "MANIFEST.tsv").exists() for c in (CORPUS, CORPUS_IS)):
            print(f"skipped: no {CORPUS / 'MANIFEST.tsv'} and no {CORPUS_IS / 'MANIFEST.tsv'}")
            sys.exit(77)
    loader = unittest.defaultTestLoader
    names = [n for n, c in list(globals().items())
             if isinstance(c, type) and issubclass(c, unittest.TestCase)
             and (c in (RealCorpus, InstallShieldCorpus)) == corpus_only]
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(globals()[n]) for n in names)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
