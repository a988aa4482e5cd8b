#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writers, readers and checkers of test_append.sh and test_append_crash.sh.

Every command prints what it measured or found on stdout, its problems on
stderr (one a line), and exits 1 when there was any problem, 2 on a usage
error.  DATA arguments are strings with Python escapes (\\n, \\t, \\xNN,
\\\\), decoded to bytes.

  tail PATH SEED LINES [BACKING]
      test (a): one writer process with ONE O_RDWR|O_APPEND fd writes LINES
      JSON lines, each split over 2-3 write()s, while a reader process with
      its own fd polls (read to EOF, stat, sleep 5-20 ms): every poll must
      end on a line end, every stat size must be a record boundary, the
      reader must see the whole stream once, in order.  Half-way, in the
      middle of a line, the writer reads its last bytes back through its
      own fd, and lseek(SEEK_END) and fstat() on it give all it wrote.
      At the end PATH (and BACKING, the backing file) hold the whole
      stream.
  latency PATH SEED COUNT BOUND_S [append|atend]
      test (b): a complete line written through an O_APPEND fd (atend: an
      O_WRONLY fd of the existing PATH, pwrite() at its end) must show
      through a separate read fd within BOUND_S seconds; prints p50/p99
  multi PATH SEED WRITERS RECORDS
      test (c): WRITERS processes append RECORDS records each to PATH with
      O_APPEND, every record split over 2 write()s; checks that every
      record is whole and each writer's records are in order
  session PATH FLAGS OP...
      one open file description: FLAGS joined by '+' from rdonly wronly
      rdwr append creat trunc excl; OPs: a:DATA (write), e:DATA (pwrite at
      fstat's size: the end), p:OFF:DATA (pwrite), fsync, sleep:MS,
      ftrunc:LEN; close at the end.  Prints "ok" when every call returned
      0 and every write was whole, else each call's result.
  expect PATH DATA
      the file's content is exactly DATA
  rejected DIR DATA...
      DIR (a .backups/.rejected/<path>/ dir) holds exactly one file per
      DATA, in name order, each holding exactly that DATA
  journal JOURNAL EVENT PATH
      prints how many records of EVENT for PATH the journal has (every
      line must be a JSON object)
  checkpoints DIR LOG SIZE...
      DIR is .backups/<path>/ of the log LOG: every entry with the xattr
      user.hydrafs.checkpoint has a version name, a size equal to the
      xattr's value N and the content LOG[:N]; some checkpoint has each
      SIZE; prints the checkpoints' sizes
  version DIR DATA...
      DIR holds an ordinary version (an entry without
      user.hydrafs.checkpoint) whose content is one of DATA; prints which
  erofs PATH...
      opening PATH to create it, and when it exists to append to it or
      truncate it, fails with EROFS
  rotate-rename DIR SEED
      test (h): logrotate's rename-and-reopen of DIR/app.log, with a record
      split across the rename; DIR/app.log.1 + DIR/app.log is the stream
  rotate-copytruncate DIR BACKUPS SEED
      test (h): logrotate's copytruncate of DIR/ct.log while the writer
      keeps its O_APPEND fd; BACKUPS is .backups/<dir>/ct.log
  crash-writer PATH ACKLOG READY SEED
      test_append_crash.sh: appends the numbered lines that follow PATH's
      last one, each split over 2-4 write()s, fsync()ing after some and
      logging "ack N" to ACKLOG (N lines are durable) after each fsync
      that returned 0; every 10 lines reads PATH to its end through a
      reader's fd of its own and logs "seen B" (B bytes were committed);
      creates READY after its first write; runs until killed or a call
      fails
  crash-check MNT BACKING REL ACKLOG SEEN
      after a remount: MNT/REL is a whole number of the crash stream's
      lines from the first, identical in BACKING, at least as many as the
      last ack and as long as the longest "seen" (each of which ends on a
      line end); each orphan under MNT/.backups/.orphans named for REL
      that is not in SEEN (a JSON list, updated) continues the file with
      the stream's next bytes
"""

import codecs
import errno
import hashlib
import json
import os
import random
import re
import select
import subprocess
import sys
import time

VERSION_RE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z(~\d+)?(\.[A-Za-z0-9_-]+)?")
CHECKPOINT_XATTR = "user.hydrafs.checkpoint"

problems = []


def problem(msg):
    problems.append(msg)
    print(msg, file=sys.stderr, flush=True)


def info(msg):
    print("# " + msg, flush=True)


def finish():
    sys.exit(1 if problems else 0)


def unescape(s):
    return codecs.escape_decode(s.encode("utf-8"))[0]


def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def write_all(fd, buf):
    while buf:
        n = os.write(fd, buf)
        if n <= 0:
            raise OSError(errno.EIO, "write returned %d" % n)
        buf = buf[n:]


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def show(data, limit=120):
    r = repr(bytes(data))
    return r if len(r) <= limit else r[:limit] + "..."


def first_diff(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def split_parts(rng, data, lo, hi):
    """@data cut into lo..hi non-empty parts at random places."""
    k = min(rng.randint(lo, hi), len(data))
    cuts = sorted(rng.sample(range(1, len(data)), k - 1)) if k > 1 else []
    parts, prev = [], 0
    for c in cuts + [len(data)]:
        parts.append(data[prev:c])
        prev = c
    return parts


def has_checkpoint_xattr(path):
    """The checkpoint xattr's value (an int), None when there is none."""
    try:
        v = os.getxattr(path, CHECKPOINT_XATTR)
    except OSError as e:
        if e.errno in (errno.ENODATA, errno.ENOTSUP):
            return None
        raise
    return int(v.strip(b"\0 \n").decode())


# --- (a) one logger, one tailing reader -----------------------------------

def tail_lines(seed, count):
    rng = random.Random("lines-%s" % seed)
    words = ["alpha", "beta", "gamma", "\u00e9t\u00e9", "\u20ac", "x" * 40,
             "quote\"d", "tab\there", "{braces}", "[1,2]"]
    out = []
    for i in range(count):
        rec = {"seq": i, "msg": " ".join(rng.choice(words)
                                         for _ in range(rng.randint(0, 8))),
               "n": rng.random()}
        out.append(json.dumps(rec, ensure_ascii=False).encode() + b"\n")
    return out


def cmd_tail(path, seed, count, backing=None):
    count = int(count)
    lines = tail_lines(seed, count)
    stream = b"".join(lines)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    # The reader opens the file on its own, before the first byte arrives;
    # it is told the writer closed by a line on its stdin.
    reader = subprocess.Popen(
        [sys.executable, __file__, "tail-reader", path, seed, str(count)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if reader.stdout.readline().strip() != "ready":
            problem("tail: the reader did not start")
            finish()
        rng = random.Random("splits-%s" % seed)
        written = 0
        t0 = time.monotonic()
        for i, line in enumerate(lines):
            parts = split_parts(rng, line, 2, 3)
            for j, part in enumerate(parts):
                write_all(fd, part)
                written += len(part)
                if i == count // 2 and j == 0:
                    check_own_view(fd, stream[:written])
                if rng.random() < 0.03:
                    time.sleep(rng.random() * 0.004)
        wtime = time.monotonic() - t0
        os.close(fd)
        fd = -1
        out, _ = reader.communicate("closed\n", timeout=120)
    finally:
        if fd >= 0:
            os.close(fd)
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    if reader.returncode != 0:
        problem("tail: the reader failed (exit %d)" % reader.returncode)
    summary = out.strip().splitlines()[-1] if out.strip() else "{}"
    info("writer: %d lines, %d bytes in %.2f s; reader: %s" %
         (count, len(stream), wtime, summary))
    got = read_file(path)
    if got != stream:
        problem("tail: %s after close: %d bytes, want %d; differs at byte "
                "%d" % (path, len(got), len(stream), first_diff(got, stream)))
    if backing:
        got = read_file(backing)
        if got != stream:
            problem("tail: the backing file: %d bytes, want %d; differs at "
                    "byte %d" % (len(got), len(stream),
                                 first_diff(got, stream)))
    finish()


def check_own_view(fd, written):
    """The writer's own handle reads and stats everything it wrote."""
    k = min(64, len(written))
    try:
        back = os.pread(fd, k, len(written) - k)
    except OSError as e:
        problem("tail: the writer's pread of its own last %d bytes: %s" %
                (k, ename(e)))
        back = None
    if back is not None and back != written[-k:]:
        problem("tail: the writer's own fd reads %s at offset %d, it wrote "
                "%s (contract 3: a writer handle reads its own bytes)" %
                (show(back), len(written) - k, show(written[-k:])))
    # The kernel asks the daemon for the size with this handle's id.
    end = os.lseek(fd, 0, os.SEEK_END)
    if end != len(written):
        problem("tail: lseek(SEEK_END) on the writer's own fd says %d, it "
                "wrote %d bytes (contract 3: a writer sees its own bytes)" %
                (end, len(written)))
    # fstat() reaches the daemon as a GETATTR without the handle's id (as
    # stat() does) on the kernels we know: see the test's header.
    size = os.fstat(fd).st_size
    if size != len(written):
        problem("tail: fstat of the writer's own fd says %d bytes, it wrote "
                "%d (contract 3: fstat on a writer handle shows its size)" %
                (size, len(written)))
    info("writer: mid-way own view checked at %d bytes" % len(written))


def cmd_tail_reader(path, seed, count):
    lines = tail_lines(seed, int(count))
    stream = b"".join(lines)
    bounds = {0}
    pos = 0
    for line in lines:
        pos += len(line)
        bounds.add(pos)
    rng = random.Random("reader-%s" % seed)
    fd = os.open(path, os.O_RDONLY)
    print("ready", flush=True)
    buf = bytearray()
    polls = states = 0
    torn = bad_stat = 0
    deadline = None
    while True:
        before = len(buf)
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            buf += chunk
        polls += 1
        if len(buf) > before:
            states += 1
            if not buf.endswith(b"\n"):
                torn += 1
                if torn <= 5:
                    problem("reader: poll %d ended mid-record at byte %d: "
                            "...%s" % (polls, len(buf), show(buf[-60:])))
            if bytes(buf[before:]) != stream[before:len(buf)]:
                at = before + first_diff(buf[before:], stream[before:])
                problem("reader: read %d bytes that are not the stream's "
                        "(first difference at byte %d: %s); lost, repeated "
                        "or reordered records" %
                        (len(buf), at, show(buf[at:at + 60])))
                break
        size = os.stat(path).st_size
        if size not in bounds:
            bad_stat += 1
            if bad_stat <= 5:
                problem("reader: stat says %d bytes, not a record boundary "
                        "(contract 3: stat shows committed bytes only)" %
                        size)
        if len(buf) >= len(stream):
            break
        if deadline is None and \
                select.select([sys.stdin], [], [], 0)[0]:
            deadline = time.monotonic() + 5
        if deadline is not None and time.monotonic() > deadline:
            problem("reader: saw %d of %d bytes (%d whole lines of %d) 5 s "
                    "after the writer closed" %
                    (len(buf), len(stream), buf.count(b"\n"), len(lines)))
            break
        time.sleep(0.005 + rng.random() * 0.015)
    os.close(fd)
    if len(buf) > len(stream):
        problem("reader: saw %d bytes, the writer wrote %d" %
                (len(buf), len(stream)))
    print(json.dumps({"polls": polls, "states": states, "seen": len(buf),
                      "torn_polls": torn, "bad_stat": bad_stat}))
    finish()


# --- (b) visibility -------------------------------------------------------

def cmd_latency(path, seed, count, bound, how="append"):
    count, bound = int(count), float(bound)
    rng = random.Random("latency-%s" % seed)
    if how == "append":
        wfd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    else:
        wfd = os.open(path, os.O_WRONLY)
    rfd = os.open(path, os.O_RDONLY)
    seen = bytearray()
    while True:
        more = os.read(rfd, 1 << 20)
        if not more:
            break
        seen += more
    want = bytearray(seen)
    lat = []
    for i in range(count):
        time.sleep(rng.random() * 0.03)
        line = b'{"visible":%d,"pad":"%s"}\n' % (i, b"v" * rng.randint(0, 50))
        if how == "append":
            write_all(wfd, line)
        elif os.pwrite(wfd, line, len(want)) != len(line):
            raise OSError(errno.EIO, "short pwrite")
        want += line
        t0 = time.monotonic()
        while len(seen) < len(want):
            chunk = os.read(rfd, 1 << 20)
            if chunk:
                seen += chunk
                continue
            if time.monotonic() - t0 > bound:
                break
            time.sleep(0.001)
        dt = time.monotonic() - t0
        if seen != want:
            problem("latency: line %d not seen whole by a reader %.1f s "
                    "after it was written (reader has %d bytes, want %d)" %
                    (i, dt, len(seen), len(want)))
            break
        lat.append(dt)
    os.close(wfd)
    os.close(rfd)
    if lat:
        lat.sort()
        p50 = lat[len(lat) // 2]
        p99 = lat[min(len(lat) - 1, (len(lat) * 99) // 100)]
        info("visibility of %d lines: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
             % (len(lat), p50 * 1e3, p99 * 1e3, lat[-1] * 1e3))
    finish()


# --- (c) several appending processes --------------------------------------

def multi_record(seed, w, seq):
    h = hashlib.sha256(("%s-%d-%d" % (seed, w, seq)).encode()).hexdigest()
    return b"w%d %04d %s\n" % (w, seq, h[:10 + (seq * 7 + w) % 50].encode())


MULTI_RE = re.compile(rb"w(\d+) (\d{4}) ([0-9a-f]+)\n")


def cmd_multi(path, seed, writers, records):
    writers, records = int(writers), int(records)
    procs = []
    try:
        for w in range(writers):
            procs.append(subprocess.Popen(
                [sys.executable, __file__, "multi-child", path, seed, str(w),
                 str(records)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True))
        for p in procs:
            if p.stdout.readline().strip() != "ready":
                problem("multi: a writer did not start")
                finish()
        for p in procs:     # go
            p.stdin.close()
        for w, p in enumerate(procs):
            p.wait(timeout=120)
            if p.returncode != 0:
                problem("multi: writer %d failed (exit %d)" %
                        (w, p.returncode))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    data = read_file(path)
    lines = data.splitlines(keepends=True)
    next_seq = [0] * writers
    bad = gaps = 0
    for n, line in enumerate(lines, 1):
        m = MULTI_RE.fullmatch(line)
        ok = False
        if m:
            w, seq = int(m.group(1)), int(m.group(2))
            ok = w < writers and seq < records and \
                line == multi_record(seed, w, seq)
        if not ok:
            bad += 1
            if bad <= 5:
                problem("multi: line %d is not one whole record (torn or "
                        "interleaved): %s" % (n, show(line)))
            continue
        if seq != next_seq[w]:
            gaps += 1
            if gaps <= 5:
                problem("multi: line %d: writer %d record %d, expected its "
                        "record %d (lost or reordered)" %
                        (n, w, seq, next_seq[w]))
        next_seq[w] = seq + 1
    if bad > 5 or gaps > 5:
        problem("multi: in all %d lines are not whole records, %d records "
                "out of their writer's order" % (bad, gaps))
    for w in range(writers):
        if next_seq[w] != records:
            problem("multi: writer %d: its last record in the file is %d, "
                    "it wrote %d" % (w, next_seq[w] - 1, records))
    info("multi: %d lines, %d bytes, %d bad" % (len(lines), len(data), bad))
    finish()


def cmd_multi_child(path, seed, w, records):
    w, records = int(w), int(records)
    rng = random.Random("multi-%s-%d" % (seed, w))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    print("ready", flush=True)
    sys.stdin.read()
    for seq in range(records):
        for part in split_parts(rng, multi_record(seed, w, seq), 2, 2):
            write_all(fd, part)
            if rng.random() < 0.05:
                time.sleep(rng.random() * 0.002)
    os.close(fd)


# --- generic sessions and checks -------------------------------------------

FLAG_NAMES = {"rdonly": os.O_RDONLY, "wronly": os.O_WRONLY,
              "rdwr": os.O_RDWR, "append": os.O_APPEND, "creat": os.O_CREAT,
              "trunc": os.O_TRUNC, "excl": os.O_EXCL}


def cmd_session(path, flags, *ops):
    fl = 0
    for f in flags.split("+"):
        fl |= FLAG_NAMES[f]
    out, ok = [], True

    def step(name, fn):
        nonlocal ok
        try:
            r = fn()
        except OSError as e:
            out.append("%s=%s" % (name, ename(e)))
            ok = False
            return
        if r is False:
            out.append("%s=short" % name)
            ok = False
        else:
            out.append("%s=0" % name)

    try:
        fd = os.open(path, fl, 0o644)
    except OSError as e:
        print("open=%s" % ename(e))
        sys.exit(1)
    for op in ops:
        kind, _, arg = op.partition(":")
        if kind == "a":
            data = unescape(arg)
            step("a", lambda: os.write(fd, data) == len(data))
        elif kind == "e":
            data = unescape(arg)
            step("e", lambda: os.pwrite(fd, data, os.fstat(fd).st_size) ==
                 len(data))
        elif kind == "p":
            off, _, rest = arg.partition(":")
            data = unescape(rest)
            step("p", lambda: os.pwrite(fd, data, int(off)) == len(data))
        elif kind == "fsync":
            step("fsync", lambda: os.fsync(fd))
        elif kind == "ftrunc":
            step("ftrunc", lambda: os.ftruncate(fd, int(arg)))
        elif kind == "sleep":
            time.sleep(int(arg) / 1000)
        else:
            print("session: unknown op %r" % op, file=sys.stderr)
            sys.exit(2)
    step("close", lambda: os.close(fd))
    print("ok" if ok else " ".join(out))
    sys.exit(0 if ok else 1)


def cmd_expect(path, data):
    want = unescape(data)
    try:
        got = read_file(path)
    except OSError as e:
        problem("%s: %s" % (path, ename(e)))
        finish()
    if got != want:
        problem("%s holds %s, want %s" % (path, show(got, 300),
                                          show(want, 300)))
    finish()


def cmd_rejected(d, *datas):
    want = [unescape(x) for x in datas]
    try:
        names = sorted(os.listdir(d))
    except OSError as e:
        problem("%s: %s (nothing quarantined?)" % (d, ename(e)))
        finish()
    got = [read_file(os.path.join(d, n)) for n in names]
    if got != want:
        problem("%s holds %d entries %s: %s; want %d: %s" %
                (d, len(names), names, [show(g) for g in got], len(want),
                 [show(w) for w in want]))
    finish()


def cmd_journal(jpath, event, path):
    n = 0
    with open(jpath, "rb") as f:
        for i, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
            except ValueError as e:
                problem("journal line %d is not JSON: %s: %s" %
                        (i, e, show(line)))
                continue
            if not isinstance(rec, dict):
                problem("journal line %d is not an object" % i)
                continue
            if rec.get("event") == event and rec.get("path") == path:
                n += 1
    print(n)
    finish()


def cmd_checkpoints(d, logpath, *sizes):
    log = read_file(logpath)
    ext = os.path.splitext(logpath)[1]
    cps, versions = [], 0
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        n = has_checkpoint_xattr(p)
        if n is None:
            versions += 1
            continue
        cps.append(n)
        if not VERSION_RE.fullmatch(name) or not name.endswith(ext):
            problem("checkpoint %s: not a version name ending in %s" %
                    (name, ext))
        size = os.stat(p).st_size
        data = read_file(p)
        if size != n or len(data) != n:
            problem("checkpoint %s: %s says %d, stat %d, read %d bytes" %
                    (name, CHECKPOINT_XATTR, n, size, len(data)))
        if data != log[:n]:
            problem("checkpoint %s (%d bytes) is not the log's first %d "
                    "bytes: %s vs %s" % (name, n, n, show(data),
                                         show(log[:n])))
    for s in sizes:
        if int(s) not in cps:
            problem("no checkpoint of %s bytes in %s (checkpoint sizes: %s, "
                    "%d ordinary versions)" % (s, d, sorted(set(cps)),
                                               versions))
    info("%d checkpoints (sizes %s), %d ordinary versions" %
         (len(cps), " ".join(map(str, sorted(set(cps)))), versions))
    finish()


def find_version(d, wants):
    """(name, index of the matching want) of an ordinary version."""
    seen = []
    try:
        names = sorted(os.listdir(d))
    except OSError as e:
        problem("%s: %s" % (d, ename(e)))
        return None
    for name in names:
        p = os.path.join(d, name)
        if has_checkpoint_xattr(p) is not None:
            seen.append("%s (checkpoint)" % name)
            continue
        data = read_file(p)
        seen.append("%s %s" % (name, show(data, 60)))
        for i, w in enumerate(wants):
            if data == w:
                return name, i
    problem("%s: no ordinary version (without %s) holding %s; it has: %s"
            % (d, CHECKPOINT_XATTR, " or ".join(show(w) for w in wants),
               "; ".join(seen) or "nothing"))
    return None


def cmd_version(d, *datas):
    found = find_version(d, [unescape(x) for x in datas])
    if found:
        info("%s holds content %d" % found)
    finish()


def cmd_erofs(*paths):
    for p in paths:
        tries = [("open O_WRONLY|O_CREAT", os.O_WRONLY | os.O_CREAT)]
        if os.path.lexists(p):
            tries.append(("open O_WRONLY|O_APPEND",
                          os.O_WRONLY | os.O_APPEND))
            tries.append(("open O_RDWR|O_TRUNC", os.O_RDWR | os.O_TRUNC))
        for what, fl in tries:
            try:
                fd = os.open(p, fl, 0o644)
            except OSError as e:
                if e.errno != errno.EROFS:
                    problem("%s: %s: %s, not EROFS" % (p, what, ename(e)))
                continue
            try:
                os.write(fd, b"x\n")
                problem("%s: %s and write succeeded" % (p, what))
            except OSError as e:
                problem("%s: %s succeeded (write: %s); want EROFS" %
                        (p, what, ename(e)))
            finally:
                try:
                    os.close(fd)
                except OSError:
                    pass
    finish()


# --- (h) rotation ----------------------------------------------------------

def rot_lines(tag, count):
    return [b"%s %04d %s\n" % (tag, i, b"r" * (i * 13 % 37))
            for i in range(count)]


def cmd_rotate_rename(d, seed):
    rng = random.Random("rename-%s" % seed)
    lines = rot_lines(b"rename", 600)
    log, old = os.path.join(d, "app.log"), os.path.join(d, "app.log.1")
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    for line in lines[:300]:
        for part in split_parts(rng, line, 2, 2):
            write_all(fd, part)
    # logrotate renames the log while a record is half written...
    write_all(fd, lines[300][:9])
    os.rename(log, old)
    # ...the logger finishes it and goes on through its old fd...
    write_all(fd, lines[300][9:])
    for line in lines[301:350]:
        for part in split_parts(rng, line, 2, 2):
            write_all(fd, part)
    # ...until it reopens the log by name (a new file) and closes the old.
    fd2 = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    write_all(fd2, lines[350][:5])
    os.close(fd)
    write_all(fd2, lines[350][5:])
    for line in lines[351:]:
        for part in split_parts(rng, line, 2, 2):
            write_all(fd2, part)
    os.close(fd2)
    got_old, got_new = read_file(old), read_file(log)
    want_old, want_new = b"".join(lines[:350]), b"".join(lines[350:])
    if got_old != want_old:
        problem("rename: app.log.1 holds %d bytes, want lines 0-349 (%d "
                "bytes); differs at byte %d" %
                (len(got_old), len(want_old), first_diff(got_old, want_old)))
    if got_new != want_new:
        problem("rename: app.log holds %d bytes, want lines 350-599 (%d "
                "bytes); differs at byte %d" %
                (len(got_new), len(want_new), first_diff(got_new, want_new)))
    if got_old + got_new != b"".join(lines):
        problem("rename: app.log.1 + app.log is not every line once, in "
                "order")
    info("rename: app.log.1 %d bytes, app.log %d bytes" %
         (len(got_old), len(got_new)))
    finish()


def cmd_rotate_copytruncate(d, backups, seed):
    rng = random.Random("copytruncate-%s" % seed)
    lines = rot_lines(b"copytrunc", 400)
    log, copy = os.path.join(d, "ct.log"), os.path.join(d, "ct.log.1")
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    for line in lines[:200]:
        for part in split_parts(rng, line, 2, 2):
            write_all(fd, part)
    os.fsync(fd)
    # logrotate copytruncate: copy, then truncate the log in place.
    data = read_file(log)
    with open(copy, "wb") as f:
        f.write(data)
    os.truncate(log, 0)
    for line in lines[200:]:
        for part in split_parts(rng, line, 2, 2):
            write_all(fd, part)
    os.close(fd)
    old, new = b"".join(lines[:200]), b"".join(lines[200:])
    if data != old:
        problem("copytruncate: the copy read %d bytes, want lines 0-199 (%d "
                "bytes, all fsynced)" % (len(data), len(old)))
    got = read_file(log)
    if got != new:
        problem("copytruncate: ct.log holds %d bytes (%s...), want lines "
                "200-399 from its start (%d bytes); differs at byte %d" %
                (len(got), show(got[:40]), len(new), first_diff(got, new)))
    found = find_version(backups, [old])
    info("copytruncate: ct.log %d bytes, ct.log.1 %d bytes, old file kept "
         "as %s" % (len(got), len(data), found[0] if found else "-"))
    finish()


# --- test_append_crash.sh --------------------------------------------------

def crash_line(n):
    pad = "".join("abcdefgh\u00e9ij"[(n + k) % 11] for k in range(n * 37 % 53))
    return json.dumps({"n": n, "pad": pad}, ensure_ascii=False,
                      separators=(",", ":")).encode() + b"\n"


def crash_stream(nbytes):
    """The crash stream's first lines, at least @nbytes bytes of them."""
    out, size, n = [], 0, 1
    while size < nbytes:
        line = crash_line(n)
        out.append(line)
        size += len(line)
        n += 1
    return b"".join(out)


def read_to_end(fd):
    """Reads @fd to its end; how many bytes."""
    total = 0
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return total
        total += len(chunk)


def cmd_crash_writer(path, acklog, ready, seed):
    rng = random.Random(seed)
    try:
        data = read_file(path)
    except FileNotFoundError:
        data = b""
    n = data.count(b"\n") + 1
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    ack = os.open(acklog, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    # A reader's handle: what it sees is committed.
    rfd = os.open(path, os.O_RDONLY)
    seen = 0
    first = True
    while True:
        if n % 10 == 0:
            try:
                got = read_to_end(rfd)
            except OSError as e:
                print("writer: read before line %d: %s" % (n, ename(e)),
                      file=sys.stderr)
                sys.exit(3)
            if got:
                seen += got
                os.write(ack, b"seen %d\n" % seen)
        for part in split_parts(rng, crash_line(n), 2, 4):
            try:
                write_all(fd, part)
            except OSError as e:
                print("writer: write of line %d: %s" % (n, ename(e)),
                      file=sys.stderr)
                sys.exit(3)
            if first:
                open(ready, "w").close()
                first = False
            if rng.random() < 0.02:
                time.sleep(rng.random() * 0.005)
        if rng.random() < 0.15:
            try:
                os.fsync(fd)
            except OSError as e:
                print("writer: fsync after line %d: %s" % (n, ename(e)),
                      file=sys.stderr)
                sys.exit(3)
            os.write(ack, b"ack %d\n" % n)
        n += 1


def cmd_crash_check(mnt, backing, rel, acklog, seen_path):
    path = os.path.join(mnt, rel)
    try:
        data = read_file(path)
    except FileNotFoundError:
        data = b""
    acked, seens = 0, []
    with open(acklog, "rb") as f:
        for line in f:
            what, num = line.split()
            if what == b"ack":
                acked = max(acked, int(num))
            else:
                seens.append(int(num))
    seen = max(seens, default=0)
    stream = crash_stream(max(len(data) + 64 * 1024, seen))
    lines = data.count(b"\n")
    if data != stream[:len(data)]:
        at = first_diff(data, stream)
        line_no = data.count(b"\n", 0, at) + 1
        problem("%s: byte %d (line %d) is not the stream's: %s" %
                (rel, at, line_no, show(data[at:at + 80])))
    elif data and not data.endswith(b"\n"):
        problem("%s: ends in a partial line: ...%s" %
                (rel, show(data[-80:])))
    try:
        bdata = read_file(os.path.join(backing, rel))
    except FileNotFoundError:
        bdata = b""
    if bdata != data:
        problem("%s: %d bytes through the mount, %d in the backing dir" %
                (rel, len(data), len(bdata)))
    for num in seens:
        if num and stream[num - 1:num] != b"\n":
            problem("a reader read %d bytes of %s, ending mid-line: ...%s"
                    % (num, rel, show(stream[max(0, num - 60):num])))
    if lines < acked:
        problem("%s: %d lines, but an fsync() returned 0 after line %d" %
                (rel, lines, acked))
    if len(data) < seen:
        problem("%s: %d bytes, but a reader read %d before a crash: "
                "committed records lost" % (rel, len(data), seen))
    try:
        with open(seen_path) as f:
            known = set(json.load(f))
    except FileNotFoundError:
        known = set()
    odir = os.path.join(mnt, ".backups", ".orphans")
    new = torn = other = 0
    base = os.path.basename(rel)
    for top, _, files in os.walk(odir):
        for name in sorted(files):
            orel = os.path.relpath(os.path.join(top, name), odir)
            if orel in known:
                continue
            known.add(orel)
            if not name.endswith(base):
                other += 1
                continue
            new += 1
            o = read_file(os.path.join(top, name))
            torn += len(o)
            whole = data + o
            want = crash_stream(len(whole))[:len(whole)]
            if whole != want:
                at = first_diff(whole, want)
                problem("orphan %s (%d bytes) does not continue %s (%d "
                        "bytes) with the stream's next bytes: differs at "
                        "its byte %d: %s" %
                        (orel, len(o), rel, len(data), at - len(data),
                         show(whole[at:at + 80])))
    with open(seen_path + ".tmp", "w") as f:
        json.dump(sorted(known), f)
    os.replace(seen_path + ".tmp", seen_path)
    print("%d lines (%d bytes), %d acked, %d bytes read by a reader, %d "
          "new orphans of %s (%d bytes), %d other new orphans" %
          (lines, len(data), acked, seen, new, base, torn, other))
    finish()


COMMANDS = {
    "tail": (cmd_tail, 3, 4),
    "tail-reader": (cmd_tail_reader, 3, 3),
    "latency": (cmd_latency, 4, 5),
    "multi": (cmd_multi, 4, 4),
    "multi-child": (cmd_multi_child, 4, 4),
    "session": (cmd_session, 2, None),
    "expect": (cmd_expect, 2, 2),
    "rejected": (cmd_rejected, 1, None),
    "journal": (cmd_journal, 3, 3),
    "checkpoints": (cmd_checkpoints, 2, None),
    "version": (cmd_version, 2, None),
    "erofs": (cmd_erofs, 1, None),
    "rotate-rename": (cmd_rotate_rename, 2, 2),
    "rotate-copytruncate": (cmd_rotate_copytruncate, 3, 3),
    "crash-writer": (cmd_crash_writer, 4, 4),
    "crash-check": (cmd_crash_check, 5, 5),
}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    fn, lo, hi = COMMANDS[sys.argv[1]]
    args = sys.argv[2:]
    if len(args) < lo or (hi is not None and len(args) > hi):
        print("appendwriter.py %s: wrong number of arguments" % sys.argv[1],
              file=sys.stderr)
        sys.exit(2)
    fn(*args)


if __name__ == "__main__":
    main()
