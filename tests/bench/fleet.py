#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fleet simulation and benchmark: many clusters' upgrade bundles into one findings database.

    python3 tests/bench/fleet.py gen --bundles 10000 --out fleet [--seed 1]
    python3 tests/bench/fleet.py bench --bundles 10000 [--procs 1,2,4]
                                       [--engines sqlite,postgresql] [--upglog build/upglog]

`gen` writes N synthetic upgrade bundles (one per server) of many Cisco CallManager clusters:
each cluster has a publisher and 0-4 subscribers or TFTP servers, upgraded one evening between
mid-2004 and the end of 2005. Each server's bundle is a `.zip`, a `.tar.gz`, a folder (a copied
C: drive) or, now and then, only its Windows Installer log gzipped. It holds what a collection
holds: the Windows Installer verbose log of the CallManager package (MSI 3.x lines with the time
of day, a share in the older MSI 2.0 shape; UTF-16LE with BOM or UTF-8, CRLF), the upgrade
driver's log, ServPrep on subscribers, the Backup Utility, DBInst and DC Directory logs on
publishers and C:\\UpgradeSummary.txt. Every line shape comes from the fixture generator
(fixtures/tools/gen_fixtures.py: cluster_bundle, cisco_text_logs and their line makers); this
script only changes the story: host names (unique in the fleet), dates, the Windows Installer
version, the outcome and root cause, and the size. Outcomes: most servers succeed; the others
fail with a root cause drawn from real Windows Installer errors (1920, 1923, 1722, 1335 after
2350, 1311, 1310, 1406, 1925; all ending in 1603), are cancelled by the user (1602), or left an
incomplete log (the collection was taken while the upgrade ran, or the log was cut).

The size of each Windows Installer log is drawn from the sizes of the real verbose logs of
../shared/corpus/real (its MANIFEST.tsv, next to the source tree; a built-in table of those
sizes when it is missing); the log grows to it with the engine's file, registry and component
lines of InstallFiles. No byte of the corpus is read, only its sizes.

Deterministic for a seed (each cluster has its own random stream, so the work can be split over
processes). `DIR/fleet.tsv` lists every bundle with its host, role, intended outcome and cause.

