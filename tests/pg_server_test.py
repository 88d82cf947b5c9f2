#!/usr/bin/env python3
"""tests/pg_server.py, the throwaway PostgreSQL server of the tests: it starts, serves several
databases, hands its exit status through, leaves nothing behind, and says "skipped" (or fails,
with UPGLOG_REQUIRE_POSTGRESQL) when there is no PostgreSQL.

The parts that need a server are skipped without one."""
import contextlib
import io
import os
import pathlib
import subprocess
import sys
import unittest
from unittest import mock

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import pg_server  # noqa: E402

HAVE_SERVER = pg_server.find_bindir() is not None


class Unavailable(unittest.TestCase):
    def run_main(self, **env):
        clean = {k: v for k, v in os.environ.items()
                 if k not in ("UPGLOG_REQUIRE_POSTGRESQL", "UPGLOG_TEST_PG")}
        clean.update(env, UPGLOG_NO_INSTALL="1")
        out = io.StringIO()
        with mock.patch.dict(os.environ, clean, clear=True), \
                mock.patch.object(pg_server, "find_bindir", return_value=None), \
                contextlib.redirect_stdout(out):
            rc = pg_server.main(["--", "true"])
        return rc, out.getvalue()

    def test_skipped_without_postgresql(self):
        rc, out = self.run_main()
        self.assertEqual(rc, 77)
        self.assertIn("skipped", out)

    def test_required_postgresql_fails(self):
        rc, out = self.run_main(UPGLOG_REQUIRE_POSTGRESQL="1")
        self.assertEqual(rc, 1)
        self.assertIn("UPGLOG_REQUIRE_POSTGRESQL", out)

    def test_usage(self):
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(pg_server.main(["true"]), 2)
            self.assertEqual(pg_server.main(["--"]), 2)


@unittest.skipUnless(HAVE_SERVER, "no PostgreSQL server binaries")
class Server(unittest.TestCase):
    def test_databases_and_cleanup(self):
        with pg_server.PgServer() as pg:
            tmp = pg.tmp
            a = pg.create_db("fleet_a")
            b = pg.create_db("fleet_b")
            self.assertTrue(a.startswith("postgresql:///fleet_a?host="))
            self.assertNotEqual(a, b)
            pg.psql("fleet_a", "CREATE TABLE t (x BIGINT); INSERT INTO t VALUES (41)")
            self.assertEqual(pg.psql("fleet_a", "SELECT x + 1 FROM t").strip(), "42")
            # the databases are separate
            with self.assertRaises(RuntimeError):
                pg.psql("fleet_b", "SELECT x FROM t")
            # fsync is off on this throwaway server only
            self.assertEqual(pg.psql("fleet_b", "SHOW fsync").strip(), "off")
            self.assertTrue(os.path.isdir(tmp))
        self.assertFalse(os.path.exists(tmp))

    def test_stopped_on_exception(self):
        with self.assertRaises(KeyError):
            with pg_server.PgServer() as pg:
                tmp = pg.tmp
                raise KeyError("boom")
        self.assertFalse(os.path.exists(tmp))

    def test_wrapper_passes_connection_and_status(self):
        env = {k: v for k, v in os.environ.items() if k != "UPGLOG_TEST_PG"}
        script = ('import os, sys; u = os.environ["UPGLOG_TEST_PG"]; print(u);'
                  ' sys.exit(3 if u.startswith("postgresql:///upglog_test?") else 9)')
        p = subprocess.run([sys.executable, str(HERE / "pg_server.py"), "--", sys.executable,
                            "-c", script], env=env, capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        sock = p.stdout.strip().split("host=")[1].split("&")[0]
        self.assertFalse(os.path.exists(os.path.dirname(
            sock.replace("%2F", "/"))), "the server's folder is left behind")


if __name__ == "__main__":
    result = unittest.main(verbosity=2, exit=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    if not HAVE_SERVER and os.environ.get("UPGLOG_REQUIRE_POSTGRESQL"):
        print("no PostgreSQL server binaries, and UPGLOG_REQUIRE_POSTGRESQL is set: failed")
        sys.exit(1)
    sys.exit(0)
