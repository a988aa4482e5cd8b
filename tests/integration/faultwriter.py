# SPDX-License-Identifier: GPL-2.0-or-later
"""The writer and the checker of test_commit_faults.sh.

Commands (one per line on stdin with "serve", fields separated by tabs, each
answered by its output and a last line "status: RC"; or one on the command
line):
  round MNT BACKING TAG KIND N ERRNO LOG
      On a mount whose daemon injects ERRNO into call N of KIND (N 0: every
      call): writes the scenario, recording what every call returned in LOG
      (JSON), waits until the released handles left nothing staged, checks
      the backing dir, then (N > 0) drives the fault out with a probe and
      checks the live mount: it shows each file's content, and one more
      write to each lands.
  check ROOT VERSIONS STAGING ERRNO LOG
      The same invariants on a tree: ROOT holds the files, VERSIONS their
      versions and .orphans (the mount and its .backups, after a remount
      without faults); STAGING must be empty.

Prints "violation: ..." for every broken invariant, RC 1 if any, 3 when the
helper itself broke.  "round" also prints "probe: pending" when the fault
had not fired before the probe ("probe: clear" when it had, or N is 0),
"errors: N", the number of calls of the scenario that failed, and
"writer: ..." for each step that saw one.
"""

import errno
import json
import os
import sys
import time
import traceback

# The scenario: each file is written twice; the second content is longer,
# so that a write at offset 0 without O_TRUNC replaces the whole file.
#   a: open(O_CREAT|O_TRUNC), write, close: close() commits.
#   b: first the same, then open(O_CREAT) without O_TRUNC (the stage starts
#      as a copy of the file), write, fsync (fsync commits), close.
SCENARIO = [
    ("a", "A", True, False),
    ("a", "B", True, False),
    ("b", "A", True, False),
    ("b", "B", False, True),
]
# The live check's own writes, once the fault is gone: whatever the faulted
# commit left behind, the next write to the file must land in it.
AFTER = [
    ("a", "C", True, False),
    ("b", "C", False, True),
]
FILES = ("a", "b")
PROBE_FILES = 8
PROBE_TRIES = 8
DRAIN_SECONDS = 5.0
# RELEASE is asynchronous: after a failed commit its retry (or orphan())
# must be over before the next step opens the file; its last calls (the
# journal, the inode's new handle) follow the rename that empties the
# staging dir.
SETTLE_SECONDS = 0.02


def content_of(tag, name, label):
    words = {"A": "old", "B": "new content", "C": "written after the fault"}
    return "%s %s %s %s\n" % (name, label, words[label], tag)


def err_name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def drain(staging, settle=False):
    """Waits until the released handles left nothing staged."""
    end = time.monotonic() + DRAIN_SECONDS
    while os.listdir(staging) and time.monotonic() < end:
        time.sleep(0.005)
    if settle:
        time.sleep(SETTLE_SECONDS)


def run_step(mnt, staging, tag, step):
    """
    One open, write, (fsync,) close, as a program would: it stops writing at
    the first error but always closes.  After a failed commit it waits for
    the release (which retries the commit, or keeps the stage as an orphan)
    before the next step, so that each step starts from a settled file.
    """
    name, label, trunc, do_fsync = step
    data = content_of(tag, name, label)
    rec = {"file": name, "label": label, "data": data, "trunc": trunc,
           "fsync": None, "write": None, "close": None}
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if trunc else 0)
    try:
        fd = os.open(os.path.join(mnt, name), flags, 0o644)
        rec["open"] = "ok"
    except OSError as e:
        rec["open"] = err_name(e)
        return rec
    try:
        n = os.pwrite(fd, data.encode(), 0)
        rec["write"] = "ok" if n == len(data) else "short write %d" % n
    except OSError as e:
        rec["write"] = err_name(e)
    if do_fsync and rec["write"] == "ok":
        try:
            os.fsync(fd)
            rec["fsync"] = "ok"
        except OSError as e:
            rec["fsync"] = err_name(e)
    try:
        os.close(fd)
        rec["close"] = "ok"
    except OSError as e:
        rec["close"] = err_name(e)
    if any(r != "ok" for op, r in results(rec)):
        drain(staging, settle=True)
    return rec


