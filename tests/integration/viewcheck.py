#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Helper of test_view.sh: damages files, computes the recovered view a
damaged file must have (independently of hydrafs, from the rules in
core/salvage.h and the formats of README.md), and checks what the mount
serves.  Each command does a batch: starting Python is the slow part.

  viewcheck.py damage < SPEC
      one damage a line, "PATH OP ARGS..." (shell words):
      flip OFF        XOR 0x80 into the byte at OFF
      set OFF BYTE    the byte at OFF becomes BYTE (decimal or 0x..)
      cut LEN         truncated to LEN bytes
      append LITERAL  appends the Python bytes literal
      replace A B     replaces the first A with B (Python bytes literals)
      rot OP ARGS...  OP, then atime and mtime put back (size is kept by
                      flip and set): bit rot
      The file is changed in place (same inode).
  viewcheck.py salvage DIR NAME...
      the salvage of DIR/raw/NAME in the format of NAME's extension
      (jsonl, csv, tsv, txt) into DIR/want/NAME; fails unless each has one
      (a damaged header, or nothing valid kept, falls back to a version;
      nothing dropped means no view)
  viewcheck.py model FORMAT FILE
      prints "view KEPT DROPPED", "fallback WHY" or "none" for FILE
  viewcheck.py check DIR MNT BACKING KIND:NAME...
      checks each file NAME, reading it through MNT in several ways (read()
      in small chunks, pread at a stride, one read), against:
        view     DIR/want/NAME, flagged damaged, the raw bytes intact
        raw      DIR/raw/NAME (served as it is), the raw bytes intact
        damraw   the same, and flagged damaged (a damaged file, no view)
        adopted  the same, not flagged
        new      DIR/want/NAME, also in BACKING, not flagged (through MNT
                 or in BACKING), and hydractl verify ($HYDRACTL) finds the
                 file ok
      stat (after the reads) and fstat give the length read.  The raw
      bytes are DIR/raw/NAME, their mtime DIR/raw/NAME.mtime (ns).
  viewcheck.py append FILE LITERAL
      one write() of the bytes literal through an O_APPEND|O_WRONLY fd
