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
import signal
import sqlite3
import subprocess
import tarfile
import tempfile
import unittest
import zipfile

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
        lines = [l for l in self.err.splitlines() if not l.startswith("upglog: scanned")]
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
        lines = [l for l in self.err.splitlines() if not l.startswith("upglog: scanned")]
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
                self.assertEqual(con.execute(
                    "SELECT count(*) FROM scans WHERE finished IS NOT NULL").fetchone()[0], 4)
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
            code, out, err = run("triage", "--format", "json", "--db", db)
            self.assertEqual(code, 3, err)
            json.loads(out)
            # A scan that finishes makes the database whole again.
            code, _, err = run("scan", "--quiet", "--db", db, d)
            self.assertEqual(code, 1, err)
            code, _, err = run("triage", "--db", db)
            self.assertEqual(code, 1, err)
            self.assertEqual(err, "")

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
