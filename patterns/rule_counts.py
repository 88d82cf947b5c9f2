#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the rule-count table of patterns/README.md from the *.rules files themselves.

usage: rule_counts.py [--check] [PATTERNS_DIR]

The table sits between the lines `<!-- rule-counts: begin -->` and `<!-- rule-counts: end -->`
of README.md in PATTERNS_DIR (default: this script's folder). Without --check the table is
rewritten in place; with --check nothing is written and the exit status is 1 when the table
differs from what the rules say (the test suite runs this), 0 when it is up to date.
"""

import pathlib
import re
import sys

BEGIN = "<!-- rule-counts: begin -->"
END = "<!-- rule-counts: end -->"
EVIDENCE = ("verified", "observed", "inferred")


def count(path):
    """(rules, {evidence: n}, families) of one rules file, as the catalogue reads it."""
    rules, ev, fams = 0, dict.fromkeys(EVIDENCE, 0), set()
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("rule "):
            if current is not None:
                ev[current] += 1
            rules += 1
            current = "inferred"  # the catalogue's default
        elif current is not None and re.match(r"\s+evidence\s", line):
            current = line.split()[1]
        elif current is not None and re.match(r"\s+family\s", line):
            fams.update(line.split()[1:])
    if current is not None:
        ev[current] += 1
    return rules, ev, fams


def table(folder):
    rows = ["| file | rules | verified | observed | inferred | families |",
            "|---|---|---|---|---|---|"]
    total, tev = 0, dict.fromkeys(EVIDENCE, 0)
    for path in sorted(folder.glob("*.rules")):
        n, ev, fams = count(path)
        total += n
        for k in EVIDENCE:
            tev[k] += ev[k]
        rows.append(f"| `{path.name}` | {n} | " + " | ".join(str(ev[k]) for k in EVIDENCE)
                    + f" | {' '.join(sorted(fams))} |")
    rows.append(f"| all | {total} | " + " | ".join(str(tev[k]) for k in EVIDENCE) + " | |")
    return "\n".join(rows) + "\n"


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    folder = pathlib.Path(args[0]) if args else pathlib.Path(__file__).resolve().parent
    readme = folder / "README.md"
    text = readme.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        print(f"{readme}: no {BEGIN} ... {END} section", file=sys.stderr)
        return 2
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + BEGIN + "\n" + table(folder) + END + tail
    if check:
        if new != text:
            print(f"{readme}: the rule-count table is out of date; run {sys.argv[0]}",
                  file=sys.stderr)
            return 1
        return 0
    readme.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