`bench` generates the fleet (or reuses DIR when it holds the same N and seed), then for each
engine and process count scans every bundle into one fresh database with P concurrent
`upglog scan --quiet --db DB` processes, each given 1/P of the bundles (upglog derives each
server's host itself), and prints: wall time, bundles per second, milliseconds per bundle,
database size, findings, and the time of each query of a fleet dashboard run through
`upglog query` (the slowest named). Every configuration's outcome counts and findings must equal
the one-process SQLite run; a difference is printed as MISMATCH and makes the exit status 1.
PostgreSQL runs through tests/pg_server.py (a throwaway server the benchmark starts), and is
skipped with a line when that harness or PostgreSQL is missing or this upglog was built without
it. The benchmark never fails on time.
"""

import argparse
import datetime
import gzip
import importlib.util
import io
import json
import multiprocessing
import os
import pathlib
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile

SRC = pathlib.Path(__file__).resolve().parents[2]
FORMAT_VERSION = "fleet-3"

# Sizes in bytes of the real Windows Installer verbose logs of ../shared/corpus/real (whole
# logs only: the excerpts of issue threads are left out), used when the corpus is missing.
BUILTIN_SIZES = [7382, 38826, 50200, 61804, 83434, 92282, 102428, 133356, 137344, 168688,
                 280976, 281304, 309216, 316792, 322394, 377876, 378122, 391306, 429284,
                 433196, 440334, 482734, 505110, 530794, 717896, 2473782, 2670644]


def load_gen_fixtures():
    path = SRC / "fixtures" / "tools" / "gen_fixtures.py"
    spec = importlib.util.spec_from_file_location("gen_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def corpus_sizes(corpus):
    """The sizes of the real verbose logs, from MANIFEST.tsv (or the files themselves)."""
    manifest = corpus / "MANIFEST.tsv"
    sizes = []
    if manifest.is_file():
        with open(manifest, encoding="utf-8") as f:
            head = f.readline().rstrip("\n").split("\t")
            for row in f:
                r = dict(zip(head, row.rstrip("\n").split("\t")))
                if r.get("kind") != "msi-verbose" or r.get("file", "").startswith("excerpt-"):
                    continue
                p = corpus / r["file"]
                try:
                    sizes.append(p.stat().st_size if p.exists() else int(r["bytes"]))
                except (ValueError, KeyError):
                    pass
    return (sorted(sizes), "corpus") if len(sizes) >= 5 else (BUILTIN_SIZES, "built-in table")


# ------------------------------------------------------------------------------------------
# root causes: (code, failing action, its description, the op line before the error, message)
# ------------------------------------------------------------------------------------------
BIN = "C:\\Program Files\\Cisco\\Bin\\"
CAUSES = {
    "1920": ("StartServices", "Starting services",
             "Executing op: ServiceControl(,Name={svc},Action=1,Wait=1,)",
             "Error 1920. Service '{svc}' ({svc}) failed to start.  Verify that you have "
             "sufficient privileges to start system services."),
    "1923": ("InstallServices", "Installing new services",
             "Executing op: ServiceInstall(Name={svc},DisplayName={svc},ImagePath=" + BIN
             + "{exe}.exe,ServiceType=16,StartType=2,ErrorControl=1,,,StartName=.\\CCMService,Password=**********,,)",
             "Error 1923. Service '{svc}' ({svc}) could not be installed.  Verify that you have "
             "sufficient privileges to install system services."),
    "1722": ("InstallFinalize", "",
             "Executing op: CustomActionSchedule(Action=DBInstall,ActionType=3090,Source="
             + BIN + "DBInstall.exe,Target=/upgrade /server {pub} /db CCM0300,)",
             "Error 1722. There is a problem with this Windows Installer package. A program run as "
             "part of the setup did not finish as expected. Contact your support personnel or "
             "package vendor.  Action DBInstall, location: " + BIN
             + "DBInstall.exe, command: /upgrade /server {pub} /db CCM0300 "),
    "1335": ("InstallFiles", "Copying new files",
             "DEBUG: Error 2350:  FDI server error",
             "Error 1335. The cabinet file 'CCM401_2.cab' required for this installation is corrupt "
             "and cannot be used. This could indicate a network error, an error reading from the "
             "CD-ROM, or a problem with this package."),
    "1311": ("InstallFiles", "Copying new files",
             "Executing op: SetSourceFolder(Folder=1\\Cisco\\Bin\\)",
             "Error 1311. Source file not found: D:\\CCM401\\CCM401_3.cab.  Verify that the "
             "file exists and that you can access it."),
    "1310": ("InstallFiles", "Copying new files",
             "Executing op: FileCopy(SourceName=ccm.dll,SourceCabKey=ccm.dll,DestName=ccm.dll,"
             "Attributes=0,FileSize=788480,PerTick=32768,,VerifyMedia=1,,,,,CheckCRC=0,"
             "Version=4.0.1.13,Language=1033,InstallMode=58982400,,,,,,)",
             "Error 1310. Error writing to file: " + BIN + "ccm.dll.  "
             "System error 32.  Verify that you have access to that directory."),
    "1406": ("WriteRegistryValues", "Writing system registry values",
             "Executing op: RegAddValue(Name=DBConnection0,Value=DSN=CiscoCallManager;SERVER={pub};"
             "DATABASE=CCM0300,)",
             "Error 1406. Could not write value DBConnection0 to key \\SOFTWARE\\Cisco Systems, "
             "Inc\\DBL.  Verify that you have sufficient access to that key, or contact your "
             "support personnel."),
    "1925": ("InstallFinalize", "",
             "Executing op: ActionStart(Name=RegisterProduct,Description=Registering product,Template=[1])",
             "Error 1925. You do not have sufficient privileges to complete this installation for "
             "all users of the machine.  Log on as administrator and then retry this installation."),
}
# Shares among failed servers (services and custom actions dominate real CallManager upgrades).
CAUSE_WEIGHTS = [("1920", 30), ("1722", 20), ("1923", 10), ("1335", 10), ("1311", 8),
                 ("1310", 10), ("1406", 7), ("1925", 5)]
# Outcome shares per server.
OUTCOMES = [("succeeded", 80), ("failed", 13), ("cancelled", 3), ("incomplete", 4)]
# Bundle formats: the shapes collections arrive in.
FORMATS = [("zip", 45), ("tar.gz", 35), ("dir", 12), ("gz", 8)]
SITES = ["LK", "RV", "NB", "HT", "MW", "SP", "CL", "BR", "GV", "WD", "PN", "OX", "EL", "FR",
         "KS", "DM", "TB", "AV", "QC", "JN"]
SERVICES = ["Cisco CallManager", "Cisco Tftp", "Cisco CTIManager", "Cisco RIS Data Collector",
            "Cisco Database Layer Monitor", "Cisco Messaging Interface", "Cisco CDR Insert"]


def pick(rnd, table):
    total = sum(w for _, w in table)
    x = rnd.uniform(0, total)
    for v, w in table:
        x -= w
        if x <= 0:
            return v
    return table[-1][0]


def b36(n, width):
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    s = ""
    while n:
        n, r = divmod(n, 36)
        s = digits[r] + s
    return s.rjust(width, "0")


# ------------------------------------------------------------------------------------------
# engine lines that fill InstallFiles up to the drawn size
# ------------------------------------------------------------------------------------------
def filler_pool(gf, seed, n=6000):
    """Engine lines of InstallFiles/WriteRegistryValues/ProcessComponents, in the shapes the
    fixture logs use; cycled through (from a random start) to grow a log to its size."""
    rnd = random.Random("filler:%s" % seed)
    out = []
    folders = ["C:\\Program Files\\Cisco\\Bin\\", "C:\\Program Files\\Cisco\\TFTPPath\\",
               "C:\\CiscoWebs\\ccmadmin\\", "C:\\CiscoWebs\\ccmuser\\", "C:\\Program Files\\Cisco\\Trace\\",
               "C:\\Program Files\\Common Files\\Cisco\\"]
    exts = ["dll", "exe", "asp", "xml", "js", "gif", "htm", "cnf", "sql", "ini"]
    while len(out) < n:
        folder = rnd.choice(folders)
        out.append("Executing op: SetTargetFolder(Folder=%s)" % folder)
        out.append("Executing op: SetSourceFolder(Folder=1\\%s)" % folder[3:])
        for _ in range(rnd.randint(3, 12)):
            name = "%s%s.%s" % (rnd.choice(["ccm", "cti", "tftp", "dbl", "ris", "cdr", "web", "sdl", "aupair"]),
                                gf.hexname(rnd, 4), rnd.choice(exts))
            out.append("Executing op: FileCopy(SourceName=%s|%s,SourceCabKey=%s,DestName=%s,Attributes=0,"
                       "FileSize=%d,PerTick=32768,,VerifyMedia=1,,,,,CheckCRC=0,Version=4.0.1.13,"
                       "Language=1033,InstallMode=58982400,,,,,,)"
                       % (gf.hexname(rnd, 8), name, gf.hexname(rnd, 12), name, rnd.randint(900, 2400000)))
            out.append("File: %s%s;\tTo be installed;\tWon't patch;\tNo existing file" % (folder, name))
            if rnd.random() < 0.3:
                out.append("Executing op: ComponentRegister(ComponentId=%s,KeyPath=%s%s,State=3,,Disk=1,"
                           "SharedDllRefCount=0,BinaryType=0)" % (gf.guid(rnd), folder, name))
            if rnd.random() < 0.2:
                out.append("Note: 1: 2205 2:  3: Patch ")
                out.append("Note: 1: 2228 2:  3: Patch 4: SELECT `Patch`.`File_`, `Patch`.`Header`, "
                           "`Patch`.`#_MsiPatchHeaders`, `Patch`.`StreamRef_`  FROM `Patch` WHERE "
                           "`Patch`.`File_` = ? AND `Patch`.`#_MsiPatchHeaders` IS NOT NULL ")
        if rnd.random() < 0.4:
            out.append("Executing op: RegOpenKey(Root=-2147483646,Key=SOFTWARE\\Cisco Systems, Inc.\\%s,,"
                       "BinaryType=0,,)" % rnd.choice(["DBL", "Directory Configuration", "TFTP", "RIS", "CCM"]))
            for _ in range(rnd.randint(1, 6)):
                out.append("Executing op: RegAddValue(Name=%s%d,Value=%s,)"
                           % (rnd.choice(["Trace", "Param", "Port", "Timeout", "Path"]), rnd.randint(0, 99),
                              rnd.choice(["#1", "#0", "#8404", "C:\\Program Files\\Cisco\\Trace",
                                          "#%d" % rnd.randint(1, 65535)])))
    return out


# ------------------------------------------------------------------------------------------
# one cluster
# ------------------------------------------------------------------------------------------
class Gen:
    """Per-process state: the fixture generator module and the filler pool."""

    def __init__(self, seed, sizes):
        self.gf = load_gen_fixtures()
        self.seed = seed
        self.sizes = sizes
        self.pool = filler_pool(self.gf, seed)
        gf = self.gf
        base = gf.MsiLog

        class Msi3(base):
            """MsiLog in Windows Installer 3.x shape (time of day on engine lines)."""
            modern3 = True

            def __init__(self, modern, clock, rnd):
                base.__init__(self, Msi3.modern3, clock, rnd)

        self.Msi3 = Msi3
        gf.MsiLog = Msi3


def with_ids(rnd):
    return "%02X:%02X" % (rnd.randrange(0x10, 0x100, 4), rnd.randrange(0x10, 0x100, 4))


def plan_cluster(seed, k, nservers):
    """The cluster's servers: host, role, date, start time, outcome, cause, format, size."""
    rnd = random.Random("cluster:%s:%d" % (seed, k))
    site = SITES[k % len(SITES)] + b36(k, 4)
    # a date between June 2004 and December 2005, any day of the week
    day0 = datetime.date(2004, 6, 1) + datetime.timedelta(days=rnd.randrange(0, 580))
    servers = []
    roles = ["Publisher"]
    for i in range(1, nservers):
        roles.append("TFTP" if i == 1 and rnd.random() < 0.35 else "Subscriber")
    nsub = ntftp = 0
    from_v = pick(rnd, [("3.3(4)", 50), ("3.3(3)", 25), ("3.3(2)", 10), ("3.2(3)", 12), ("3.1(4)", 3)])
    os_v = pick(rnd, [("2000.2.6", 70), ("2000.2.5", 22), ("2000.2.4", 8)])
    t = rnd.uniform(18.5, 21.0) * 3600
    for role in roles:
        if role == "Publisher":
            suffix = "PUB01"
        elif role == "TFTP":
            ntftp += 1
            suffix = "TFTP%02d" % ntftp
        else:
            nsub += 1
            suffix = "SUB%02d" % nsub
        outcome = pick(rnd, OUTCOMES)
        cause = pick(rnd, CAUSE_WEIGHTS) if outcome == "failed" else ""
        day = day0
        if t > 22.6 * 3600:            # the next server waits for the next evening
            day = day0 + datetime.timedelta(days=1)
            t = rnd.uniform(18.5, 20.0) * 3600
        h, rem = divmod(int(t), 3600)
        servers.append(dict(
            host="%s-%s" % (site, suffix), role=role, day=day, start=(h, rem // 60, rem % 60),
            outcome=outcome, cause=cause, fmt=pick(rnd, FORMATS),
            msi3=rnd.random() < 0.8, utf16=rnd.random() < 0.75, nt="2" if rnd.random() < 0.02 else "3",
            from_v=from_v, os=os_v, seed=rnd.getrandbits(30), size_pick=rnd.random(),
            size_jitter=rnd.uniform(0.85, 1.2), filler_at=rnd.getrandbits(20), cut=rnd.uniform(0.3, 0.9),
            client=with_ids(rnd), server=with_ids(rnd), nested=with_ids(rnd), cpid=rnd.randrange(400, 4000, 4)))
        # next server: after this one (about 40-70 min), sometimes too early (an order problem)
        t += rnd.uniform(2400, 4200) if rnd.random() > 0.08 else rnd.uniform(300, 900)
        if day != day0:
            day0 = day
    return site, servers


def rewrite_failure(lines, marks, srv, pub, msi3):
    """cluster_msi writes one failure story (1920 in StartServices); put the server's own cause
    in its place, or turn it into a user's cancel (1602)."""
    root = marks["root"] - 1
    rv3 = marks["rv3"] - 1
    start = max(i for i in range(root) if lines[i].endswith("Doing action: StartServices"))
    if srv["outcome"] == "cancelled":
        # the user pressed Cancel on the progress dialog: no error, the action returns 2
        # (user exit), the transaction rolls back and msiexec returns 1602
        for i in range(rv3, len(lines)):
            lines[i] = (lines[i].replace("Return value 3.", "Return value 2.")
                        .replace("returning 1603", "returning 1602")
                        .replace("Return value: 1603", "Return value: 1602"))
        del lines[root - 2:root + 1]
        marks.pop("root")
        return
    code = srv["cause"]
    action, desc, op, msg = CAUSES[code]
    svc = SERVICES[srv["seed"] % len(SERVICES)]
    fill = dict(svc=svc, exe=svc.replace(" ", ""), host=srv["host"], pub=pub)
    for i in range(start, rv3 + 1):
        lines[i] = lines[i].replace("StartServices", action).replace("Starting services", desc).replace(
            "Template=Service: [1]", "Template=[1]")
    # the op line before the Error-table lookup
    j = root - 3
    prefix = lines[j][:lines[j].index("Executing op:")]
    if op.startswith("DEBUG:"):
        # the cabinet fails while a file is copied; the engine's debug line comes first
        lines[j] = prefix + CAUSES["1310"][2]
        lines.insert(root - 2, op)
        root += 1
        rv3 += 1
        marks["rv3"] = rv3 + 1
    else:
        lines[j] = prefix + op.format(**fill)
    lines[root - 1] = lines[root - 1].replace("= 1920 ", "= %s " % code)
    lines[root] = msg.format(**fill)
    marks["root"] = root + 1


def grow(lines, srv, target_chars, pool):
    """Adds InstallFiles engine lines after the log's FileCopy lines until it has its size."""
    have = sum(len(x) + 2 for x in lines)
    if have >= target_chars:
        return lines
    idx = [i for i, x in enumerate(lines) if "Executing op: FileCopy(" in x]
    if not idx:
        return lines
    need = target_chars - have
    per = need // len(idx) + 1
    out = []
    at = srv["filler_at"] % len(pool)
    pos = 0
    npool = len(pool)
    for i in idx:
        out.extend(lines[pos:i + 1])
        pos = i + 1
        prefix = lines[i][:lines[i].index("Executing op:")]
        got = 0
        chunk = []
        while got < per:
            line = prefix + pool[at]
            at += 1
            if at == npool:
                at = 0
            chunk.append(line)
            got += len(line) + 2
        out.extend(chunk)
    out.extend(lines[pos:])
    return out


def server_files(G, cluster_site, srv, pub, first_sub, date_tuple):
    """{relative path: bytes} of one server's collection."""
    gf = G.gf
    m, d, y = date_tuple
    gf.CLUSTER_DATE = date_tuple
    wd = datetime.date(int(y), int(m), int(d)).strftime("%a")
    gf.WDAYS[(m, d)] = wd
    G.Msi3.modern3 = srv["msi3"]
    fail = srv["outcome"] in ("failed", "cancelled")
    S = dict(dir=srv["host"].lower(), host=srv["host"], role=srv["role"], start=srv["start"],
             seed=srv["seed"], backup=None, fail=fail, nt=srv["nt"], client=srv["client"],
             server=srv["server"], nested=srv["nested"], cpid=srv["cpid"], os=srv["os"],
             from_v=srv["from_v"], servprep=srv["role"] != "Publisher",
             tftp_only=srv["role"] == "TFTP")
    if srv["role"] == "Publisher":
        h, mi, s = srv["start"]
        b = h * 3600 + mi * 60 + s - random.Random(srv["seed"]).uniform(1500, 2400)
        S["backup"] = (int(b) // 3600, (int(b) // 60) % 60, int(b) % 60)
    lines, msirel, texts, marks = gf.cluster_bundle(S)
    marks = {k: n for k, (rel, n) in marks.items() if rel == msirel}
    if fail:
        rewrite_failure(lines, marks, srv, pub, srv["msi3"])
    mdy8 = "%s%02d%02d" % (y, int(m), int(d))
    usdate = "%s/%s/%s" % (m, d, y)

    def fix(text):
        text = text.replace("3/19/2005", usdate).replace("20050319", mdy8)
        if srv["role"] != "Publisher" or pub != "PUB01":
            text = re.sub(r"(?<![A-Z0-9-])PUB01(?![0-9])", pub, text)
        if srv["msi3"]:
            text = (text.replace("SHIP UNICODE 2.00.2600.1183", "SHIP UNICODE 3.01.4000.1823")
                    .replace("Windows Installer 2.0.2600.1183", "Windows Installer 3.1.4000.1823")
                    .replace("VersionMsi = 2.00", "VersionMsi = 3.01"))
        return text

    lines = [fix(x) for x in lines]
    texts = {rel: [fix(x) for x in tl] for rel, tl in texts.items()}
    if srv["outcome"] == "cancelled":
        for rel in texts:
            texts[rel] = [x.replace("returned 1603 (fatal error during installation)",
                                    "returned 1602 (user cancelled installation)")
                          .replace("Upgrade FAILED", "Upgrade CANCELLED") for x in texts[rel]]
    # the size, from the real logs' distribution (UTF-16 doubles the characters)
    size = G.sizes[min(int(srv["size_pick"] * len(G.sizes)), len(G.sizes) - 1)] * srv["size_jitter"]
    lines = grow(lines, srv, int(size / (2 if srv["utf16"] else 1)), G.pool)
    if srv["outcome"] == "incomplete":
        # collected while msiexec still ran, or the copy was cut: the log stops mid-line
        cut = int(len(lines) * srv["cut"])
        lines = lines[:cut] + [lines[cut][:len(lines[cut]) // 2]]
        upg = [r for r in texts if "/CCMUpgrade_" in r][0]
        tl = texts[upg]
        k = max(i for i, x in enumerate(tl) if "Running: msiexec.exe" in x)
        texts[upg] = tl[:k + 1]
        texts.pop("C/UpgradeSummary.txt", None)
    out = {}
    if srv["utf16"]:
        data = gf.enc_utf16(lines)
    else:
        data = gf.enc_text(lines, "utf-8")
    if srv["outcome"] == "incomplete":
        # no line end after the cut line (CR LF is 4 bytes in UTF-16)
        data = data[:-len("\r\n".encode("utf-16-le" if srv["utf16"] else "utf-8"))]
    out[msirel] = data
    for rel, tl in texts.items():
        out[rel] = gf.enc_text(tl, "cp1252")
    # DBInst and DC Directory run inside the installer's later actions: a collection taken
    # while the installer still ran (the cut log) cannot hold their logs yet.
    if srv["role"] == "Publisher" and srv["outcome"] != "incomplete":
        out.update(publisher_extras(G, srv, pub, first_sub, date_tuple, marks, lines, msirel))
    return out, msirel


def publisher_extras(G, srv, pub, first_sub, date_tuple, marks, lines, msirel):
    """DBInst and DC Directory logs of the publisher, from cisco_text_logs (their shapes and
    stories: a database migration that succeeds, or fails to reach SQL Server (1069) when the
    root cause is the DBInstall custom action)."""
    gf = G.gf
    m, d, y = date_tuple
    h, mi, s = srv["start"]
    t0 = h * 3600 + mi * 60 + s
    failed = srv["outcome"] == "failed" and srv["cause"] == "1722"
    # the migration runs late in InstallFinalize: about 20 min after the start, or just before
    # the failure
    t_db = t0 + 1200.0
    tag = "%02d%02d%s" % (int(m), int(d), y[2:])
    P = dict(failed=failed, seed=srv["seed"], dparts=date_tuple, host=pub,
             subscriber=first_sub or "CRS01", tag=tag, dbtag="%s_%02d%02d%02d" % (tag, h, mi, s),
             msilog_win="C:\\" + msirel[2:].replace("/", "\\"),
             dblog_win="C:\\Program Files\\Common Files\\Cisco\\Logs\\DBInst_%s_%02d%02d%02d.log" % (tag, h, mi, s),
             user_dom="%s\\Administrator" % pub, backup_host="FS%02d" % (srv["seed"] % 9 + 1),
             bars_tar="%s_%s%02d%02d" % (pub, y, int(m), int(d)), fake_pwd="Fleet-NotARealPassword-%04d" % (srv["seed"] % 10000),
             t_bars=(max(h - 1, 0), mi, s), t_sqlsp=(max(h - 1, 0), 10, 0), t_sqlstp=(13, 42, 10),
             t_upg=(h, mi, s), t_servprep=(h, mi, s), t_msi_start=t0, t_msi_end=t0 + 2400.0,
             t_dcd=t_db - 200.0, t_db=t_db, t_db_end=t_db + 96.0, t_ok_clicked=t_db + 190.0)
    texts, _ = gf.cisco_text_logs(P)
    out = {}
    for rel, (tl, codec) in texts.items():
        if "/DBInst_" in rel or rel.startswith("C/Dcdsrvr/"):
            out[rel] = gf.enc_text(tl, codec)
    return out


def gz_bytes(data, name=None):
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name or "", mode="wb", fileobj=buf, compresslevel=6, mtime=0) as g:
        g.write(data)
    return buf.getvalue()


def write_bundle(outdir, srv, files, msirel, date_tuple):
    """One server's collection in its format; returns (name, bytes written)."""
    m, d, y = date_tuple
    base = "%s_%s%02d%02d" % (srv["host"].lower(), y, int(m), int(d))
    mtime = datetime.datetime(int(y), int(m), int(d), 23, 30).timestamp()
    fmt = srv["fmt"]
    if fmt == "zip":
        name = base + ".zip"
        with zipfile.ZipFile(outdir / name, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            dt = (int(y), int(m), int(d), 23, 30, 0)
            for rel, data in files.items():
                zi = zipfile.ZipInfo(rel, dt)
                zi.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(zi, data)
    elif fmt == "tar.gz":
        name = base + ".tar.gz"
        with open(outdir / name, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as g:
                with tarfile.open(fileobj=g, mode="w", format=tarfile.GNU_FORMAT) as tf:
                    for rel, data in files.items():
                        ti = tarfile.TarInfo(rel)
                        ti.size = len(data)
                        ti.mtime = int(mtime)
                        ti.mode = 0o644
                        tf.addfile(ti, io.BytesIO(data))
    elif fmt == "gz":
        # only the Windows Installer log, gzipped (what a hurried collection sends)
        leaf = msirel.rsplit("/", 1)[1]
        name = "%s_%s.gz" % (srv["host"].lower(), leaf)
        (outdir / name).write_bytes(gz_bytes(files[msirel], leaf))
    else:
        name = base
        for rel, data in files.items():
            p = outdir / name / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            os.utime(p, (mtime, mtime))
    path = outdir / name
    size = path.stat().st_size if path.is_file() else sum(
        f.stat().st_size for f in path.rglob("*") if f.is_file())
    if path.is_file():
        os.utime(path, (mtime, mtime))
    return name, size


_G = None


def _init(seed, sizes):
    global _G
    _G = Gen(seed, sizes)


def gen_cluster(args):
    k, nservers, outdir = args
    G = _G
    site, servers = plan_cluster(G.seed, k, nservers)
    pub = servers[0]["host"]
    first_sub = next((s["host"] for s in servers[1:] if s["role"] == "Subscriber"), None)
    rows = []
    for srv in servers:
        day = srv["day"]
        date_tuple = (str(day.month), str(day.day), str(day.year))
        files, msirel = server_files(G, site, srv, pub, first_sub, date_tuple)
        name, size = write_bundle(pathlib.Path(outdir), srv, files, msirel, date_tuple)
        rows.append("\t".join([name, site, srv["host"], srv["role"].lower(), srv["outcome"],
                               srv["cause"], day.isoformat(), srv["fmt"],
                               "utf-16le" if srv["utf16"] else "utf-8",
                               "msi3" if srv["msi3"] else "msi2", str(size)]))
    return rows


def cluster_sizes(seed, n):
    """How many servers each cluster has (1 publisher + 0-4), until n bundles."""
    rnd = random.Random("fleet:%s" % seed)
    out, total = [], 0
    while total < n:
        k = min(1 + pick(rnd, [(0, 15), (1, 30), (2, 25), (3, 18), (4, 12)]), n - total)
        out.append(k)
        total += k
    return out


def generate(n, outdir, seed, procs=None, corpus=None, quiet=False):
    outdir = pathlib.Path(outdir)
    stamp = outdir / "fleet.json"
    want = dict(format=FORMAT_VERSION, bundles=n, seed=seed)
    if stamp.is_file():
        try:
            if json.loads(stamp.read_text()) .get("params") == want:
                if not quiet:
                    print("fleet: reusing %s (%d bundles, seed %s)" % (outdir, n, seed))
                return outdir
        except ValueError:
            pass
    bdir = outdir / "bundles"
    if bdir.exists():
        shutil.rmtree(bdir)
    bdir.mkdir(parents=True)
    if stamp.exists():
        stamp.unlink()
    sizes, origin = corpus_sizes(pathlib.Path(corpus) if corpus else SRC.parent / "shared" / "corpus" / "real")
    plan = cluster_sizes(seed, n)
    start = time.perf_counter()
    procs = procs or os.cpu_count() or 1
    jobs = [(k, m, str(bdir)) for k, m in enumerate(plan)]
    rows = []
    if procs > 1:
        with multiprocessing.Pool(procs, initializer=_init, initargs=(seed, sizes)) as pool:
            for r in pool.imap(gen_cluster, jobs, chunksize=8):
                rows.extend(r)
    else:
        _init(seed, sizes)
        for j in jobs:
            rows.extend(gen_cluster(j))
    with open(outdir / "fleet.tsv", "w", encoding="utf-8") as f:
        f.write("bundle\tcluster\thost\trole\toutcome\tcause\tdate\tformat\tencoding\tmsi\tbytes\n")
        f.write("".join(r + "\n" for r in rows))
    total = sum(int(r.rsplit("\t", 1)[1]) for r in rows)
    stamp.write_text(json.dumps(dict(params=want, clusters=len(plan), bytes=total, sizes_from=origin)) + "\n")
    if not quiet:
        print("fleet: %d bundles of %d clusters in %s, %.1f MB on disk, log sizes from the %s, %.1f s"
              % (n, len(plan), bdir, total / 1e6, origin, time.perf_counter() - start))
    return outdir


def main_gen(a):
    generate(a.bundles, a.out, a.seed, a.jobs, a.corpus)



# ------------------------------------------------------------------------------------------
# the benchmark
# ------------------------------------------------------------------------------------------
# A fleet dashboard's queries. Servers: the latest row of each host (a host scanned again gets
# a new row in its new scan). {week} is the engine's expression for the ISO week of a time.
LATEST = "SELECT * FROM servers WHERE id IN (SELECT max(id) FROM servers GROUP BY host)"
DASHBOARD = [
    ("outcome counts",
     "SELECT outcome, count(*) AS servers FROM (%s) s GROUP BY outcome ORDER BY outcome" % LATEST),
    ("failures by root-cause code",
     "SELECT f.code, count(*) AS servers FROM (%s) s JOIN findings f ON f.id = s.finding_id "
     "WHERE s.outcome IN ('failed', 'cancelled') GROUP BY f.code ORDER BY 2 DESC, 1" % LATEST),
    ("failures by host",
     "SELECT host, count(*) AS failed_files, min(failed_at) AS first FROM verdicts "
     "WHERE outcome IN ('failed', 'cancelled') GROUP BY host ORDER BY 2 DESC, 1 LIMIT 50"),
    ("failures by week",
     "SELECT {week} AS week, count(*) AS servers FROM (%s) s "
     "WHERE s.outcome IN ('failed', 'cancelled') AND s.finished IS NOT NULL "
     "GROUP BY 1 ORDER BY 1" % LATEST),
    ("top noise rules",
     "SELECT rule_id, sum(count) AS lines, count(*) AS files FROM rule_hits "
     "WHERE severity = 'noise' GROUP BY rule_id ORDER BY 2 DESC, 1 LIMIT 10"),
    ("failing actions",
     "SELECT action, count(*) AS files FROM verdicts WHERE outcome = 'failed' "
     "GROUP BY action ORDER BY 2 DESC, 1 LIMIT 20"),
    ("error rules",
     "SELECT rule_id, count(*) AS findings FROM findings WHERE level >= 3 "
     "GROUP BY rule_id ORDER BY 2 DESC, 1 LIMIT 20"),
    ("latest failures",
     "SELECT s.host, s.finished, f.code, f.text FROM (%s) s JOIN findings f ON f.id = s.finding_id "
     "WHERE s.outcome = 'failed' ORDER BY s.finished DESC LIMIT 50" % LATEST),
]
WEEK = {"sqlite": "strftime('%Y-W%W', s.finished)",
        "postgresql": "to_char(CAST(s.finished AS timestamp), 'IYYY-\"W\"IW')"}
CHECK = [
    ("files", "SELECT count(*) FROM files"),
    ("findings", "SELECT count(*) FROM findings"),
    ("file outcomes", "SELECT outcome, count(*) FROM verdicts GROUP BY outcome ORDER BY outcome"),
    ("server outcomes", "SELECT outcome, count(*) FROM (%s) s GROUP BY outcome ORDER BY outcome" % LATEST),
    ("root-cause codes", DASHBOARD[1][1]),
]


def query(upglog, db, sql, fmt="csv"):
    """Runs one statement through `upglog query` (SQLite or PostgreSQL); CSV with a header.
    Returns the output and the wall time, process start included."""
    cmd = [upglog, "query", "--db", db, "--format", fmt, sql]
    start = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - start
    if p.returncode != 0:
        raise RuntimeError("query failed (%d): %s\n  %s" % (p.returncode, p.stderr.strip(), sql))
    return p.stdout, took


def split(items, n):
    """n contiguous shares (a cluster's servers stay together; upglog builds a scan's servers
    and checks from what that scan read)."""
    k, r = divmod(len(items), n)
    out, at = [], 0
    for i in range(n):
        m = k + (1 if i < r else 0)
        out.append(items[at:at + m])
        at += m
    return out


def run_scans(upglog, db, groups, procs, jobs, batch):
    """P workers, each with 1/P of the clusters. batch "share": one `upglog scan` per worker
    with all of its bundles; "cluster": each worker scans its clusters one after the other,
    one `upglog scan` per cluster (upglog treats the servers of one scan as one cluster)."""
    cmd0 = [upglog, "scan", "--quiet", "--db", db] + (["--jobs", str(jobs)] if jobs else [])
    errs = []

    def scan(bundles):
        p = subprocess.run(cmd0 + ["--"] + bundles, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode not in (0, 1):
            errs.append("scan exited %d: %s" % (p.returncode, p.stderr.decode("utf-8", "replace").strip()[-2000:]))

    def worker(share):
        if batch == "share":
            scan([b for g in share for b in g])
        else:
            for g in share:
                scan(g)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(share,)) for share in split(groups, procs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, errs


def db_size(upglog, engine, db):
    if engine == "sqlite":
        return sum(os.path.getsize(db + ext) for ext in ("", "-wal") if os.path.exists(db + ext))
    out, _ = query(upglog, db, "SELECT pg_database_size(current_database())")
    return int(out.splitlines()[1])


def measure(upglog, engine, db, groups, procs, jobs, batch):
    wall, errs = run_scans(upglog, db, groups, procs, jobs, batch)
    for e in errs:
        print("    ERROR  %s" % e)
    size = db_size(upglog, engine, db)
    facts = {name: query(upglog, db, sql)[0] for name, sql in CHECK}
    times = []
    for name, sql in DASHBOARD:
        sql = sql.replace("{week}", WEEK[engine])
        best = None
        for _ in range(3):
            out, took = query(upglog, db, sql)
            best = took if best is None else min(best, took)
        times.append((name, best, out))
    return dict(wall=wall, size=size, facts=facts, times=times, errs=errs)


def pg_available():
    sys.path.insert(0, str(SRC / "tests"))
    try:
        import pg_server  # noqa: F401  (tests/pg_server.py, the throwaway server harness)
    except ImportError:
        return None, "tests/pg_server.py is not in this tree"
    return pg_server, None


def main_bench(a):
    upglog = os.path.abspath(a.upglog)
    os.environ["UPGLOG_FLEET_BIN"] = upglog
    if not os.access(upglog, os.X_OK):
        raise SystemExit("fleet: %s is not an upglog binary (--upglog)" % upglog)
    fleet = pathlib.Path(a.dir or os.path.join(tempfile.gettempdir(), "upglog-fleet-%d-%s" % (a.bundles, a.seed)))
    generate(a.bundles, fleet, a.seed, None, a.corpus)
    bdir = fleet / "bundles"
    groups = {}
    with open(fleet / "fleet.tsv", encoding="utf-8") as f:
        next(f)
        for row in f:
            name, cluster = row.split("\t", 2)[:2]
            groups.setdefault(cluster, []).append(str(bdir / name))
    groups = [groups[k] for k in sorted(groups)]
    bundles = [b for g in groups for b in g]
    meta = json.loads((fleet / "fleet.json").read_text())
    procs = [int(x) for x in a.procs.split(",")]
    engines = [e.strip() for e in a.engines.split(",")]
    print("fleet: %d bundles (%d clusters, %.0f MB on disk), upglog %s, %d CPUs, one scan per %s"
          % (len(bundles), meta["clusters"], meta["bytes"] / 1e6, upglog, os.cpu_count() or 1,
             "cluster" if a.batch == "cluster" else "process"))
    results = []
    reference = None
    if a.reference:
        # counts of an earlier 1-process SQLite run of the same fleet, to compare with
        reference = dict(engine="sqlite", procs=1, db=a.reference,
                         facts={name: query(upglog, a.reference, sql)[0] for name, sql in CHECK},
                         times=[(n, 0.0, query(upglog, a.reference, q.replace("{week}", WEEK["sqlite"]))[0])
                                for n, q in DASHBOARD])
        print("fleet: counts are compared with %s" % a.reference)
    mismatch = False
    pg = None
    for engine in engines:
        if engine not in WEEK:
            raise SystemExit("fleet: unknown engine %r (sqlite, postgresql)" % engine)
        server = None
        if engine == "postgresql":
            mod, why = pg_available()
            if mod is None:
                print("fleet: PostgreSQL skipped: %s" % why)
                continue
            try:
                server = mod.PgServer()
                server.__enter__()
            except Exception as e:  # PgUnavailable, or the server did not start
                print("fleet: PostgreSQL skipped: %s" % e)
                continue
            pg = server
        try:
            for p in procs:
                if engine == "sqlite":
                    db = str(fleet / ("fleet-sqlite-%d.db" % p))
                    for ext in ("", "-wal", "-shm"):
                        if os.path.exists(db + ext):
                            os.remove(db + ext)
                else:
                    db = server.create_db("fleet_%d_%d" % (p, int(time.time() * 1000) % 100000))
                print("  %s, %d process%s ..." % (engine, p, "" if p == 1 else "es"), flush=True)
                try:
                    r = measure(upglog, engine, db, groups, p, a.jobs, a.batch)
                except RuntimeError as e:
                    if engine == "postgresql" and "postgres" in str(e).lower():
                        print("fleet: PostgreSQL skipped: %s" % str(e).splitlines()[0])
                        break
                    raise
                r.update(engine=engine, procs=p, db=db)
                results.append(r)
                slow = max(r["times"], key=lambda t: t[1])
                print("    %.1f s, %.1f bundles/s, %.1f MB, slowest query %s %.3f s"
                      % (r["wall"], len(bundles) / r["wall"], r["size"] / 1e6, slow[0], slow[1]), flush=True)
                if engine == "sqlite" and p == 1 and reference is None:
                    reference = r
                elif reference is not None:
                    for name, _ in CHECK:
                        if r["facts"][name].splitlines()[1:] != reference["facts"][name].splitlines()[1:]:
                            mismatch = True
                            print("  MISMATCH  %s, %d processes: %s differ from the 1-process SQLite run:\n"
                                  "    expected %s\n    got      %s" % (engine, p, name,
                                                                     reference["facts"][name].replace("\n", " "),
                                                                     r["facts"][name].replace("\n", " ")))
                if r["errs"]:
                    mismatch = True
        finally:
            if server is not None:
                server.__exit__(None, None, None)
    report(results, len(bundles), reference, fleet)
    if reference is None and results:
        print("fleet: no 1-process SQLite run to compare with; counts were not checked")
    if mismatch:
        print("\nfleet: MISMATCH: a configuration stored other counts than the 1-process SQLite run")
        return 1
    return 0


def report(results, n, reference, fleet):
    if not results:
        return
    print()
    print("%-10s %5s %8s %9s %10s %11s %9s %9s  %s" % ("engine", "procs", "bundles", "wall s", "bundles/s",
                                                       "ms/bundle", "db MB", "findings", "slowest dashboard query"))
    for r in results:
        findings = int(r["facts"]["findings"].splitlines()[1])
        slow = max(r["times"], key=lambda t: t[1])
        print("%-10s %5d %8d %9.1f %10.1f %11.2f %9.1f %9d  %s %.3f s"
              % (r["engine"], r["procs"], n, r["wall"], n / r["wall"], r["wall"] * 1000 / n,
                 r["size"] / 1e6, findings, slow[0], slow[1]))
    print("\ndashboard queries through `upglog query` (best of 3, seconds, process start included):")
    names = [t[0] for t in results[0]["times"]]
    head = "  %-28s" % "query" + "".join("%14s" % ("%s/%d" % (r["engine"][:6], r["procs"])) for r in results)
    print(head)
    for i, name in enumerate(names):
        print("  %-28s" % name + "".join("%14.3f" % r["times"][i][1] for r in results))
    if reference is not None:
        print("\nwhat the 1-process SQLite run stored (every other run must store the same):")
        for name, _ in CHECK:
            rows = [x for x in reference["facts"][name].splitlines()[1:] if x]
            print("  %-18s %s" % (name, ", ".join(rows)))
        want = {}
        with open(fleet / "fleet.tsv", encoding="utf-8") as f:
            next(f)
            for row in f:
                o = row.split("\t")[4]
                want[o] = want.get(o, 0) + 1
        print("  %-18s %s   (what the generator wrote; see doc/fleet.md)" % (
            "intended", ", ".join("%s,%d" % kv for kv in sorted(want.items()))))
        intended_vs_found(reference["db"], fleet)
        by_week = [t for t in reference["times"] if t[0] == "failures by week"][0][2]
        print("  %-18s %d weeks with failures" % ("weeks", max(0, len(by_week.splitlines()) - 1)))



def intended_vs_found(db, fleet):
    """The generator's intended outcome of each server against the one upglog stored."""
    upglog = os.environ.get("UPGLOG_FLEET_BIN")
    out, _ = query(upglog, db, "SELECT host, outcome FROM (%s) s" % LATEST)
    found = dict(line.split(",", 1) for line in out.splitlines()[1:] if line)
    table = {}
    with open(fleet / "fleet.tsv", encoding="utf-8") as f:
        next(f)
        for row in f:
            c = row.split("\t")
            key = (c[4], found.get(c[2], "(no such host)"))
            table[key] = table.get(key, 0) + 1
    print("  %-18s %s" % ("intended -> found", ", ".join(
        "%s->%s %d" % (k[0], k[1], v) for k, v in sorted(table.items()))))



def main_check(a):
    """The generator's own test: deterministic for a seed, another seed gives other bytes, and
    upglog finds what each server's story says (outcome and root-cause code)."""
    upglog = os.path.abspath(a.upglog)
    problems = []
    with tempfile.TemporaryDirectory(prefix="upglog-fleet-check-") as tmp:
        tmp = pathlib.Path(tmp)
        for d, seed in (("a", "7"), ("b", "7"), ("c", "8")):
            generate(a.bundles, tmp / d, seed, 1, a.corpus, quiet=True)

        def tree(root):
            return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
        ta, tb, tc = tree(tmp / "a"), tree(tmp / "b"), tree(tmp / "c")
        if ta != tb:
            problems.append("two runs with seed 7 wrote different files")
        if ta == tc:
            problems.append("seeds 7 and 8 wrote the same files")
        db = str(tmp / "check.db")
        bdir = tmp / "a" / "bundles"
        rows = [r.rstrip("\n").split("\t") for r in open(tmp / "a" / "fleet.tsv", encoding="utf-8")][1:]
        clusters = {}
        for r in rows:
            clusters.setdefault(r[1], []).append(str(bdir / r[0]))
        for bundles in clusters.values():
            p = subprocess.run([upglog, "scan", "--quiet", "--db", db, "--"] + bundles,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if p.returncode not in (0, 1):
                problems.append("upglog scan exited %d: %s" % (p.returncode, p.stderr.strip()))
        out, _ = query(upglog, db, "SELECT s.host, s.outcome, f.code FROM (%s) s "
                                   "LEFT JOIN findings f ON f.id = s.finding_id" % LATEST)
        found = {}
        for line in out.splitlines()[1:]:
            host, outcome, code = line.split(",")
            found[host] = (outcome, code)
        # the first error by time: the cabinet's debug line (2350) before 1335, and on a
        # publisher DBInst's own failed start of SQL Server (1069) before msiexec's 1722
        first = {"1335": {"2350"}, "1722": {"1722", "1069"}}
        checked = 0
        meant_counts = {}
        for r in rows:
            meant_counts[r[4]] = meant_counts.get(r[4], 0) + 1
            host, role, meant, cause, fmt = r[2], r[3], r[4], r[5], r[7]
            got = found.get(host)
            if got is None and meant == "incomplete" and fmt == "gz":
                # Only the cut installer log, gzipped: its property dump (ComputerName) was
                # never written, and a hyphenated host name cannot come from a file name.
                continue
            checked += 1
            if got is None:
                problems.append("%s: no server of that name" % host)
            elif meant == "incomplete" and got[0] != "incomplete":
                problems.append("%s: meant as incomplete, upglog says %s" % (host, got[0]))
            elif meant == "succeeded" and got[0] != "succeeded":
                problems.append("%s: meant to succeed, upglog says %s" % (host, got[0]))
            elif meant == "failed" and (got[0] != "failed" or got[1] not in first.get(cause, {cause})):
                problems.append("%s: meant to fail with %s, upglog says %s %s" % (host, cause, got[0], got[1]))
            elif meant == "cancelled" and (got[0] != "cancelled" or got[1] != "1602"):
                problems.append("%s: meant as cancelled, upglog says %s %s" % (host, got[0], got[1]))
    for p in problems:
        print("fleet check: %s" % p)
    print("fleet check: %d bundles (%s), %d servers checked, %s"
          % (a.bundles, ", ".join("%s %d" % kv for kv in sorted(meant_counts.items())), checked,
             "FAILED" if problems else "ok"))
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen", help="write N synthetic bundles")
    g.add_argument("--bundles", type=int, required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--seed", default="1")
    g.add_argument("--jobs", type=int, default=None, help="generator processes (default: CPUs)")
    g.add_argument("--corpus", default=None, help="real corpus folder for the size distribution")
    b = sub.add_parser("bench", help="scan the fleet with P processes into each engine")
    b.add_argument("--bundles", type=int, default=10000)
    b.add_argument("--procs", default="1,2,4")
    b.add_argument("--engines", default="sqlite,postgresql")
    b.add_argument("--upglog", default=str(SRC / "build" / "upglog"))
    b.add_argument("--dir", default=None, help="fleet folder (default: in the temporary folder)")
    b.add_argument("--seed", default="1")
    b.add_argument("--jobs", type=int, default=None, help="--jobs of each upglog scan")
    b.add_argument("--corpus", default=None)
    b.add_argument("--reference", default=None,
                   help="SQLite database of an earlier 1-process run of this fleet to compare counts with")
    b.add_argument("--batch", choices=["cluster", "share"], default="cluster",
                   help="one upglog scan per cluster (default), or one per process with all its bundles")
    c = sub.add_parser("check", help="the generator's own test (deterministic, upglog agrees)")
    c.add_argument("--bundles", type=int, default=120)
    c.add_argument("--upglog", default=str(SRC / "build" / "upglog"))
    c.add_argument("--corpus", default=None)
    a = ap.parse_args()
    if a.cmd == "check":
        os.environ["UPGLOG_FLEET_BIN"] = os.path.abspath(a.upglog)
        return main_check(a)
    if a.cmd == "gen":
        main_gen(a)
        return 0
    return main_bench(a)


if __name__ == "__main__":
    sys.exit(main())
