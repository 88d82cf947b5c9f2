#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compile the explain table (codes.tsv) into C.

usage: gen_codes.py INPUT.tsv OUTPUT.c

Each non-comment line of INPUT holds six TAB-separated columns:
space, code, name, severity, meaning, fix (see the header of codes.tsv); a name
or fix of "-" stands for none, so that no line ends in a blank column.
OUTPUT defines ul_explain_table[] and ul_explain_table_len (declared in
src/codes.h), sorted by (space, code) so explain.c can search it.

A malformed line is reported as 'file:line: reason' on stderr; if any line is
malformed, nothing is written and the exit status is 1 (2 for a bad command line).
"""

import re
import sys

# Same order as enum ul_code_space in include/upglog/explain.h.
SPACES = {
    "msi-exit": "UL_SPACE_MSI_EXIT",
    "msi-message": "UL_SPACE_MSI_MESSAGE",
    "action-return": "UL_SPACE_ACTION_RV",
    "win32": "UL_SPACE_WIN32",
    "hresult": "UL_SPACE_HRESULT",
    "setup": "UL_SPACE_SETUP",
    "is-launcher": "UL_SPACE_IS_LAUNCHER",
}
SPACE_ORDER = list(SPACES)
SEVERITIES = ("noise", "info", "warning", "error", "catastrophic")
NCOLUMNS = 6
NONE = "-"  # placeholder for an empty name or fix

HEX_CODE = re.compile(r"0x[0-9A-Fa-f]{8}")
DEC_CODE = re.compile(r"-?(0|[1-9][0-9]{0,9})")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PRINTABLE = re.compile(r"[\x20-\x7e]*")

# Inclusive value ranges per space; HRESULTs are unsigned 32-bit values.
RANGES = {
    "msi-exit": (0, 0xFFFF),
    "msi-message": (1000, 3999),
    "action-return": (0, 8),
    "win32": (0, 0xFFFF),
    "hresult": (0, 0xFFFFFFFF),
    "setup": (-0x7FFFFFFF, 0x7FFFFFFF),
    "is-launcher": (1000, 2999),
}


class TableError(Exception):
    pass


def parse_code(space, text):
    """The code column as an int, or raise TableError."""
    if space == "hresult":
        if not HEX_CODE.fullmatch(text):
            raise TableError(f"hresult code '{text}' is not 0x followed by 8 hex digits")
        value = int(text, 16)
    else:
        if not DEC_CODE.fullmatch(text):
            raise TableError(f"{space} code '{text}' is not a decimal number")
        value = int(text, 10)
    low, high = RANGES[space]
    if not low <= value <= high:
        raise TableError(f"{space} code {text} is outside {low}..{high}")
    return value


def parse_line(line):
    """One table line as a dict, or raise TableError."""
    cols = line.split("\t")
    if len(cols) != NCOLUMNS:
        raise TableError(f"expected {NCOLUMNS} TAB-separated columns, found {len(cols)}")
    space, code, name, severity, meaning, fix = cols
    for col in cols:
        if not PRINTABLE.fullmatch(col):
            raise TableError("text must be printable ASCII")
        if not col:
            raise TableError(f"a column is empty (write '{NONE}' for no name or no fix)")
        if col != col.strip():
            raise TableError(f"column '{col}' has leading or trailing blanks")
    name = "" if name == NONE else name
    fix = "" if fix == NONE else fix
    if space not in SPACES:
        raise TableError(f"unknown space '{space}' (one of: {', '.join(SPACE_ORDER)})")
    if name and not NAME.fullmatch(name):
        raise TableError(f"name '{name}' is not an identifier")
    if severity not in SEVERITIES:
        raise TableError(f"unknown severity '{severity}' (one of: {', '.join(SEVERITIES)})")
    if meaning == NONE:
        raise TableError("meaning is missing")
    return {
        "space": space,
        "value": parse_code(space, code),
        "name": name,
        "severity": severity,
        "meaning": meaning,
        "fix": fix,
    }


def read_table(path):
    """All entries of `path`, and the list of 'file:line: reason' problems."""
    entries, problems, seen = [], [], {}
    with open(path, encoding="utf-8", newline="") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip() or line.startswith("#"):
                continue
            try:
                entry = parse_line(line)
            except TableError as e:
                problems.append(f"{path}:{lineno}: {e}")
                continue
            key = (entry["space"], entry["value"])
            if key in seen:
                problems.append(f"{path}:{lineno}: duplicate {entry['space']} code "
                                f"{entry['value']} (first on line {seen[key]})")
                continue
            seen[key] = lineno
            entries.append(entry)
    if not entries and not problems:
        problems.append(f"{path}: the table is empty")
    return entries, problems


def c_string(text):
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    # Keep "??x" from being read as a trigraph in strict C modes.
    return '"' + out.replace("??", "?\\?") + '"'


def c_code(entry):
    if entry["space"] == "hresult":
        return f"0x{entry['value']:08X}L"
    return f"{entry['value']}L"


def render(entries, source):
    entries = sorted(entries, key=lambda e: (SPACE_ORDER.index(e["space"]), e["value"]))
    out = [
        f"/* Generated by gen_codes.py from {source}: do not edit. */",
        '#include "codes.h"',
        "",
        "const struct ul_code_info ul_explain_table[] = {",
    ]
    for e in entries:
        out.append(f"\t{{ {SPACES[e['space']]}, {c_code(e)}, {c_string(e['name'])},")
        out.append(f"\t  {c_string(e['severity'])},")
        out.append(f"\t  {c_string(e['meaning'])},")
        out.append(f"\t  {c_string(e['fix'])} }},")
    out += [
        "};",
        "",
        "const size_t ul_explain_table_len = sizeof(ul_explain_table) / "
        "sizeof(ul_explain_table[0]);",
        "",
    ]
    return "\n".join(out)


def main(argv):
    if len(argv) != 3:
        print("usage: gen_codes.py INPUT.tsv OUTPUT.c", file=sys.stderr)
        return 2
    source, target = argv[1], argv[2]
    try:
        entries, problems = read_table(source)
    except (OSError, UnicodeDecodeError) as e:
        print(f"{source}: {e}", file=sys.stderr)
        return 1
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        return 1
    name = source.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        with open(target, "w", encoding="ascii", newline="\n") as f:
            f.write(render(entries, name))
    except OSError as e:
        print(f"{target}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
