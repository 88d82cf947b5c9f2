#!/usr/bin/env python3
"""End-to-end tests of the upglog command line: every command, its exit status, its output.

Run by `meson test` with UPGLOG (the binary), UPGLOG_FIXTURES (fixtures/), UPGLOG_PATTERNS
and UPGLOG_CORPUS (the real installer logs next to the repository; tests on them are skipped
when the folder does not exist).
"""
import csv
import io
import json
import os
import pathlib
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

UPGLOG = os.environ["UPGLOG"]
FIXTURES = pathlib.Path(os.environ["UPGLOG_FIXTURES"])
CORPUS = pathlib.Path(os.environ.get("UPGLOG_CORPUS", "/nonexistent"))
SOURCE_ROOT = pathlib.Path(os.environ.get("UPGLOG_SOURCE_ROOT", "."))
# Sanitized builds run slower; give every command room.
TIMEOUT = 600


def run(*args, cwd=None, stdin=None):
    """Run upglog; return (exit status, stdout, stderr)."""
    p = subprocess.run(
        [UPGLOG, *map(str, args)], cwd=cwd, input=stdin, capture_output=True,
        timeout=TIMEOUT,
    )
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


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
        for name in ("scan", "triage", "query", "rules", "explain"):
            self.assertIn(name, out)

    def test_every_command_has_help(self):
        for name in ("scan", "triage", "query", "rules", "explain"):
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
    def test_fixtures_verdict_and_root_cause(self):
        rows = expectations()
        self.assertGreaterEqual(len(rows), 2)
        for row in rows:
            target = FIXTURES / row["fixture"]
            code, d, err = triage_json(target)
            with self.subTest(fixture=row["fixture"]):
                self.assertEqual(d["verdict"], row["verdict"], err)
                if row["verdict"] == "failed":
                    self.assertEqual(code, 1)
                    rc = d["root_cause"]
                    self.assertIsNotNone(rc)
                    want = str(target / row["root_file"]) if target.is_dir() else str(target)
                    self.assertEqual(rc["file"], want)
                    self.assertEqual(rc["line"], int(row["root_line"]))
                    self.assertEqual(rc["code"], row["root_code"])
                    self.assertTrue(rc["fix"])
                    self.assertTrue(rc["context"]["before"])
                    self.assertTrue(1 <= len(d["candidates"]) <= 3)
                    self.assertEqual(d["candidates"][0]["line"], rc["line"])
                    self.assertTrue(all(c["reason"] for c in d["candidates"]))
                else:
                    self.assertEqual(code, 0, err)
                    self.assertIsNone(d["root_cause"])
                self.assertEqual(set(d), {"verdict", "root_cause", "candidates", "failures",
                                          "findings", "counts", "noise", "files", "errors"})
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


def corpus_rows():
    rows = []
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows.append(r)
    return rows


@unittest.skipUnless((CORPUS / "MANIFEST.tsv").exists(), "real corpus not present")
class RealCorpus(unittest.TestCase):
    """Every real log scans without a read error, and gets the outcome its manifest gives."""

    def test_outcomes(self):
        wrong = []
        for r in corpus_rows():
            path = CORPUS / r["file"]
            code, d, err = triage_json(path)
            with self.subTest(log=r["file"]):
                self.assertEqual(d["errors"], [], err)
                self.assertNotIn("upglog:", err)
                if d["verdict"] != r["outcome"]:
                    wrong.append(f"{r['file']}: {d['verdict']} (manifest: {r['outcome']})")
                if d["verdict"] == "failed":
                    self.assertIsNotNone(d["root_cause"], r["file"])
                    self.assertEqual(code, 1)
        self.assertEqual(wrong, [])

    def test_root_causes(self):
        """The first candidate is the line an engineer points at (>= 95%), and always among
        the three candidates (tests/corpus_expected.tsv)."""
        expected = {}
        with (SOURCE_ROOT / "tests" / "corpus_expected.tsv").open(encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                name, first, accept, _ = line.rstrip("\n").split("\t")
                expected[name] = {int(x) for x in accept.split(",")} | {int(first)}
        failed = [r["file"] for r in corpus_rows() if r["outcome"] == "failed"]
        self.assertEqual(sorted(expected), sorted(failed))
        first_right, missing = 0, []
        for name in failed:
            _, d, _ = triage_json(CORPUS / name)
            lines = [c["line"] for c in d["candidates"]]
            if lines and lines[0] in expected[name]:
                first_right += 1
            if not expected[name] & set(lines):
                missing.append(f"{name}: candidates {lines}, expected {sorted(expected[name])}")
        self.assertEqual(missing, [])
        self.assertGreaterEqual(first_right / len(failed), 0.95,
                                f"first candidate right on {first_right} of {len(failed)}")

    def test_one_scan_of_everything(self):
        with tempfile.TemporaryDirectory() as d:
            code, _, err = run("scan", "--db", f"{d}/c.db", CORPUS)
            self.assertEqual(code, 1, err)  # some logs are failed installs
            self.assertNotIn("unreadable", err.split("scanned")[0])
            con = sqlite3.connect(f"{d}/c.db")
            bad = con.execute("SELECT path, status FROM files WHERE status <> 'ok'").fetchall()
            self.assertEqual(bad, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
