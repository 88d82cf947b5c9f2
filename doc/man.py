#!/usr/bin/env python3
"""Build one man page: fill a scdoc template, then run scdoc on it.

    man.py --upglog BIN --scdoc SCDOC --version V --source-root DIR --scd OUT.scd --out OUT IN

The template (doc/*.scd.in) may hold, alone on a line:

  @OPTIONS@              the command's option list, from `upglog --generate man-options CMD`
                         (CMD from the page name: upglog-triage.1.scd.in -> triage; for
                         upglog.1, the options before the command)
  @COMMANDS@             the list of commands, from `upglog --generate man-commands`
  @MARKDOWN FILE@        FILE (relative to the source root) converted to scdoc, its title left out
  @MARKDOWN FILE#TITLE@  only the section "## TITLE" of FILE (or "## TITLE (...)": the
                         README's "## The database (schema v2)" is found as "The database",
                         so a new schema version needs no change here)

A man page shows no picture: a markdown image (a line of its own) is left out, and so is the
paragraph right after it, which is its caption (up to a blank line, a list item or a heading).

and @VERSION@ anywhere. The option lists come from the binary's option tables and the schema and
catalogue pages from README.md and patterns/README.md, so none of them is kept twice. The
filled-in source is kept (OUT.scd) for the test that compares option lists.
"""
import argparse
import pathlib
import re
import subprocess
import sys


def escape(text):
    """Plain markdown text -> scdoc, with `code` and **bold** made bold."""
    out = []
    pos = 0
    for m in re.finditer(r"`([^`]+)`|\*\*(.+?)\*\*", text):
        out.append(plain(text[pos:m.start()]))
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        out.append("*" + plain(inner) + "*")
        pos = m.end()
    out.append(plain(text[pos:]))
    return "".join(out)


def plain(text):
    return re.sub(r"([\\*_])", r"\\\1", text)


def table(rows):
    """Markdown table rows (header first, separator dropped) -> a scdoc table."""
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    out = []
    for i, row in enumerate(cells):
        for j, cell in enumerate(row):
            text = escape(cell) if i else "*" + escape(cell).replace("*", "") + "*"
            if not cell:
                text = ""
            if i == 0:
                lead = "[[" if j == 0 else (":<" if j == len(row) - 1 else ":[")
            else:
                lead = "| " if j == 0 else ": "
            out.append(f"{lead} {text}" if text else f"{lead} ")
    return out


def literal_table(rows):
    """A wide table (five columns or more) as aligned fixed-width text: tbl gives each of its
    text blocks too little room at 80 columns and cannot break a long file name."""
    cells = [[re.sub(r"`([^`]*)`", r"\1", c.strip()) for c in r.strip().strip("|").split("|")]
             for r in rows]
    widths = [max(len(r[j]) for r in cells if j < len(r)) for j in range(len(cells[0]))]
    out = ["```"]
    for row in cells:
        text = "  ".join(c.ljust(widths[j]) for j, c in enumerate(row)).rstrip()
        out.append("\t" + text.replace("\\", "\\\\"))
    out.append("```")
    return out


def markdown(md, title=None):
    lines = md.splitlines()
    if title is not None:
        start = next((i for i, l in enumerate(lines)
                      if l.strip() == f"## {title}" or l.strip().startswith(f"## {title} (")),
                     None)
        if start is None:
            sys.exit(f"man.py: no section '## {title}'")
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        lines = lines[start + 1:end]
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            out.append("```")
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append("\t" + lines[i].replace("\\", "\\\\"))
                i += 1
            out.append("```")
        elif re.match(r"^\s*!\[[^]]*\]\([^)]*\)\s*$", line):
            # An image and its caption (the next paragraph): nothing to show in a terminal.
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            while i < len(lines) and lines[i].strip():
                i += 1
                if i < len(lines) and re.match(r"^\s*(- |#|\||```)", lines[i]):
                    break  # the caption ends where a list item or a heading starts
            continue
        elif line.startswith("# ") and title is None and not out:
            pass  # the file's title: the page has its own NAME
        elif line.startswith("### "):
            out.append("## " + escape(line[4:]).replace("*", ""))
        elif line.startswith("## "):
            out.append("# " + escape(line[3:]).replace("*", "").upper())
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not re.match(r"^\|[-|: ]+\|$", lines[i].strip()):
                    rows.append(lines[i])
                i += 1
            if out and out[-1] != "":
                out.append("")
            out.extend(table(rows) if len(rows[0].strip().strip("|").split("|")) < 5
                       else literal_table(rows))
            out.append("")
            continue
        elif re.match(r"^- ", line):
            # A list item and its indented continuation lines, joined: bold and code may
            # span the line breaks of the markdown.
            item = [line[2:]]
            while i + 1 < len(lines) and re.match(r"^  \S", lines[i + 1]):
                i += 1
                item.append(lines[i].strip())
            out.append("- " + escape(" ".join(item)))
        elif line.strip():
            para = [line]
            while (i + 1 < len(lines) and lines[i + 1].strip()
                   and not re.match(r"^(- |#|\||```)", lines[i + 1])):
                i += 1
                para.append(lines[i])
            out.append(escape(" ".join(para)))
        else:
            out.append("")
        i += 1
    return "\n".join(out).strip("\n") + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upglog", required=True)
    ap.add_argument("--scdoc", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--scd", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("template")
    a = ap.parse_args()
    root = pathlib.Path(a.source_root)
    name = pathlib.Path(a.template).name.removesuffix(".scd.in")
    page = name.rsplit(".", 1)[0]
    text = []
    for line in pathlib.Path(a.template).read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped == "@OPTIONS@":
            # upglog-triage.1: triage's options; upglog.1: those before the command.
            cmd = [page.removeprefix("upglog-")] if page != "upglog" else []
            text.append(subprocess.run([a.upglog, "--generate", "man-options", *cmd],
                                       check=True, capture_output=True,
                                       text=True).stdout.rstrip("\n"))
        elif stripped == "@COMMANDS@":
            text.append(subprocess.run([a.upglog, "--generate", "man-commands"], check=True,
                                       capture_output=True, text=True).stdout.rstrip("\n"))
        elif stripped.startswith("@MARKDOWN ") and stripped.endswith("@"):
            spec = stripped[len("@MARKDOWN "):-1]
            file, _, title = spec.partition("#")
            md = (root / file).read_text(encoding="utf-8")
            text.append(markdown(md, title or None).rstrip("\n"))
        else:
            text.append(line.replace("@VERSION@", a.version))
    scd = "\n".join(text) + "\n"
    pathlib.Path(a.scd).write_text(scd, encoding="utf-8")
    roff = subprocess.run([a.scdoc], input=scd, capture_output=True, text=True)
    if roff.returncode != 0:
        sys.exit(f"man.py: scdoc on {a.scd}: {roff.stderr.strip()}")
    pathlib.Path(a.out).write_text(roff.stdout, encoding="utf-8")


if __name__ == "__main__":
    main()
