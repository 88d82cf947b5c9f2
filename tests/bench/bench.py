#!/usr/bin/env python3
"""upglog benchmark: the same bytes through upglog, ripgrep and zcat, side by side.

    python3 tests/bench/bench.py --upglog build/upglog --genlog build/tests/bench/genlog

(or `meson test -C build --benchmark --verbose`). For each size it generates a
deterministic synthetic MSI verbose log (tests/bench/genlog.c), its gzip and its UTF-16
copy, exports the catalogue with `upglog rules --export-regex`, and times

  rg -c -f REGEXES LOG            the same regexes, counting matching lines
  zcat LOG.gz > /dev/null         decompression alone
  upglog scan --jobs 1 LOG        everything on one thread
  upglog scan LOG                 default jobs (one worker per CPU)
  upglog scan LOG.gz / LOG16      gzip and UTF-16 input

then 10,000 small files, and the re-scan of an unchanged bundle. It prints each time (best
of --reps runs), the ratios against their targets, and upglog's peak memory. It reports; it
never fails on time (exit 0 unless something could not run).

Line mixes: the same comparison, `upglog scan --jobs 1` against `rg -c -f`, on three shapes of
--mix-mb (default 128) MB each:

  synthetic MSI 3.x     genlog's default log (time-stamped engine lines, many repeats)
  real corpus           the real logs of ../shared/corpus/real and ../shared/corpus/installshield
                        (next to the source tree, or --corpus), decoded the way upglog reads them
                        (UTF-16 and Windows-1252 bytes to UTF-8, BOMs dropped) so that ripgrep
                        gets the very bytes upglog gets, concatenated and repeated to the size;
                        written to the temporary folder, skipped with a line when it is missing
  synthetic MSI 2.0     `genlog SIZE msi20`: no time of day on engine lines, nearly every
                        message distinct
`--mixes-only` runs just these.
"""
import argparse
import codecs
import gzip
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

TARGETS = {
    "jobs 1 / rg": 1.0,
    "default jobs / rg": 0.5,
    "gz / zcat": 1.15,
    "utf-16 / utf-8": 1.5,
}


def timed(cmd, env=None, stdout=subprocess.DEVNULL):
    """Seconds a command took, and its stderr."""
    start = time.perf_counter()
    p = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - start
    if p.returncode not in (0, 1):
        raise SystemExit(f"bench: {' '.join(map(str, cmd))} exited {p.returncode}:\n"
                         f"{p.stderr.decode(errors='replace')}")
    return elapsed, p.stderr.decode(errors="replace")


def best(cmd, reps, env=None):
    """Best time of `reps` runs, and the largest peak memory upglog reported."""
    times, peak = [], 0.0
    for _ in range(reps):
        t, err = timed(cmd, env)
        times.append(t)
        m = re.search(r"peak memory ([0-9.]+) (B|KB|MB|GB)", err)
        if m:
            scale = {"B": 1e-6, "KB": 1e-3, "MB": 1.0, "GB": 1e3}[m.group(2)]
            peak = max(peak, float(m.group(1)) * scale)
    return min(times), peak


def scan(upglog, db, path, *opts):
    return [upglog, "scan", "--force", "--db", db, *opts, path]