"""
import ast
import json
import os
import shlex
import subprocess
import sys

STATE = "user.hydrafs.state"


# --- The formats, one record at a time. ---

def json_value_ok(line):
    """Whether @line (bytes, no '\\n') is blank or exactly one strict JSON
    value (RFC 8259: UTF-8, no NaN/Infinity, no lone surrogate escapes)."""
    try:
        text = line.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return False
    if text.strip(" \t\r") == "":
        return True

    def no_constant(name):
        raise ValueError(name)

    try:
        value = json.loads(text, parse_constant=no_constant)
    except ValueError:
        return False
    # Python accepts lone surrogates from \\uD800 escapes; RFC 8259 strict
    # validators (and hydrafs) do not.
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def lines_of(data):
    """[(start, end)] of the lines of @data, each with its '\\n'; a final
    line without one is a line too."""
    out, start = [], 0
    while start < len(data):
        nl = data.find(b"\n", start)
        end = len(data) if nl < 0 else nl + 1
        out.append((start, end))
        start = end
    return out


def csv_row(data, start, delim, quoting):
    """Parses the row starting at @start (RFC 4180 for CSV, tab split for
    TSV, leniently after the first error as format_csv.c says).  Returns
    (end, fields, error)."""
    FIELD_START, UNQUOTED, QUOTED, QUOTE_SEEN = range(4)
    where, fields, err, i = FIELD_START, 1, None, start
    while i < len(data):
        c = data[i:i + 1]
        if where == QUOTED:
            if c == b'"':
                where = QUOTE_SEEN
            i += 1
            continue
        if where == QUOTE_SEEN:
            if c == b'"':
                where = QUOTED
                i += 1
                continue
            if c not in (delim, b"\n", b"\r"):
                err = err or "text after a closing quote"
                where = UNQUOTED
                i += 1
                continue
            where = UNQUOTED  # closed: the delimiter or line end below
        if c == delim:
            fields += 1
            where = FIELD_START
        elif c == b"\n":
            return i + 1, fields, err
        elif c == b"\r":
            if data[i + 1:i + 2] == b"\n":
                return i + 2, fields, err
            err = err or "carriage return without line feed"
            where = UNQUOTED
        elif quoting and c == b'"':
            if where == FIELD_START and err is None:
                where = QUOTED
            else:
                err = err or "quote inside an unquoted field"
                where = UNQUOTED
        else:
            where = UNQUOTED
        i += 1
    if where == QUOTED:
        err = err or "unterminated quote"
    return len(data), fields, err


def salvage(fmt, data):
    """The salvage of @data in @fmt: (view bytes, kept, dropped, why), why
    set when the view must be the newest good version instead."""
    kept, dropped, out = 0, 0, []
    if fmt in ("jsonl", "text"):
        for start, end in lines_of(data):
            line = data[start:end]
            body = line[:-1] if line.endswith(b"\n") else line
            if fmt == "jsonl":
                ok = json_value_ok(body)
            else:
                try:
                    body.decode("utf-8", errors="strict")
                    ok = b"\0" not in body
                except UnicodeDecodeError:
                    ok = False
            if ok:
                out.append(line)
                kept += 1
            else:
                dropped += 1
    elif fmt in ("csv", "tsv"):
        delim, quoting = (b",", True) if fmt == "csv" else (b"\t", False)
        if not data:
            return b"", 0, 0, None
        end, header, err = csv_row(data, 0, delim, quoting)
        if err:
            return None, 0, 0, "the header is damaged"
        out.append(data[:end])
        pos = end
        while pos < len(data):
            end, fields, err = csv_row(data, pos, delim, quoting)
            if err is None and fields != header:
                err = "wrong field count"
            if err is None:
                out.append(data[pos:end])
                kept += 1
                pos = end
                continue
            dropped += 1
            # Several lines: only the first is lost, the rest scanned again.
            nl = data.find(b"\n", pos, end)
            pos = nl + 1 if 0 <= nl and nl + 1 < end else end
    else:
        raise SystemExit("salvage: no records in format " + fmt)
    if dropped and not kept:
        return None, 0, dropped, "no record is valid"
    return b"".join(out), kept, dropped, None


FORMATS = {"jsonl": "jsonl", "ndjson": "jsonl", "csv": "csv", "tsv": "tsv",
           "txt": "text", "log": "text"}


# --- Commands. ---

def lit(text):
    value = ast.literal_eval(text)
    if not isinstance(value, bytes):
        raise SystemExit("not a bytes literal: " + text)
    return value


def damage_one(path, op, args):
    if op == "rot":
        st = os.stat(path)
        damage_one(path, args[0], args[1:])
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        return
    data = bytearray(open(path, "rb").read())
    if op == "flip":
        data[int(args[0])] ^= 0x80
    elif op == "set":
        data[int(args[0])] = int(args[1], 0)
    elif op == "cut":
        del data[int(args[0]):]
    elif op == "append":
        data += lit(args[0])
    elif op == "replace":
        a, b = lit(args[0]), lit(args[1])
        at = data.find(a)
        if at < 0:
            raise SystemExit("damage: %r not in %s" % (a, path))
        data[at:at + len(a)] = b
    else:
        raise SystemExit("damage: unknown op " + op)
    # In place (same inode), as a program or a disk would change it.
    with open(path, "r+b") as f:
        f.write(data)
        f.truncate(len(data))


def cmd_damage():
    for line in sys.stdin:
        words = shlex.split(line)
        if words:
            damage_one(words[0], words[1], words[2:])


def cmd_salvage(top, *names):
    bad = []
    for name in names:
        fmt = FORMATS[name.rsplit(".", 1)[1]]
        data = open(os.path.join(top, "raw", name), "rb").read()
        view, kept, dropped, why = salvage(fmt, data)
        if why or not dropped:
            bad.append("%s: %s" % (name, why or "nothing to drop"))
            continue
        with open(os.path.join(top, "want", name), "wb") as f:
            f.write(view)
    if bad:
        print("the test's damage leaves no salvage: " + "; ".join(bad),
              file=sys.stderr)
        sys.exit(1)


def cmd_model(fmt, path):
    view, kept, dropped, why = salvage(fmt, open(path, "rb").read())
    if why:
        print("fallback", why)
    elif not dropped:
        print("none")
    else:
        print("view", kept, dropped)


def read_all_ways(path, want):
    """Problems reading @path through the mount, against @want."""
    problems = []
    fd = os.open(path, os.O_RDONLY)
    try:
        got = b""
        while True:
            chunk = os.read(fd, 7)
            if not chunk:
                break
            got += chunk
        if got != want:
            problems.append("read() in 7-byte chunks: %r" % got[:300])
        for off in range(0, len(want) + 3, 5):
            piece = os.pread(fd, 11, off)
            if piece != want[off:off + 11]:
                problems.append("pread(11, %d): %r, expected %r"
                                % (off, piece, want[off:off + 11]))
                break
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    with open(path, "rb") as f:
        whole = f.read()
    if whole != want:
        problems.append("one read: %r" % whole[:300])
    if size != len(want):
        problems.append("fstat of the open file: size %d, expected %d"
                        % (size, len(want)))
    size = os.stat(path).st_size
    if size != len(want):
        problems.append("stat after the reads: size %d, expected %d"
                        % (size, len(want)))
    return problems


def state_of(path):
    try:
        return os.getxattr(path, STATE).decode("utf-8", "replace")
    except OSError:
        return None


def verify_ok(path):
    """Problems of hydractl verify with @path itself (its versions may be
    damaged: the damaged content kept as one is)."""
    run = subprocess.run([os.environ["HYDRACTL"], "verify", "--json", path],
                         capture_output=True, check=False)
    if run.returncode not in (0, 1):
        return ["hydractl verify: exit %d: %s" % (run.returncode,
                                                  run.stderr[:300])]
    d = json.loads(run.stdout)
    files = [x["path"] for x in d["damaged"] if x["kind"] == "file"]
    if d["files"] != 1 or files or d["changed"] or d["errors"]:
        return ["hydractl verify: %s" % run.stdout[:500]]
    return []


def check_one(top, mnt, backing, kind, name):
    path, bpath = os.path.join(mnt, name), os.path.join(backing, name)
    rawpath = os.path.join(top, "raw", name)
    if kind in ("view", "new"):
        want = open(os.path.join(top, "want", name), "rb").read()
    else:
        want = open(rawpath, "rb").read()
    problems = read_all_ways(path, want)
    state = state_of(path)
    if kind in ("view", "damraw"):
        raw_size = os.path.getsize(rawpath)
        if not state or not state.startswith("damaged size=%d " % raw_size):
            problems.append("%s: %r" % (STATE, state))
    elif state is not None:
        problems.append("%s: %r, expected none" % (STATE, state))
    if kind == "new":
        if open(bpath, "rb").read() != want:
            problems.append("wrong content in the backing dir")
        if state_of(bpath) is not None:
            problems.append("the backing file keeps " + STATE)
        problems += verify_ok(path)
    else:
        if open(bpath, "rb").read() != open(rawpath, "rb").read():
            problems.append("the raw bytes in the backing dir changed")
        mtime = int(open(rawpath + ".mtime").read())
        if os.stat(bpath).st_mtime_ns != mtime:
            problems.append("the raw file's mtime changed")
    return problems


def cmd_check(top, mnt, backing, *specs):
    failed = 0
    for spec in specs:
        kind, name = spec.split(":", 1)
        if kind not in ("view", "raw", "damraw", "adopted", "new"):
            raise SystemExit("check: unknown kind " + kind)
        problems = check_one(top, mnt, backing, kind, name)
        if problems:
            failed += 1
            print("%s (%s): %s" % (name, kind, "; ".join(problems)),
                  file=sys.stderr)
    if failed:
        sys.exit(1)
    print(len(specs))


def cmd_append(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        data = lit(text)
        n = os.write(fd, data)
        if n != len(data):
            raise SystemExit("append: short write %d" % n)
    finally:
        os.close(fd)


def main(argv):
    cmds = {"damage": (cmd_damage, 0, 0), "salvage": (cmd_salvage, 1, None),
            "model": (cmd_model, 2, 2), "check": (cmd_check, 3, None),
            "append": (cmd_append, 2, 2)}
    if len(argv) < 2 or argv[1] not in cmds:
        raise SystemExit(__doc__)
    fn, least, most = cmds[argv[1]]
    n = len(argv) - 2
    if n < least or (most is not None and n > most):
        raise SystemExit(__doc__)
    fn(*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
