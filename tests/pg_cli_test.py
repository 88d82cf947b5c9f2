#!/usr/bin/env python3
"""End-to-end tests of upglog on a real PostgreSQL server that the test starts itself.

The server is a throwaway one (tests/pg_server.py: initdb into a temporary folder, pg_ctl on a
Unix socket, as an unprivileged user when run as root). Each test gets a fresh database. The
results on PostgreSQL are compared with the same scans into SQLite: the engines must agree.

Skipped (exit 77) when PostgreSQL cannot be found or installed, unless
UPGLOG_REQUIRE_POSTGRESQL=1 (CI), which makes that a failure.
"""
import json
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

UPGLOG = os.environ["UPGLOG"]
FIXTURES = pathlib.Path(os.environ["UPGLOG_FIXTURES"])
SOURCE_ROOT = pathlib.Path(os.environ.get("UPGLOG_SOURCE_ROOT", "."))
GENLOG = os.environ.get("UPGLOG_GENLOG", "")
TIMEOUT = 600

sys.path.insert(0, str(SOURCE_ROOT / "tests"))
import pg_server  # noqa: E402

SERVER = None
_dbs = 0


def fresh_db():
    """A new, empty database on the test server: its connection URI."""
    global _dbs
    _dbs += 1
    return SERVER.create_db(f"t{_dbs}")

# One row per file: what a scan concluded about it, independent of ids and engines.
DUMP = ("SELECT f.path, f.lines, f.hash, f.status, v.outcome, v.root_line,"
        " (SELECT count(*) FROM findings x WHERE x.file_id = f.id) AS findings,"
        " (SELECT coalesce(sum(h.count), 0) FROM rule_hits h WHERE h.file_id = f.id) AS hits"
        " FROM files f LEFT JOIN verdicts v ON v.file_id = f.id ORDER BY f.path")

INPUTS = [FIXTURES / "cluster" / "pub01", FIXTURES / "cluster" / "sub01",
          FIXTURES / "cluster" / "sub02", FIXTURES / "cluster" / "tftp01"]


def run(*args, env=None):
    p = subprocess.run([UPGLOG, *map(str, args)], capture_output=True, timeout=TIMEOUT, env=env)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def pg_rows(url, sql, running_ok=False):
    """Rows of `sql` on PostgreSQL through `upglog query` (JSON), as tuples. With
    `running_ok`, a scan still running or killed (exit 3, said on stderr) is expected."""
    code, out, err = run("query", "--db", url, "--format", "json", sql)
    if code != 0 and not (running_ok and code == 3):
        raise AssertionError(f"query failed ({code}): {err}")
    return [tuple(r.values()) for r in json.loads(out)]


def sqlite_rows(path, sql):
    con = sqlite3.connect(path)
    try:
        return [tuple(r) for r in con.execute(sql)]
    finally:
        con.close()


def normalise(rows):
    """SQLite and PostgreSQL agree on values; JSON makes every number an int or a float."""
    return [tuple(int(v) if isinstance(v, float) and v.is_integer() else v for v in r)
            for r in rows]


