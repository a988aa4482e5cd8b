#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The writer and the checker of test_crash.sh.

  crashwriter.py init MNT NAME...
      writes generation 0 of each file (through the mount)
  crashwriter.py write MNT LOG READY SEED ROUND NAME...
      rewrites the files until killed, with generations ROUND * 1000000 + 1,
      + 2...; creates READY once it starts writing
  crashwriter.py check MNT BACKING LOG CACHE|- NAME...
      checks what a remount shows against LOG; CACHE (a json file) keeps
      what entries of .backups held (their names are never reused), so that
      a round reads only new ones; "-" reads everything again

A content is self-describing: the line "hydra NAME GEN LEN SUM", then random
bytes up to LEN bytes in all; SUM is the BLAKE2b-64 of the header's first
four fields and the body, so a torn or mixed content never parses.

LOG, outside the mount, gets one line per event, written with one write()
to an O_APPEND fd (nothing is buffered, a killed writer loses nothing):
  done NAME GEN LEN MODE   every write() of that content returned
  ack NAME GEN             the fsync that followed returned 0
  closed NAME GEN          the close() that followed returned 0
"""

import errno
import hashlib
import json
import math
import os
import random
import re
import sys

MAX_LEN = 200 * 1024
GEN_STEP = 1000000      # generations of one round (one daemon's life)
VERSION_RE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z(~\d+)?(\.[A-Za-z0-9_-]+)?")
# "<time>-<pid>-<seq>-<file name>" (the shadow's name ends in the file's)
ORPHAN_RE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-\d+-\d+-(.*)")


def header(name, gen, length, digest):
    return b"hydra %s %d %d %s\n" % (name.encode(), gen, length, digest)


def digest_of(name, gen, length, body):
    h = hashlib.blake2b(digest_size=8)
    h.update(b"hydra %s %d %d " % (name.encode(), gen, length))
    h.update(body)
    return h.hexdigest().encode()


def min_length(name, gen, length):
    """The smallest content length >= @length that holds the header."""
    while len(header(name, gen, length, b"0" * 16)) > length:
        length += 1
    return length


def make(name, gen, length, rng):
    """Content @gen of @name, @length bytes (>= min_length())."""
    body_len = length - len(header(name, gen, length, b"0" * 16))
    assert body_len >= 0
    body = rng.randbytes(body_len)
    return header(name, gen, length, digest_of(name, gen, length, body)) + body


def parse(data):
    """(name, gen) of a whole content, else None."""
    nl = data.find(b"\n", 0, 200)
    if nl < 0:
        return None
    parts = data[:nl].split(b" ")
    if len(parts) != 5 or parts[0] != b"hydra":
        return None
    try:
        name = parts[1].decode()
        gen, length = int(parts[2]), int(parts[3])
    except (UnicodeDecodeError, ValueError):
        return None
    if length != len(data) or \
            digest_of(name, gen, length, data[nl + 1:]) != parts[4]:
        return None
    return name, gen


def write_all(fd, data, off=None):
    while data:
        n = os.write(fd, data) if off is None else os.pwrite(fd, data, off)
        data = data[n:]
        if off is not None:
            off += n


def cmd_init(mnt, names):
    rng = random.Random(0)
    for name in names:
        data = make(name, 0, min_length(name, 0, 1000), rng)
        fd = os.open(os.path.join(mnt, name),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        write_all(fd, data)
        os.close(fd)


class Log:
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def __call__(self, *fields):
        os.write(self.fd, (" ".join(str(f) for f in fields) + "\n").encode())


def rewrite(mnt, log, rng, name, gen, sizes):
    """One new content of @name: O_TRUNC + write, or same-length pwrite."""
    path = os.path.join(mnt, name)
    same = rng.random() < 0.35 and \
        min_length(name, gen, sizes[name]) == sizes[name]
    if same:
        length = sizes[name]
    else:
        length = int(math.exp(rng.uniform(math.log(8), math.log(MAX_LEN))))
        length = min_length(name, gen, length)
    data = make(name, gen, length, rng)
    k = min(rng.randint(2, 6), len(data))
    cuts = [0] + sorted(rng.sample(range(1, len(data)), k - 1)) + [len(data)]
    chunks = [(a, data[a:b]) for a, b in zip(cuts, cuts[1:])]
    sync = rng.random() < 0.35
    mode = ("pwrite" if same else "trunc") + ("+fsync" if sync else "")
    if same:
        fd = os.open(path, os.O_WRONLY)
        rng.shuffle(chunks)
        for off, chunk in chunks:
            write_all(fd, chunk, off)
    else:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        for _, chunk in chunks:
            write_all(fd, chunk)
    log("done", name, gen, length, mode)
    if sync:
        os.fsync(fd)
        log("ack", name, gen)
    os.close(fd)
    log("closed", name, gen)
    sizes[name] = length


def cmd_write(mnt, log_path, ready, seed, rnd, names):
    rng = random.Random(seed)
    log = Log(log_path)
    sizes = {n: os.stat(os.path.join(mnt, n)).st_size for n in names}
    os.close(os.open(ready, os.O_WRONLY | os.O_CREAT, 0o644))
    gen = rnd * GEN_STEP
    name = names[0]
    while True:
        gen += 1
        # Runs of rewrites of one file too: each open then comes right
        # after the last close of the same file.
        if rng.random() < 0.5:
            name = rng.choice(names)
        try:
            rewrite(mnt, log, rng, name, gen, sizes)
        except OSError as e:
            # Expected once the daemon is killed (ENOTCONN, EIO...).
            print("writer: %s generation %d: %s" %
                  (name, gen, errno.errorcode.get(e.errno, e.errno)),
                  file=sys.stderr)
            sys.exit(3)


class Checker:
    def __init__(self, mnt, backing, names, cache):
        self.mnt, self.backing, self.names = mnt, backing, names
        self.cache = cache          # None: read everything
        self.problems = []
        self.current = {}           # name -> gen
        self.committed = {n: set() for n in names}  # the file or a version
        self.orphaned = {n: set() for n in names}   # whole orphans
        self.stats = {"versions": 0, "orphans": 0, "whole orphans": 0,
                      "empty unnamed orphans": 0}

    def problem(self, msg):
        self.problems.append(msg)

    def read_entry(self, rel):
        """parse() of the .backups entry @rel, through the cache."""
        if self.cache is not None and rel in self.cache:
            got = self.cache[rel]
            return tuple(got) if got else None
        with open(os.path.join(self.mnt, rel), "rb") as f:
            got = parse(f.read())
        if self.cache is not None:
            self.cache[rel] = got
        return got

    def files(self):
        for name in self.names:
            # store.h: a crash between a commit's version link and its
            # rename leaves the file's content linked as a version too; the
            # file stays protected (staged), so that link is harmless.
            st = os.stat(os.path.join(self.backing, name))
            nlink = st.st_nlink
            vdir = os.path.join(self.backing, ".hydrafs", "versions", name)
            if nlink == 2 and os.path.isdir(vdir) and any(
                    os.stat(os.path.join(vdir, v)).st_ino == st.st_ino
                    for v in os.listdir(vdir)):
                nlink = 1
            if nlink != 1:
                self.problem("%s: %d links in the backing dir after the "
                             "remount (written in place from now on)" %
                             (name, nlink))
            with open(os.path.join(self.mnt, name), "rb") as f:
                data = f.read()
            got = parse(data)
            if got is None or got[0] != name:
                self.problem("%s: not one whole content of the file "
                             "(%d bytes, starts %r)" % (name, len(data),
                                                        data[:60]))
                continue
            self.current[name] = got[1]
            self.committed[name].add(got[1])

    def versions(self):
        for name in self.names:
            rel_dir = os.path.join(".backups", name)
            try:
                entries = sorted(os.listdir(os.path.join(self.mnt, rel_dir)))
            except FileNotFoundError:
                continue
            ext = os.path.splitext(name)[1]
            for e in entries:
                rel = os.path.join(rel_dir, e)
                m = VERSION_RE.fullmatch(e)
                if not m or (m.group(2) or "") != ext:
                    self.problem("%s: not a version name" % rel)
                self.stats["versions"] += 1
                got = self.read_entry(rel)
                if got is None or got[0] != name:
                    self.problem("%s: a version that is not a whole content "
                                 "of %s (%r)" % (rel, name, got))
                    continue
                self.committed[name].add(got[1])
                # Commits replace older contents by newer ones, and the file
                # never goes back: no version is newer than the file (one
                # as old may be kept by a commit that a crash cut short).
                if got[1] > self.current.get(name, got[1]):
                    self.problem("%s: holds generation %d, the file %d" %
                                 (rel, got[1], self.current[name]))

    def orphans(self):
        by_base = {os.path.basename(n): n for n in self.names}
        rel_dir = os.path.join(".backups", ".orphans")
        try:
            entries = sorted(os.listdir(os.path.join(self.mnt, rel_dir)))
        except FileNotFoundError:
            return
        for e in entries:
            rel = os.path.join(rel_dir, e)
            self.stats["orphans"] += 1
            m = ORPHAN_RE.fullmatch(e)
            named = by_base.get(m.group(1)) if m else None
            if m and m.group(1) == "" and \
                    os.stat(os.path.join(self.mnt, rel)).st_size == 0:
                # Killed before the new shadow was named: nothing in it.
                self.stats["empty unnamed orphans"] += 1
                continue
            if named is None:
                self.problem("%s: not <time>-<file name>-<shadow id> of "
                             "one of the files" % rel)
            got = self.read_entry(rel)
            if got is None:
                continue    # a shadow cut by the crash: nothing to check
            if got[0] not in self.orphaned:
                self.problem("%s: holds a content of %r" % (rel, got[0]))
                continue
            if named is not None and got[0] != named:
                self.problem("%s: named for %s, holds %s generation %d" %
                             (rel, named, got[0], got[1]))
            # Misnamed or not, the content is not lost.
            self.stats["whole orphans"] += 1
            self.orphaned[got[0]].add(got[1])

    def against_log(self, log_path):
        acked, done, closed = {}, {}, {}
        with open(log_path) as f:
            for line in f:
                w = line.split()
                if len(w) < 3 or w[1] not in self.committed:
                    self.problem("log: bad line %r" % line)
                    continue
                rec = {"ack": acked, "done": done, "closed": closed}.get(w[0])
                if rec is None:
                    self.problem("log: bad line %r" % line)
                    continue
                rec.setdefault(w[1], []).append(int(w[2]))
        superseded = 0
        for name in self.names:
            have = self.committed[name]
            for gen in acked.get(name, []):
                if name in self.current and self.current[name] < gen:
                    self.problem("%s: generation %d after the remount, older "
                                 "than generation %d, whose fsync returned 0"
                                 % (name, self.current[name], gen))
                if gen not in have:
                    self.problem("%s: generation %d was fsynced but is "
                                 "neither the file nor a version" %
                                 (name, gen))
            for gen in done.get(name, []):
                if gen in have or gen in self.orphaned[name]:
                    continue
                # A content only staged may be replaced in its stage by a
                # later content of the same daemon's life (one round),
                # committed.
                rnd = gen // GEN_STEP
                if any(g > gen and g // GEN_STEP == rnd for g in have):
                    superseded += 1
                    continue
                self.problem("%s: generation %d (all its writes returned) "
                             "is lost: not the file, not a version, not an "
                             "orphan, and no later commit in its round" %
                             (name, gen))
            # README: a close() that returns 0 has committed the content.
            for gen in closed.get(name, []):
                if gen not in have:
                    self.problem("%s: generation %d was closed (close() "
                                 "returned 0) but is neither the file nor a "
                                 "version%s" % (name, gen, " (only an orphan)"
                                 if gen in self.orphaned[name] else ""))
        self.stats.update({
            "contents written": sum(len(v) for v in done.values()),
            "fsyncs": sum(len(v) for v in acked.values()),
            "replaced uncommitted": superseded})


def cmd_check(mnt, backing, log_path, cache_path, names):
    cache = None
    if cache_path != "-":
        try:
            with open(cache_path) as f:
                cache = json.load(f)
        except FileNotFoundError:
            cache = {}
    c = Checker(mnt, backing, names, cache)
    c.files()
    c.versions()
    c.orphans()
    c.against_log(log_path)
    if cache is not None:
        with open(cache_path + ".new", "w") as f:
            json.dump(cache, f)
        os.replace(cache_path + ".new", cache_path)
    print(", ".join("%s %d" % kv for kv in c.stats.items()))
    for p in c.problems:
        print("problem: " + p, file=sys.stderr)
    return 1 if c.problems else 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "init":
        cmd_init(argv[2], argv[3:])
        return 0
    if len(argv) >= 8 and argv[1] == "write":
        cmd_write(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]),
                  argv[7:])
        return 0
    if len(argv) >= 7 and argv[1] == "check":
        return cmd_check(argv[2], argv[3], argv[4], argv[5], argv[6:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
