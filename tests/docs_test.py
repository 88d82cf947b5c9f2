#!/usr/bin/env python3
"""Each command's options are the same in --help, its man page and the bash, zsh and fish
completions; every option the README or a man page's prose names exists.

Run by `meson test` with UPGLOG (the binary), UPGLOG_DOC_BUILD (the build's doc/ folder, where
the man pages and completions are generated) and UPGLOG_SOURCE_ROOT.
"""
import os
import pathlib
import re
import sqlite3
import subprocess
import sys
import tempfile
import unittest

UPGLOG = os.environ["UPGLOG"]
DOC = pathlib.Path(os.environ["UPGLOG_DOC_BUILD"])
ROOT = pathlib.Path(os.environ["UPGLOG_SOURCE_ROOT"])
# Options of `upglog` itself, before the command.
GLOBAL = {"--version", "-V", "--color", "--help", "-h", "--generate"}
# Man pages are built only when scdoc is found; completions always are.
MAN = (DOC / "upglog-triage.1.scd").exists()


def upglog(*args):
    return subprocess.run([UPGLOG, *args], capture_output=True, text=True, check=True).stdout


def commands():
    out = upglog("--help")
    block = out.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return [l.split()[0] for l in block.splitlines() if l.strip() and l.split()[0] != "help"]


def help_options(cmd):
    """{option: values or None} from `upglog CMD --help` (`upglog --help` for ""), long and
    short names alike."""
    out = upglog(*([cmd] if cmd else []), "--help")
    block = out.split("\noptions:\n", 1)[1].split("\n\n", 1)[0]
    opts = {}
    for line in block.splitlines():
        m = re.match(r"^  (?:-(\w), )?\s*--([\w-]+)(?: (\S+))?", line)
        if not m:
            continue
        values = set(m.group(3).split("|")) if m.group(3) and "|" in m.group(3) else None
        opts["--" + m.group(2)] = values
        if m.group(1):
            opts["-" + m.group(1)] = values
    return opts


def man_options(cmd):
    page = f"upglog-{cmd}.1.scd" if cmd else "upglog.1.scd"
    text = (DOC / page).read_text(encoding="utf-8")
    section = text.split("\n# OPTIONS\n", 1)[1].split("\n# ", 1)[0]
    opts = set()
    for line in section.splitlines():
        m = re.match(r"^(?:\*-(\w)\*, )?\*--([\w\\-]+)\*", line)
        if m:
            opts.add("--" + m.group(2).replace("\\", ""))
            if m.group(1):
                opts.add("-" + m.group(1))
    return opts


def bash_options(cmd):
    text = (DOC / "upglog").read_text(encoding="utf-8")
    label = cmd or "''"
    block = text.split(f"\n    {label})\n", 1)[1].split("\n        ;;\n", 1)[0]
    m = re.search(r'if \[\[ \$cur == -\* \]\]; then\n\s+COMPREPLY=\(\$\(compgen -W "([^"]*)"',
                  block)
    opts = set(m.group(1).split())
    values = {}
    for vm in re.finditer(r"\n        (--[\w-]+)(?: \| (-\w))?\)\n\s+COMPREPLY=\(\$\(compgen -W "
                          r'"([^"$]*)"', block):
        values[vm.group(1)] = set(vm.group(3).split())
    return opts, values


def zsh_options(cmd):
    text = (DOC / "_upglog").read_text(encoding="utf-8")
    if cmd:
        block = text.split(f"\n        {cmd})\n            _arguments", 1)[1]
        block = block.split("\n            ;;", 1)[0]
    else:
        block = text.split("\n    _arguments -C", 1)[1].split("&& ret=0", 1)[0]
    opts, values = set(), {}
    for line in block.splitlines():
        m = (re.search(r"\{-(\w)\+?,--([\w-]+)=?\}'\[", line)
             or re.search(r"'(?:\*'')?--([\w-]+)=?\[", line))
        if not m:
            continue
        names = ["-" + m.group(1), "--" + m.group(2)] if m.lastindex == 2 else ["--" + m.group(1)]
        opts.update(names)
        vm = re.search(r"\]:[^:]+:\(([^)]*)\)'", line)
        if vm:
            values[names[-1]] = set(vm.group(1).split())
    return opts, values


def fish_options(cmd):
    text = (DOC / "upglog.fish").read_text(encoding="utf-8")
    opts, values = set(), {}
    for line in text.splitlines():
        cond = f"'__fish_seen_subcommand_from {cmd}'" if cmd else "__fish_use_subcommand"
        m = re.match(rf"complete -c upglog -n {cond}(?: -s (\w))? -l ([\w-]+)", line)
        if not m:
            continue
        opts.add("--" + m.group(2))
        if m.group(1):
            opts.add("-" + m.group(1))
        vm = re.search(r" -x -a '([^(][^']*)'", line)
        if vm:
            values["--" + m.group(2)] = set(vm.group(1).split())
    return opts, values


class OptionLists(unittest.TestCase):
    @unittest.skipUnless(MAN, "man pages not built (no scdoc, or -Dman=disabled)")
    def test_every_command_has_a_man_page(self):
        for cmd in commands():
            with self.subTest(cmd=cmd):
                self.assertTrue((ROOT / "doc" / f"upglog-{cmd}.1.scd.in").exists())
                self.assertTrue((DOC / f"upglog-{cmd}.1").exists())
        text = (DOC / "upglog.1.scd").read_text(encoding="utf-8")
        for cmd in commands():
            self.assertIn(f"*upglog {cmd}*", text)

    def test_same_options_everywhere(self):
        for cmd in [""] + commands():  # "": the options before the command
            want = help_options(cmd)
            self.assertIn("--help", want)
            if MAN:
                with self.subTest(cmd=cmd, where="man page"):
                    self.assertEqual(man_options(cmd), set(want))
            for shell, parse in (("bash", bash_options), ("zsh", zsh_options),
                                 ("fish", fish_options)):
                opts, values = parse(cmd)
                with self.subTest(cmd=cmd, where=shell):
                    self.assertEqual(opts, set(want))
                    for opt, vals in want.items():
                        if vals and opt.startswith("--"):
                            self.assertEqual(values.get(opt), vals, opt)


