#!/usr/bin/env python3
"""A throwaway PostgreSQL server for the tests: initdb into a temporary folder, a server on a
Unix socket only, removed again at the end.

As a module (tests and benchmarks):

    from pg_server import PgServer, PgUnavailable
    with PgServer() as pg:
        url = pg.create_db("fleet")   # postgresql:///fleet?host=<socket dir>&user=upglog

As a wrapper (meson tests of programs that read UPGLOG_TEST_PG):

    python3 tests/pg_server.py -- CMD ARGS...

starts a server, creates a fresh database, exports UPGLOG_TEST_PG=<its connection URI>, runs
CMD, stops the server and exits with CMD's status. The database user `upglog` is a superuser of
this server, so a test may CREATE DATABASE more through that URI. When UPGLOG_TEST_PG is set
already (a server of your own), the wrapper starts nothing and runs CMD against it.

A test that cannot get a server ends with `sys.exit(unavailable(err))`: "skipped" (77), or a
failure when UPGLOG_REQUIRE_POSTGRESQL is set.

The server's binaries are Debian's (`postgresql` package: /usr/lib/postgresql/*/bin) or found on
PATH. When there are none and we run as root (and UPGLOG_NO_INSTALL is unset), `apt-get install
postgresql` is tried. Without a server the wrapper reports "skipped" (exit 77), unless
UPGLOG_REQUIRE_POSTGRESQL is set (as .ci/run does): then it fails. PostgreSQL refuses to run as
root, so as root the server runs as the unprivileged user `nobody` (UPGLOG_PG_USER names
another), which owns the temporary folder.

The server runs with fsync=off: it is thrown away, durability on power loss means nothing
here and fsync would only make the tests slow. Never use these settings for a real database.
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse

SKIP = 77


class PgUnavailable(Exception):
    """No PostgreSQL server binaries, and none could be installed."""


def _version_key(path):
    try:
        return float(os.path.basename(os.path.dirname(path)))
    except ValueError:
        return 0.0


def find_bindir():
    """The folder holding initdb and pg_ctl, or None."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for d in dirs:
        if os.access(os.path.join(d, "initdb"), os.X_OK) and os.access(
                os.path.join(d, "pg_ctl"), os.X_OK):
            return d
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return os.path.dirname(initdb)
    return None


def _try_install():
    if os.geteuid() != 0 or os.environ.get("UPGLOG_NO_INSTALL"):
        return False
    if not shutil.which("apt-get"):
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                        "postgresql"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True, timeout=900)
    except (subprocess.SubprocessError, OSError):
        return False
    return True


class PgServer:
    """A PostgreSQL server of its own, on a Unix socket in a temporary folder."""

    def __init__(self, install=True):
        self.bindir = find_bindir()
        if not self.bindir and install and _try_install():
            self.bindir = find_bindir()
        if not self.bindir:
            raise PgUnavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
        self.tmp = None
        self.running = False
        self.user = "upglog"

    # -- running commands as the server's owner ------------------------------------------------
    def _as_owner(self, cmd):
        if os.geteuid() != 0:
            return cmd
        owner = os.environ.get("UPGLOG_PG_USER", "nobody")
        if shutil.which("runuser"):
            return ["runuser", "-u", owner, "--"] + cmd
        pw = pwd.getpwnam(owner)
        return ["setpriv", "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid),
                "--clear-groups", "--"] + cmd

    def _run(self, cmd, what):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        p = subprocess.run(self._as_owner(cmd), env=env, cwd=self.tmp,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            log = ""
            logfile = os.path.join(self.tmp, "server.log")
            if os.path.exists(logfile):
                with open(logfile, errors="replace") as f:
                    log = f.read()[-2000:]
            raise RuntimeError(f"{what} failed ({p.returncode}): {p.stdout.strip()}\n{log}")
        return p.stdout

    def _bin(self, name):
        return os.path.join(self.bindir, name)

    # -- life cycle ------------------------------------------------------------------------------
    def start(self):
        # A short folder name: a Unix socket path has a limit of about 100 bytes.
        base = tempfile.gettempdir()
        if len(base) > 60:
            base = "/tmp"
        self.tmp = tempfile.mkdtemp(prefix="upglog-pg-", dir=base)
        self.sockdir = os.path.join(self.tmp, "sock")
        self.datadir = os.path.join(self.tmp, "data")
        os.mkdir(self.sockdir)
        if os.geteuid() == 0:
            pw = pwd.getpwnam(os.environ.get("UPGLOG_PG_USER", "nobody"))
            for d in (self.tmp, self.sockdir):
                os.chown(d, pw.pw_uid, pw.pw_gid)
        try:
            self._run([self._bin("initdb"), "-D", self.datadir, "-A", "trust", "-U",
                       self.user, "-E", "UTF8", "--no-locale", "--no-sync"], "initdb")
            # fsync=off: a throwaway test server (see the top of this file).
            opts = (f"-k {self.sockdir} -c listen_addresses='' -c fsync=off "
                    "-c full_page_writes=off -c synchronous_commit=off")
            self._run([self._bin("pg_ctl"), "start", "-w", "-t", "120", "-D", self.datadir,
                       "-l", os.path.join(self.tmp, "server.log"), "-o", opts], "pg_ctl start")
            self.running = True
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        if self.running:
            try:
                self._run([self._bin("pg_ctl"), "stop", "-w", "-m", "immediate", "-D",
                           self.datadir], "pg_ctl stop")
            except (RuntimeError, OSError):
                pass
            self.running = False
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- databases ---------------------------------------------------------------------------
    def url(self, dbname):
        """The connection URI of database `dbname` on this server."""
        q = urllib.parse.urlencode({"host": self.sockdir, "user": self.user})
        return f"postgresql:///{urllib.parse.quote(dbname)}?{q}"

    def conninfo(self, dbname):
        """The same as a libpq key=value string."""
        return f"host={self.sockdir} user={self.user} dbname={dbname}"

    def create_db(self, dbname):
        """Create database `dbname` and give its connection URI."""
        self._run([self._bin("createdb"), "-h", self.sockdir, "-U", self.user, dbname],
                  "createdb " + dbname)
        return self.url(dbname)

    def psql(self, dbname, sql):
        """Run SQL through psql; its output (unaligned, tuples only)."""
        return self._run([self._bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                          "-h", self.sockdir, "-U", self.user, "-d", dbname, "-c", sql],
                         "psql")


def unavailable(err):
    """Say why there is no server; the exit status for meson: 77 (skipped), or 1 (failed)
    when UPGLOG_REQUIRE_POSTGRESQL is set."""
    if os.environ.get("UPGLOG_REQUIRE_POSTGRESQL"):
        print(f"{err}, and UPGLOG_REQUIRE_POSTGRESQL is set: failed")
        return 1
    print(f"{err}: skipped")
    return SKIP


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def main(argv):
    if "--" not in argv:
        print("usage: pg_server.py -- CMD ARGS...", file=sys.stderr)
        return 2
    cmd = argv[argv.index("--") + 1:]
    if not cmd:
        print("usage: pg_server.py -- CMD ARGS...", file=sys.stderr)
        return 2
    if os.environ.get("UPGLOG_TEST_PG"):
        return subprocess.call(cmd)
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    try:
        server = PgServer()
    except PgUnavailable as e:
        return unavailable(e)
    with server:
        env = dict(os.environ, UPGLOG_TEST_PG=server.create_db("upglog_test"))
        proc = subprocess.Popen(cmd, env=env)
        try:
            return proc.wait()
        except BaseException:
            proc.terminate()
            proc.wait()
            raise


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)  # the server is stopped and removed already