def bench_size(args, work, mb, rows, peaks):
    log = work / f"msi-{mb}.log"
    log16 = work / f"msi-{mb}-utf16.log"
    loggz = work / f"msi-{mb}.log.gz"
    if not log.exists():
        with log.open("wb") as f:
            subprocess.run([args.genlog, str(mb)], stdout=f, check=True)
        with log16.open("wb") as f:
            subprocess.run([args.genlog, str(mb), "utf16"], stdout=f, check=True)
        with loggz.open("wb") as f:
            subprocess.run(["gzip", "-c", "-6", str(log)], stdout=f, check=True)
    pats = work / "regexes.txt"
    with pats.open("w") as f:
        subprocess.run([args.upglog, "rules", "--export-regex"], stdout=f, check=True)
    db = work / "bench.db"
    up = args.upglog
    r = {}
    if shutil.which("rg"):
        r["rg"], _ = best(["rg", "-c", "-f", pats, log], args.reps)
    r["zcat"], _ = best(["sh", "-c", f"zcat '{loggz}' > /dev/null"], args.reps)
    r["jobs1"], p1 = best(scan(up, db, log, "--jobs", "1"), args.reps)
    r["default"], p2 = best(scan(up, db, log), args.reps)
    r["gz"], p3 = best(scan(up, db, loggz), args.reps)
    r["gz1"], p4 = best(scan(up, db, loggz, "--jobs", "1"), args.reps)
    r["utf16"], p5 = best(scan(up, db, log16, "--jobs", "1"), args.reps)
    peaks.append(max(p1, p2, p3, p4, p5))
    size = log.stat().st_size / 1e6
    def line(what, t, ref=None, name=None):
        rate = f"{size / t:7.0f} MB/s" if t else ""
        ratio = ""
        if ref:
            ratio = f"{t / ref:5.2f}x"
            if name in TARGETS:
                ok = "meets" if t / ref <= TARGETS[name] else "MISSES"
                ratio += f"  (target <= {TARGETS[name]}: {ok})"
        rows.append(f"  {mb:>4} MB  {what:<34} {t:7.3f} s {rate}  {ratio}")
    if "rg" in r:
        line("rg -c -f (same regexes)", r["rg"])
    line("zcat > /dev/null", r["zcat"])
    line("upglog scan --jobs 1", r["jobs1"], r.get("rg"), "jobs 1 / rg")
    line(f"upglog scan (jobs {os.cpu_count()})", r["default"], r.get("rg"), "default jobs / rg")
    line(f"upglog scan .gz (jobs {os.cpu_count()})", r["gz"], r["zcat"], "gz / zcat")
    line("upglog scan .gz --jobs 1", r["gz1"], r["zcat"])
    line("upglog scan UTF-16 --jobs 1", r["utf16"], r["jobs1"], "utf-16 / utf-8")