def help_texts(cmd):
    """{--option: its description} from `upglog CMD --help`, the wrapped lines joined."""
    out = upglog(*([cmd] if cmd else []), "--help")
    block = out.split("\noptions:\n", 1)[1].split("\n\n", 1)[0]
    texts, last = {}, None
    for line in block.splitlines():
        m = re.match(r"^  (?:-\w, )?\s*(--[\w-]+)(?: \S+)?\s+(.*)$", line)
        if m:
            last = m.group(1)
            texts[last] = m.group(2)
        elif last:
            texts[last] += " " + line.strip()
    return texts


def zsh_repeatable(cmd):
    """The options zsh offers again after they were given ('*' specs)."""
    text = (DOC / "_upglog").read_text(encoding="utf-8")
    block = text.split(f"\n        {cmd})\n            _arguments", 1)[1]
    block = block.split("\n            ;;", 1)[0]
    return {m.group(1) for line in block.splitlines() if line.strip().startswith("'*'")
            for m in [re.search(r"--([\w-]+)", line)] if m}


class Repeatable(unittest.TestCase):
    def test_repeatable_options_are_completed_again(self):
        # An option is repeatable for the completions when its help says "(repeatable)";
        # a help that words it otherwise ("(repeatable; ...") would lose that silently.
        for cmd in commands():
            texts = help_texts(cmd)
            said = {o for o, t in texts.items() if "repeatable" in t}
            with self.subTest(cmd=cmd):
                for o in said:
                    self.assertIn("(repeatable)", texts[o], o)
                self.assertEqual({"--" + o for o in zsh_repeatable(cmd)}, said)
        self.assertIn("--role", {o for o, t in help_texts("triage").items()
                                 if "(repeatable)" in t})


class Schema(unittest.TestCase):
    @unittest.skipUnless(MAN, "man pages not built (no scdoc, or -Dman=disabled)")
    def test_schema_page_is_the_database_upglog_writes(self):
        # upglog-schema(7) is made from the README's database section: it must name the
        # schema version and every table and view of a database upglog creates today.
        page = (DOC / "upglog-schema.7.scd").read_text(encoding="utf-8")
        with tempfile.TemporaryDirectory() as d:
            db = f"{d}/s.db"
            subprocess.run([UPGLOG, "scan", "-q", "-d", db,
                            str(ROOT / "fixtures" / "msi-modern-ok.log")],
                           capture_output=True, check=True)
            con = sqlite3.connect(db)
            version = con.execute("PRAGMA user_version").fetchone()[0]
            names = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")]
            con.close()
        self.assertIn(f"the schema version ({version})", page)
        missing = [n for n in names if f"*{n.replace('_', chr(92) + '_')}*" not in page]
        self.assertEqual(missing, [])


class Prose(unittest.TestCase):
    """An option named in the README or a man page exists (where a command is named with it,
    in that command)."""

    def known(self):
        every = set(GLOBAL)
        per = {"": set(help_options("")) | {"--generate"}}
        for cmd in commands():
            per[cmd] = set(help_options(cmd))
            every |= per[cmd]
        return every, per

    def test_readme_and_man_pages(self):
        every, per = self.known()
        sources = [ROOT / "README.md", ROOT / "patterns" / "README.md"]
        sources += sorted((ROOT / "doc").glob("*.scd.in"))
        problems = []
        for path in sources:
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                clean = line.replace("\\", "").replace("*", "")
                # The man pages speak only of upglog; the READMEs also of meson, rg, ...:
                # there, an option in a code span of its own is upglog's.
                pattern = (r"(?<![\w-])(--[a-z][\w-]*)" if path.suffix == ".in"
                           else r"`(--[a-z][\w-]*)[^`]*`")
                for m in re.finditer(pattern, clean):
                    if m.group(1) not in every:
                        problems.append(f"{path.relative_to(ROOT)}:{n}: {m.group(1)}")
                # `upglog --x`: an option before the command.
                for m in re.finditer(r"(?<![\w/.-])upglog (--?[a-zA-Z][\w-]*)", clean):
                    if m.group(1) not in per[""]:
                        problems.append(f"{path.relative_to(ROOT)}:{n}: upglog {m.group(1)}")
                # `upglog CMD ... -x`: the options of that command (up to a pipe or comment).
                for m in re.finditer(r"(?<![\w.-])upglog (\w+)((?: +[^|#`;&]*)?)", clean):
                    cmd, rest = m.group(1), m.group(2)
                    if cmd not in per:
                        continue
                    for o in re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", rest):
                        o = re.sub(r"^(-\w)\w+$", r"\1", o)  # -qj2 -> -q (bundled)
                        if o not in per[cmd] and o not in ("--",):
                            problems.append(f"{path.relative_to(ROOT)}:{n}: upglog {cmd} {o}")
        self.assertEqual(problems, [])


if __name__ == "__main__":
    if not (DOC / "upglog").exists():
        print("skipped: completions not built (cross build)")
        sys.exit(77)
    unittest.main(verbosity=2)
