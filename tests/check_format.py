#!/usr/bin/env python3
"""Fail when a C file of the repository is not formatted the way .clang-format says.

Usage: check_format.py CLANG_FORMAT SOURCE_ROOT
Also checks the .editorconfig basics clang-format does not: final newline, no trailing
white space, tabs for indentation in C files.
"""
import pathlib
import subprocess
import sys


def main() -> int:
    clang_format, root = sys.argv[1], pathlib.Path(sys.argv[2])
    files = sorted(
        p for d in ("src", "include", "tests") for p in (root / d).rglob("*")
        if p.suffix in (".c", ".h") and "regressions" not in p.parts
    )
    bad = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        if text and not text.endswith("\n"):
            bad.append(f"{path.relative_to(root)}: no newline at end of file")
        for number, line in enumerate(text.split("\n"), 1):
            if line.rstrip() != line:
                bad.append(f"{path.relative_to(root)}:{number}: trailing white space")
        result = subprocess.run(
            [clang_format, "--dry-run", "--Werror", "--style=file", str(path)],
            capture_output=True, text=True, cwd=root,
        )
        if result.returncode != 0:
            first = (result.stderr.strip().splitlines() or ["not formatted"])[0]
            bad.append(f"{path.relative_to(root)}: {first}")
    for line in bad:
        print(line)
    print(f"{len(files)} files checked, {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