def bench_small_files(args, work, rows, peaks):
    """10,000 small logs: the cost of each file beyond its bytes."""
    d = work / "small"
    if not d.exists():
        d.mkdir()
        sample = subprocess.run([args.genlog, "2k"], capture_output=True, check=True).stdout
        for i in range(args.small_files):
            (d / f"MSI{i:05x}.LOG").write_bytes(sample.replace(b"22:41:07", b"22:%02d:%02d" % (
                i // 60 % 60, i % 60)))
    one = work / "one"
    if not one.exists():
        one.mkdir()
        shutil.copy(next(d.iterdir()), one / "MSI00000.LOG")
    db = work / "small.db"
    t_all, peak = best(scan(args.upglog, db, d), args.reps)
    t_one, _ = best(scan(args.upglog, db, one), args.reps)
    peaks.append(peak)
    per = (t_all - t_one) / (args.small_files - 1) * 1000
    rows.append(f"  {args.small_files} small files: {t_all:.3f} s, {per:.3f} ms per file "
                f"(target < 1 ms: {'meets' if per < 1 else 'MISSES'})")


def bench_rescan(args, work, rows):
    """A bundle scanned once, then again unchanged."""
    bundle = work / "bundle.zip"
    if not bundle.exists():
        with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(work / f"msi-{args.sizes[0]}.log",
                    "C/Program Files/Common Files/Cisco/Logs/ccminst.log")
            for i in range(20):
                z.writestr(f"C/Dcdsrvr/log/dcd{i}.log", "12:00:00 ok\r\n" * 1000)
    db = work / "rescan.db"
    firsts, seconds = [], []
    for _ in range(args.reps):
        for p in (db, pathlib.Path(f"{db}-wal"), pathlib.Path(f"{db}-shm")):
            p.unlink(missing_ok=True)
        first, _ = timed([args.upglog, "scan", "--db", db, bundle])
        second, _ = timed([args.upglog, "scan", "--db", db, bundle])
        firsts.append(first)
        seconds.append(second)
    first, second = min(firsts), min(seconds)
    pct = 100 * second / first
    rows.append(f"  re-scan of an unchanged bundle: {first:.3f} s, then {second:.3f} s = "
                f"{pct:.1f}% (target < 5%: {'meets' if pct < 5 else 'MISSES'})")


def _cp1252_bytes(err):
    """Error handler: a byte outside a valid UTF-8 sequence is Windows-1252, as in upglog."""
    bad = err.object[err.start:err.end]
    return "".join(bytes([b]).decode("cp1252", errors="replace") for b in bad), err.end


codecs.register_error("upglog-cp1252", _cp1252_bytes)


def decode_like_upglog(raw):
    """A log file's bytes as the UTF-8 text upglog's decoder makes of them (src/decode.c)."""
    head = raw[:64]
    if raw.startswith(b"\xff\xfe"):
        text = raw[2:].decode("utf-16-le", errors="replace")
    elif raw.startswith(b"\xfe\xff"):
        text = raw[2:].decode("utf-16-be", errors="replace")
    elif len(head) >= 8 and not any(head[1::2]) and all(head[0::2]):
        text = raw.decode("utf-16-le", errors="replace")
    elif len(head) >= 8 and not any(head[0::2]) and all(head[1::2]):
        text = raw.decode("utf-16-be", errors="replace")
    else:
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        text = raw.decode("utf-8", errors="upglog-cp1252")
    data = text.replace("\0", "\ufffd").encode("utf-8")
    if data and not data.endswith((b"\n", b"\r")):
        data += b"\r\n"
    return data


def corpus_log(args, work):
    """The real corpus as one UTF-8 log of --mix-mb MB, or None (and why) when it is missing."""
    files = []
    for sub in ("real", "installshield"):
        d = args.corpus / sub
        if d.is_dir():
            files += sorted(p for p in d.iterdir() if p.is_file() and p.name != "MANIFEST.tsv")
    if not files:
        return None, f"no logs in {args.corpus}/real or {args.corpus}/installshield"
    out = work / f"corpus-{args.mix_mb}.log"
    if not out.exists():
        texts = [decode_like_upglog(p.read_bytes()) for p in files]
        target, total = args.mix_mb << 20, 0
        with out.open("wb") as f:
            while total < target:
                for t in texts:
                    f.write(t)
                    total += len(t)
                    if total >= target:
                        break
    return out, f"{len(files)} logs"


def bench_mixes(args, work, rows):
    """upglog scan --jobs 1 against rg -c -f on three line mixes of the same size."""
    mb = args.mix_mb
    pats = work / "regexes.txt"
    with pats.open("w") as f:
        subprocess.run([args.upglog, "rules", "--export-regex"], stdout=f, check=True)
    mixes = []
    v3 = work / f"msi-{mb}.log"
    if not v3.exists():
        with v3.open("wb") as f:
            subprocess.run([args.genlog, str(mb)], stdout=f, check=True)
    mixes.append(("synthetic MSI 3.x (genlog)", v3))
    real, why = corpus_log(args, work)
    if real:
        mixes.append((f"real corpus ({why}, repeated)", real))
    else:
        mixes.append(("real corpus", None))
    v2 = work / f"msi20-{mb}.log"
    if not v2.exists():
        with v2.open("wb") as f:
            subprocess.run([args.genlog, str(mb), "msi20"], stdout=f, check=True)
    mixes.append(("synthetic MSI 2.0 (genlog msi20)", v2))
    rows.append(f"  line mixes, {mb} MB each: rg -c -f (same regexes, same bytes) against "
                f"upglog scan --jobs 1")
    db = work / "mix.db"
    if shutil.which("rg"):
        # What rg spends before it reads a byte (compiling the regexes): part of each rg time.
        one = work / "one-line.log"
        one.write_bytes(b"MSI (s) (A4:B8): Doing action: InstallFinalize\r\n")
        start, _ = best(["rg", "-c", "-f", pats, one], args.reps)
        rows.append(f"    rg start-up (a one-line file; included in each rg time): {start:.3f} s")
    for name, log in mixes:
        if log is None:
            rows.append(f"    {name:<40} skipped: {why}")
            continue
        size = log.stat().st_size / 1e6
        up, _ = best(scan(args.upglog, db, log, "--jobs", "1"), args.reps)
        if not shutil.which("rg"):
            rows.append(f"    {name:<40} upglog {up:6.3f} s {size / up:5.0f} MB/s  (no rg)")
            continue
        rg, _ = best(["rg", "-c", "-f", pats, log], args.reps)
        ok = "meets" if up <= rg else "MISSES"
        rows.append(f"    {name:<40} rg {rg:6.3f} s  upglog {up:6.3f} s {size / up:5.0f} MB/s"
                    f"  {up / rg:5.2f}x  (target <= 1.0: {ok})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upglog", required=True)
    ap.add_argument("--genlog", required=True)
    ap.add_argument("--sizes", default="128,512",
                    help="log sizes in MB, comma separated (default 128,512)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--small-files", type=int, default=10000)
    ap.add_argument("--dir", help="keep generated inputs here (default: a temporary folder)")
    ap.add_argument("--mix-mb", type=int, default=128,
                    help="size of each line-mix log in MB (default 128)")
    ap.add_argument("--corpus", default=str(pathlib.Path(__file__).resolve().parents[2].parent
                                            / "shared" / "corpus"),
                    help="folder holding real/ and installshield/ (default: ../shared/corpus "
                         "next to the source tree)")
    ap.add_argument("--mixes-only", action="store_true",
                    help="run only the line-mix comparison")
    args = ap.parse_args()
    args.corpus = pathlib.Path(args.corpus)
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.upglog = os.path.abspath(args.upglog)
    args.genlog = os.path.abspath(args.genlog)
    tmp = None
    if args.dir:
        work = pathlib.Path(args.dir)
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="upglog-bench-")
        work = pathlib.Path(tmp.name)
    rows, peaks = [], []
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                   if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"upglog benchmark: {os.cpu_count()} CPUs ({cpu}), best of {args.reps} runs")
    if not shutil.which("rg"):
        print("  (ripgrep not installed: no rg column; apt-get install ripgrep)")
    # The prefilter is compiled once per catalogue and cached: time the cold run apart.
    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = dict(os.environ, UPGLOG_CACHE_DIR=str(cache))
    sample = work / "sample.log"
    sample.write_bytes(subprocess.run([args.genlog, "1"], capture_output=True,
                                      check=True).stdout)
    cold, _ = timed([args.upglog, "scan", "--force", "--db", work / "w.db", sample], env)
    warm, _ = timed([args.upglog, "scan", "--force", "--db", work / "w.db", sample], env)
    os.environ["UPGLOG_CACHE_DIR"] = str(cache)
    rows.append(f"  prefilter compile (first run of a catalogue, then cached): "
                f"{cold - warm:.3f} s")
    if args.mixes_only:
        bench_mixes(args, work, rows)
        print("\n".join(rows))
        if tmp:
            tmp.cleanup()
        return 0
    for mb in args.sizes:
        bench_size(args, work, mb, rows, peaks)
    bench_mixes(args, work, rows)
    bench_small_files(args, work, rows, peaks)
    bench_rescan(args, work, rows)
    peak = max(peaks) if peaks else 0
    rows.append(f"  upglog peak memory over all runs: {peak:.1f} MB "
                f"(target <= 67.1 MB = 64 MiB: {'meets' if peak <= 67.1 else 'MISSES'})")
    print("\n".join(rows))
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