class PostgreSQLStore(unittest.TestCase):
    def setUp(self):
        self.url = fresh_db()
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def sqlite_reference(self, *inputs):
        db = self.dir / "ref.db"
        code, _, err = run("scan", "--quiet", "--db", db, *inputs)
        return code, db

    def test_scan_triage_query_agree_with_sqlite(self):
        code_sq, ref = self.sqlite_reference(*INPUTS)
        code, _, err = run("scan", "--quiet", "--db", self.url, *INPUTS)
        self.assertEqual(code, code_sq, err)
        self.assertEqual(normalise(pg_rows(self.url, DUMP)), normalise(sqlite_rows(ref, DUMP)))
        # Schema: the same tables and views, at the same version.
        self.assertEqual(pg_rows(self.url, "SELECT version FROM upglog_schema"), [(2,)])
        for view in ["v_findings", "v_failures", "v_noise", "v_servers", "v_failed_servers",
                     "v_checks"]:
            self.assertEqual(
                normalise(pg_rows(self.url, f"SELECT count(*) FROM {view}")),
                normalise(sqlite_rows(ref, f"SELECT count(*) FROM {view}")), view)
        # The triage report reads the same from either engine.
        t_sq = run("triage", "--db", ref, "--format", "json")
        t_pg = run("triage", "--db", self.url, "--format", "json")
        self.assertEqual(t_pg[0], t_sq[0], t_pg[2])
        a, b = json.loads(t_sq[1]), json.loads(t_pg[1])
        for key in ["files", "servers", "checks", "cluster"]:
            self.assertEqual(json.dumps(b.get(key), sort_keys=True),
                             json.dumps(a.get(key), sort_keys=True), key)
        code, out, err = run("triage", "--db", self.url)
        self.assertEqual(code, 1, err)
        self.assertIn("SUB02", out)
        self.assertIn("1920", out)

    def test_query_is_read_only_unless_write(self):
        code, _, err = run("scan", "--quiet", "--db", self.url, INPUTS[0])
        self.assertIn(code, (0, 1), err)
        code, out, err = run("query", "--db", self.url, "DELETE FROM findings")
        self.assertNotEqual(code, 0)
        self.assertIn("read-only", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertGreater(pg_rows(self.url, "SELECT count(*) FROM findings")[0][0], 0)
        code, out, err = run("query", "--write", "--db", self.url,
                             "UPDATE scans SET arguments = arguments")
        self.assertEqual(code, 0, err)
        # Typed values: numbers as numbers, NULL as null, several statements.
        code, out, err = run("query", "--db", self.url, "--format", "jsonl",
                             "SELECT 1 AS i, 2.5 AS r, NULL AS n, 'x' AS t; SELECT 2 AS j")
        self.assertEqual(code, 0, err)
        lines = [json.loads(x) for x in out.splitlines()]
        self.assertEqual(lines[0], {"i": 1, "r": 2.5, "n": None, "t": "x"})
        self.assertEqual(lines[1], {"j": 2})

    def test_four_concurrent_scanners(self):
        code_sq, ref = self.sqlite_reference(*INPUTS)
        want = normalise(sqlite_rows(ref, DUMP))
        for attempt in range(3):
            url = fresh_db()
            procs = [subprocess.Popen([UPGLOG, "scan", "--quiet", "--jobs", "1", "--db", url, i],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                     for i in INPUTS]
            for p in procs:
                _, err = p.communicate(timeout=TIMEOUT)
                self.assertIn(p.returncode, (0, 1), err.decode())
                self.assertEqual(err, b"")
            self.assertEqual(normalise(pg_rows(url, DUMP)), want, f"attempt {attempt}")
            self.assertEqual(pg_rows(url, "SELECT count(*) FROM scans"
                                          " WHERE finished IS NOT NULL"), [(4,)])
            self.assertEqual(pg_rows(url, "SELECT count(DISTINCT scan_id) FROM servers"),
                             [(4,)])

    def test_four_scanners_of_the_same_bundles(self):
        """Each file's rows come from one scanner: a file stored with the same content hash by
        another is kept, not written twice."""
        code_sq, ref = self.sqlite_reference(*INPUTS)
        want = normalise(sqlite_rows(ref, DUMP))
        procs = [subprocess.Popen([UPGLOG, "scan", "--quiet", "--jobs", "1", "--db", self.url,
                                   *(INPUTS[k:] + INPUTS[:k])],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for k in range(4)]
        for p in procs:
            _, err = p.communicate(timeout=TIMEOUT)
            self.assertEqual(p.returncode, code_sq, err.decode())
        self.assertEqual(normalise(pg_rows(self.url, DUMP)), want)
        self.assertEqual(
            pg_rows(self.url, "SELECT count(*) FROM files GROUP BY path HAVING count(*) > 1"),
            [])

    @unittest.skipUnless(GENLOG, "needs the genlog benchmark generator (UPGLOG_GENLOG)")
    def test_scanner_killed_mid_file_leaves_no_half_file(self):
        big = self.dir / "big.log"
        with open(big, "wb") as f:
            subprocess.run([GENLOG, "96"], stdout=f, check=True)
        small = FIXTURES / "msi-modern-failed.log"
        code, _, err = run("scan", "--quiet", "--db", self.url, small)
        self.assertEqual(code, 1, err)
        p = subprocess.Popen([UPGLOG, "scan", "--quiet", "--jobs", "1", "--db", self.url, big],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Wait until its transaction for the big file has begun writing findings.
        inside = False
        while p.poll() is None and not inside:
            inside = pg_rows(self.url, (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                " AND query LIKE '%findings%'"), running_ok=True)[0][0] > 0
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.assertTrue(inside, "the scan ended before it was seen writing")
        self.assertEqual(p.returncode, -signal.SIGKILL, "the scan ended before the kill")
        # The server notices the dead connection and rolls its transaction back.
        for _ in range(200):
            busy = pg_rows(self.url, (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"), running_ok=True)[0][0]
            if not busy:
                break
            time.sleep(0.05)
        self.assertEqual(pg_rows(self.url, "SELECT count(*) FROM files WHERE path LIKE"
                                           " '%big.log'", running_ok=True), [(0,)])
        self.assertEqual(pg_rows(self.url, "SELECT count(*) FROM findings f WHERE NOT EXISTS"
                                           " (SELECT 1 FROM files fi WHERE fi.id = f.file_id)",
                                 running_ok=True), [(0,)])
        # The killed scan is reported as not finished; running it again completes it.
        code, out, err = run("triage", "--db", self.url)
        self.assertEqual(code, 3, err)
        self.assertIn("did not finish", err)
        code, _, err = run("scan", "--quiet", "--db", self.url, big)
        ref = self.dir / "ref.db"
        code_sq, _, err_sq = run("scan", "--quiet", "--db", ref, small, big)
        self.assertEqual(code, code_sq, err)
        self.assertEqual(normalise(pg_rows(self.url, DUMP)), normalise(sqlite_rows(ref, DUMP)))

    def test_merge_of_two_shards_into_postgresql_equals_one_scan(self):
        shards = []
        for inp in INPUTS[:2]:
            shards.append(self.dir / f"{inp.name}.db")
            code, _, err = run("scan", "--quiet", "--db", shards[-1], inp)
            self.assertIn(code, (0, 1), err)
        code_sq, ref = self.sqlite_reference(*INPUTS[:2])
        code, _, err = run("merge", "--db", self.url, *shards)
        self.assertEqual(code, code_sq, err)
        self.assertNotIn("created", err)
        self.assertEqual(normalise(pg_rows(self.url, DUMP)), normalise(sqlite_rows(ref, DUMP)))
        for sql in ("SELECT host, role, outcome, reason, file, line FROM v_servers ORDER BY host",
                    "SELECT file, outcome, reason FROM v_failures ORDER BY file",
                    "SELECT rule_id, sum(count) FROM rule_hits GROUP BY rule_id ORDER BY 1"):
            self.assertEqual(normalise(pg_rows(self.url, sql)), normalise(sqlite_rows(ref, sql)),
                             sql)
        ca, a, _ = run("triage", "--db", ref, "--format", "json")
        cb, b, err = run("triage", "--db", self.url, "--format", "json")
        self.assertEqual(cb, ca, err)
        ja, jb = json.loads(a), json.loads(b)
        for key in ("servers", "checks", "cluster", "verdict", "root_cause", "failures"):
            self.assertEqual(jb[key], ja[key], key)
        # The same shards again: one more scan each, no file twice.
        code, _, err = run("merge", "--db", self.url, *shards)
        self.assertEqual(code, code_sq, err)
        self.assertEqual(normalise(pg_rows(self.url, DUMP)), normalise(sqlite_rows(ref, DUMP)))

    def test_bad_connections_say_why_without_the_password(self):
        bad = SERVER.url("no_such_db").replace("postgresql:///", "postgresql://upglog:Sesame77@/")
        self.assertIn("Sesame77", bad)
        for cmd in (["scan", "--db", bad, INPUTS[0]], ["query", "--db", bad, "SELECT 1"],
                    ["triage", "--db", bad]):
            code, out, err = run(*cmd)
            self.assertEqual(code, 2, (cmd, err))
            self.assertNotIn("Sesame77", err + out)
            self.assertIn("no_such_db", err)
            self.assertEqual(len(err.strip().splitlines()), 1, err)
        # A key=value connection string is a PostgreSQL name too, never a file.
        code, out, err = run("query", "--db", f"host={SERVER.sockdir} dbname=no_such_db",
                             "SELECT 1")
        self.assertEqual(code, 2, err)
        self.assertFalse(pathlib.Path(f"host={SERVER.sockdir} dbname=no_such_db").exists())


def main():
    global SERVER
    try:
        SERVER = pg_server.PgServer()
    except pg_server.PgUnavailable as e:
        return pg_server.unavailable(e)
    SERVER.start()
    try:
        prog = unittest.main(argv=[sys.argv[0]] + sys.argv[1:], exit=False, verbosity=2)
        return 0 if prog.result.wasSuccessful() else 1
    finally:
        SERVER.stop()


if __name__ == "__main__":
    sys.exit(main())