def results(rec):
    return [(op, rec[op]) for op in ("open", "write", "fsync", "close")
            if rec.get(op) is not None]


def describe(rec):
    return "%s.%s (%s)" % (rec["file"], rec["label"], ", ".join(
        "%s %s" % r for r in results(rec)))


def read_or_none(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except FileNotFoundError:
        return None


def dir_contents(path):
    """{name: content} of the regular files in @path (empty when missing)."""
    try:
        names = sorted(os.listdir(path))
    except FileNotFoundError:
        return {}
    out = {}
    for n in names:
        p = os.path.join(path, n)
        if os.path.isfile(p):
            out[n] = read_or_none(p)
    return out


def possible(steps):
    """
    The contents a file may hold after @steps, its steps in order.  A step
    changes the file only when its open succeeded (a missing file opened
    with O_CREAT is then an empty one).  Its new content is what it wrote;
    after an O_TRUNC open whose write failed, the empty file the truncation
    asked for, or the old content.  A commit reported done (fsync() or
    close() returned 0) makes the new content the file's; one reported as
    failed may still happen (the release retries it): old or new.
    """
    poss = {None}
    for s in steps:
        if s["open"] != "ok":
            continue
        base = {"" if c is None else c for c in poss}
        if s["write"] == "ok":
            new = {s["data"]}
        elif s["trunc"]:
            new = {""} | base
        else:
            new = base
        if s["fsync"] == "ok" or s["close"] == "ok":
            poss = new
        else:
            poss = base | new
    return poss


def short(c):
    return "nothing (no file)" if c is None else repr(c)


def check_tree(root, versions, staging, staged_ok, err, steps, where):
    """
    Every invariant @steps imply on one tree; returns the violations.
    @staged_ok: what is left in @staging counts as kept (it goes to .orphans
    at the next mount), else @staging must be empty.
    """
    v = []
    orphans = dir_contents(os.path.join(versions, ".orphans"))
    staged = dir_contents(staging)
    if staged_ok:
        orphans.update(("staged " + n, c) for n, c in staged.items())
    all_data = {s["data"] for s in steps}
    # The writer sees the injected errno or success, nothing else.
    for s in steps:
        for op, r in results(s):
            if r not in ("ok", err):
                v.append("%s: %s got %s from %s, not %s or success" %
                         (where, describe(s), r, op, err))
    for name in FILES:
        mine = [s for s in steps if s["file"] == name]
        cur = read_or_none(os.path.join(root, name))
        vers = dir_contents(os.path.join(versions, name))
        # Old or new content, never anything else; the new one once its
        # commit was reported done.
        poss = possible(mine)
        if cur not in poss:
            v.append("%s: %s holds %s, expected %s after %s" % (
                where, name, short(cur),
                " or ".join(sorted(short(c) for c in poss)),
                "; ".join(describe(s) for s in mine)))
        written = {s["data"] for s in mine if s["write"] == "ok"}
        for s in mine:
            if s["write"] != "ok" or s["data"] == cur:
                continue
            # Nothing lost: a content the daemon accepted in a write is the
            # file's, one of its versions or an orphan.
            if s["data"] not in vers.values() and \
                    s["data"] not in orphans.values():
                v.append("%s: %s: its content is lost (not the file's, "
                         "not a version, not an orphan)" %
                         (where, describe(s)))
            # A commit reported done and since replaced: a version.
            elif (s["fsync"] == "ok" or s["close"] == "ok") and \
                    s["data"] not in vers.values():
                v.append("%s: %s was committed and replaced, but is not a "
                         "version of %s" % (where, describe(s), name))
        # Versions hold contents the file had, nothing else.
        for vn, vc in vers.items():
            if vc not in written:
                v.append("%s: version %s/%s holds %s, never written to %s"
                         % (where, name, vn, short(vc), name))
    for on, oc in orphans.items():
        if oc != "" and oc not in all_data:
            v.append("%s: orphan %s holds %s, never written" %
                     (where, on, short(oc)))
    if staged and not staged_ok:
        v.append("%s: still staged after every handle was released: %s" %
                 (where, " ".join(sorted(staged))))
    return v


def check_returned(backing, steps):
    """
    A commit reported done has happened by the time fsync() or close()
    returns: the file then holds the step's new content (the release of an
    earlier handle, asynchronous, must not defer it).
    """
    s = steps[-1]
    if s["fsync"] != "ok" and s["close"] != "ok":
        return []
    cur = read_or_none(os.path.join(backing, s["file"]))
    poss = possible([t for t in steps if t["file"] == s["file"]])
    if cur in poss:
        return []
    return ["backing dir: %s returned, the file holds %s, not %s" %
            (describe(s), short(cur), " or ".join(sorted(
                short(c) for c in poss)))]


def notes(versions):
    """Harmless oddities worth a line in the log."""
    out = []
    for name in FILES:
        vals = list(dir_contents(os.path.join(versions, name)).values())
        if len(vals) != len(set(vals)):
            out.append("%s has %d versions, %d distinct" %
                       (name, len(vals), len(set(vals))))
    n = len(dir_contents(os.path.join(versions, ".orphans")))
    if n:
        out.append("%d orphan(s)" % n)
    return out


def probe_ops(mnt, kind):
    """
    (operation(i), None) or (None, (flags, operation(fd, i))): operations
    that each make a call of @kind and report its error, with no call of
    @kind before the first reported one, on scratch files (*.tmp, never
    staged) the round made in the backing dir.
    """
    p = [os.path.join(mnt, "p%d.tmp" % i) for i in range(PROBE_FILES)]

    # O_DIRECT: through the page cache the kernel retries a failed read.
    def read_one(i):
        fd = os.open(p[i], os.O_RDONLY | os.O_DIRECT)
        try:
            os.read(fd, 64)
        finally:
            os.close(fd)

    def copy(i):
        src = os.open(p[0], os.O_RDONLY)
        dst = os.open(p[1], os.O_WRONLY)
        try:
            os.copy_file_range(src, dst, 6, 0, 0)
        finally:
            os.close(src)
            os.close(dst)

    each = {
        "stat": lambda i: os.stat(os.path.join(mnt, "nx%d" % i)),
        "open": lambda i: os.close(os.open(p[0], os.O_RDONLY)),
        "read": read_one,
        "xattr": lambda i: os.getxattr(p[0], "user.probe"),
        "chown": lambda i: os.chown(p[0], 0, 0),
        "chmod": lambda i: os.chmod(p[0], 0o644),
        "link": lambda i: os.link(p[0], os.path.join(mnt, "l%d.tmp" % i)),
        "rename": lambda i: os.rename(p[i], os.path.join(mnt, "r%d.tmp" % i)),
        "mkdir": lambda i: os.mkdir(os.path.join(mnt, "d%d" % i)),
        "copy": copy,
        "unlink": lambda i: os.unlink(p[i]),
        "truncate": lambda i: os.truncate(p[0], i),
    }
    with_fd = {
        # close(dup(fd)) is a FLUSH alone; the RELEASE only comes at the end.
        "close": (os.O_RDONLY, lambda fd, i: os.close(os.dup(fd))),
        "write": (os.O_WRONLY, lambda fd, i: os.pwrite(fd, b"x", i)),
        "fsync": (os.O_WRONLY, lambda fd, i: os.fsync(fd)),
    }
    if kind in each:
        return each[kind], None
    if kind in with_fd:
        return None, with_fd[kind]
    raise ValueError("no probe for kind '%s'" % kind)


def probe(mnt, backing, kind, err):
    """Whether a call of @kind still fails with @err: it had not fired."""
    code = getattr(errno, err)
    for i in range(PROBE_FILES):
        with open(os.path.join(backing, "p%d.tmp" % i), "w") as f:
            f.write("probe\n")
    each, with_fd = probe_ops(mnt, kind)
    try:
        if with_fd:
            flags, op = with_fd
            fd = os.open(os.path.join(mnt, "p0.tmp"), flags)
            try:
                for i in range(PROBE_TRIES):
                    op(fd, i)
            finally:
                os.close(fd)
            return False
        for i in range(PROBE_TRIES):
            try:
                each(i)
            except OSError as e:
                if e.errno not in (errno.ENOENT, errno.ENODATA):
                    raise
    except OSError as e:
        if e.errno == code:
            return True
        raise
    return False


def live_check(mnt, backing, staging, tag, steps):
    """The live mount shows each file's content; one more write lands."""
    v = []
    for name in FILES:
        want = read_or_none(os.path.join(backing, name))
        try:
            got = read_or_none(os.path.join(mnt, name))
        except OSError as e:
            got = "<%s>" % err_name(e)
        if got != want:
            v.append("live mount: %s reads %s, the file holds %s" %
                     (name, short(got), short(want)))
    for step in AFTER:
        steps.append(run_step(mnt, staging, tag, step))
    drain(staging)
    return v


def save(path, steps):
    with open(path, "w") as f:
        json.dump(steps, f, indent=1)


def cmd_round(out, mnt, backing, tag, kind, nth, err, log):
    nth = int(nth)
    staging = os.path.join(backing, ".hydrafs", "staging")
    versions = os.path.join(backing, ".hydrafs", "versions")
    steps = []
    v = []
    for step in SCENARIO:
        steps.append(run_step(mnt, staging, tag, step))
        v += check_returned(backing, steps)
    save(log, steps)
    drain(staging)
    # With every call failing (N 0) orphan() may fail too: what it leaves
    # staged goes to .orphans at the next mount, checked there.
    v += check_tree(backing, versions, staging, nth == 0, err, steps,
                    "backing dir")
    pending = False
    if nth:
        try:
            pending = probe(mnt, backing, kind, err)
        except OSError as e:
            v.append("live mount: the %s probe failed: %s" % (kind, e))
        v += live_check(mnt, backing, staging, tag, steps)
        save(log, steps)
    out += ["violation: " + line for line in v]
    out += ["note: " + line for line in notes(versions)]
    out.append("probe: %s" % ("pending" if pending else "clear"))
    first = steps[:len(SCENARIO)]
    out.append("errors: %d" % sum(1 for s in first for op, r in results(s)
                                  if r != "ok"))
    out += ["writer: " + describe(s) for s in first
            if any(r != "ok" for op, r in results(s))]
    return 1 if v else 0


def cmd_check(out, root, versions, staging, err, log):
    with open(log) as f:
        steps = json.load(f)
    v = check_tree(root, versions, staging, False, err, steps,
                   "after a remount")
    out += ["violation: " + line for line in v]
    return 1 if v else 0


COMMANDS = {"round": (cmd_round, 7), "check": (cmd_check, 5)}


def run(args):
    """Runs one command; returns (output lines, status)."""
    out = []
    try:
        fn, nargs = COMMANDS[args[0]]
        if len(args) != nargs + 1:
            raise ValueError("%s takes %d arguments" % (args[0], nargs))
        return out, fn(out, *args[1:])
    except Exception:  # a broken helper, not a broken invariant
        out += ["helper: " + line
                for line in traceback.format_exc().splitlines()]
        return out, 3


def main(argv):
    if len(argv) == 2 and argv[1] == "serve":
        for line in sys.stdin:
            out, rc = run(line.rstrip("\n").split("\t"))
            print("\n".join(out + ["status: %d" % rc]), flush=True)
        return 0
    if len(argv) > 1 and argv[1] in COMMANDS:
        out, rc = run(argv[1:])
        print("\n".join(out))
        return rc
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
