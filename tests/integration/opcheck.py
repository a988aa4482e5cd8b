#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs a fixed script of filesystem operations and prints normalized results.

Usage: opcheck.py GROUP DIR
       opcheck.py tree DIR
       opcheck.py --list

GROUP runs its operations inside DIR/GROUP (created, must not exist yet) and
prints one line per operation: the operation, its relative arguments and its
result (a value, "ok", or "ERR <ERRNO NAME>").  Nothing printed depends on
where DIR is or when the script runs: no inode or device numbers, no absolute
times, only values the script set itself or relations ("same inode: yes").
Running a group on a plain directory and on a mount of an equivalent directory
must print the same text; the tests diff the two.

"tree DIR" prints a normalized listing of everything under DIR (types, modes,
owners, sizes, link targets, content hashes, xattrs, hard link groups), to
compare a reference tree with the backing tree after an unmount.

Stdlib only; ctypes reaches the calls Python lacks (renameat2, fallocate,
utimensat with UTIME_OMIT/UTIME_NOW, getdents64, telldir/seekdir).
"""

import ctypes
import errno
import fcntl
import hashlib
import mmap
import os
import platform
import socket
import stat
import struct
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)

AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
RENAME_NOREPLACE = 1 << 0
RENAME_EXCHANGE = 1 << 1
FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_ZERO_RANGE = 0x10
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
XATTR_CREATE = 1
XATTR_REPLACE = 2
F_OFD_GETLK = 36
F_OFD_SETLK = 37
SYS_GETDENTS64 = {"x86_64": 217, "aarch64": 61, "riscv64": 61}.get(
    platform.machine())
GIB = 1 << 30
MIB = 1 << 20


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class Dirent(ctypes.Structure):
    _fields_ = [("d_ino", ctypes.c_uint64), ("d_off", ctypes.c_int64),
                ("d_reclen", ctypes.c_ushort), ("d_type", ctypes.c_ubyte),
                ("d_name", ctypes.c_char * 256)]


libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                           ctypes.c_char_p, ctypes.c_uint]
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64,
                           ctypes.c_int64]
libc.utimensat.argtypes = [ctypes.c_int, ctypes.c_char_p,
                           ctypes.POINTER(Timespec), ctypes.c_int]
libc.access.argtypes = [ctypes.c_char_p, ctypes.c_int]
libc.lgetxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p,
                           ctypes.c_size_t]
libc.lgetxattr.restype = ctypes.c_ssize_t
libc.llistxattr.argtypes = [ctypes.c_char_p, ctypes.c_void_p,
                            ctypes.c_size_t]
libc.llistxattr.restype = ctypes.c_ssize_t
libc.syscall.restype = ctypes.c_long
libc.opendir.argtypes = [ctypes.c_char_p]
libc.opendir.restype = ctypes.c_void_p
libc.readdir.argtypes = [ctypes.c_void_p]
libc.readdir.restype = ctypes.POINTER(Dirent)
libc.telldir.argtypes = [ctypes.c_void_p]
libc.telldir.restype = ctypes.c_long
libc.seekdir.argtypes = [ctypes.c_void_p, ctypes.c_long]
libc.seekdir.restype = None
libc.rewinddir.argtypes = [ctypes.c_void_p]
libc.rewinddir.restype = None
libc.closedir.argtypes = [ctypes.c_void_p]


class Failed:
    """What op() returns when the operation raised."""

    def __init__(self, err):
        self.err = err

    def __bool__(self):
        return False


def out(line):
    sys.stdout.write(line + "\n")


def ename(num):
    return errno.errorcode.get(num, "E%d" % num)


def fmt(val):
    if val is None:
        return "ok"
    if isinstance(val, bool):
        return "yes" if val else "no"
    if isinstance(val, (bytes, bytearray, memoryview)):
        val = bytes(val)
        if len(val) <= 48:
            return "bytes[%d] %r" % (len(val), val)
        return "bytes[%d] sha256:%s" % (len(val),
                                        hashlib.sha256(val).hexdigest()[:20])
    if isinstance(val, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in val) + "]"
    if isinstance(val, str) and not val.isprintable():
        return repr(val)
    return str(val)


def op(label, fn, *args, **kw):
    """Runs fn, prints 'label -> result', returns the result or a Failed."""
    try:
        res = fn(*args, **kw)
    except OSError as e:
        out("%s -> ERR %s" % (label, ename(e.errno)))
        return Failed(e.errno)
    except (ValueError, TypeError, OverflowError) as e:
        out("%s -> EXC %s" % (label, type(e).__name__))
        return Failed(None)
    out("%s -> %s" % (label, fmt(res)))
    return res


def note(label, val):
    out("%s: %s" % (label, fmt(val)))


def check(ret):
    """Turns a libc -1/errno return into OSError."""
    if ret < 0:
        num = ctypes.get_errno()
        raise OSError(num, os.strerror(num))
    return ret


def b(path):
    return os.fsencode(path)


def open_fd(label, path, flags, mode=0o644):
    """Like op(os.open) but prints 'ok' rather than the fd number."""
    try:
        fd = os.open(path, flags, mode)
    except OSError as e:
        out("%s -> ERR %s" % (label, ename(e.errno)))
        return None
    out("%s -> ok" % label)
    return fd


def close(fd):
    if fd is not None:
        os.close(fd)


def write_file(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def pattern(n, seed=0):
    """n deterministic bytes that differ at every offset modulo 251."""
    block = bytes((i * 7 + seed) % 251 for i in range(251 * 16))
    reps = n // len(block) + 1
    return (block * reps)[:n]


TYPES = {stat.S_IFREG: "reg", stat.S_IFDIR: "dir", stat.S_IFLNK: "lnk",
         stat.S_IFIFO: "fifo", stat.S_IFSOCK: "sock", stat.S_IFCHR: "chr",
         stat.S_IFBLK: "blk"}
DTYPES = {0: "unknown", 1: "fifo", 2: "chr", 4: "dir", 6: "blk", 8: "reg",
          10: "lnk", 12: "sock"}


def stat_str(st):
    kind = TYPES.get(stat.S_IFMT(st.st_mode), "?")
    s = "%s mode=%04o nlink=%d uid=%d gid=%d" % (
        kind, stat.S_IMODE(st.st_mode), st.st_nlink, st.st_uid, st.st_gid)
    if kind != "dir":
        s += " size=%d" % st.st_size
    if kind in ("chr", "blk"):
        s += " rdev=%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    return s


def show(path, follow=False):
    what = "stat" if follow else "lstat"
    return op("%s %s" % (what, path),
              lambda: stat_str(os.stat(path, follow_symlinks=follow)))


def fshow(label, fd):
    return op("fstat %s" % label, lambda: stat_str(os.fstat(fd)))


def near_now(ns):
    return abs(ns / 1e9 - time.time()) < 300


def times(path, follow=True):
    st = os.stat(path, follow_symlinks=follow)
    return "atime=%d mtime=%d" % (st.st_atime_ns, st.st_mtime_ns)


def utimensat(path, atime, mtime, flags=0):
    """atime/mtime: (sec, nsec), or UTIME_NOW / UTIME_OMIT."""
    ts = (Timespec * 2)()
    for i, t in enumerate((atime, mtime)):
        if isinstance(t, tuple):
            ts[i].tv_sec, ts[i].tv_nsec = t
        else:
            ts[i].tv_sec, ts[i].tv_nsec = 0, t
    check(libc.utimensat(AT_FDCWD, b(path), ts, flags))


def renameat2(old, new, flags):
    check(libc.renameat2(AT_FDCWD, b(old), AT_FDCWD, b(new), flags))


def fallocate(fd, mode, off, length):
    check(libc.fallocate(fd, mode, off, length))


def access(path, mode):
    check(libc.access(b(path), mode))


# ---------------------------------------------------------------- attr


def g_attr():
    write_file("f", b"hello")
    show("f")
    for m in (0o600, 0o000, 0o755, 0o4755, 0o2755, 0o6755, 0o2745, 0o1777,
              0o7777, 0o644):
        op("chmod f %04o" % m, os.chmod, "f", m)
        show("f")
    os.mkdir("d")
    for m in (0o2775, 0o1777, 0o7755, 0o755):
        op("chmod d %04o" % m, os.chmod, "d", m)
        show("d")
    os.symlink("f", "ln")
    op("chmod ln (follows) 0640", os.chmod, "ln", 0o640)
    show("f")
    show("ln")
    fd = os.open("f", os.O_RDONLY)
    op("fchmod f 0604", os.fchmod, fd, 0o604)
    fshow("f", fd)
    os.close(fd)
    op("chmod missing 0644", os.chmod, "missing", 0o644)
    op("chmod f/x 0644", os.chmod, "f/x", 0o644)

    op("chown f 1001:1002", os.chown, "f", 1001, 1002)
    show("f")
    op("chown f -1:1003", os.chown, "f", -1, 1003)
    show("f")
    op("chown f 1004:-1", os.chown, "f", 1004, -1)
    show("f")
    op("lchown ln 1005:1006", os.lchown, "ln", 1005, 1006)
    show("ln")
    show("f")
    op("chown ln (follows) 1007:1007", os.chown, "ln", 1007, 1007)
    show("ln")
    show("f")
    fd = os.open("f", os.O_RDONLY)
    op("fchown f 0:0", os.fchown, fd, 0, 0)
    os.close(fd)
    show("f")
    op("chmod f 6755", os.chmod, "f", 0o6755)
    op("chown f 1001:1001 (clears setuid/setgid?)", os.chown, "f", 1001, 1001)
    show("f")
    op("chmod f 2745", os.chmod, "f", 0o2745)
    op("chown f 0:0 (setgid without group exec)", os.chown, "f", 0, 0)
    show("f")
    op("chmod d 6755", os.chmod, "d", 0o6755)
    op("chown d 1001:1001", os.chown, "d", 1001, 1001)
    show("d")
    op("chown missing 0:0", os.chown, "missing", 0, 0)
    op("chmod f 4755", os.chmod, "f", 0o4755)
    fd = os.open("f", os.O_WRONLY)
    op("write to setuid file", os.write, fd, b"x")
    os.close(fd)
    show("f")
    op("chmod f 0644", os.chmod, "f", 0o644)
    op("chown f 0:0", os.chown, "f", 0, 0)

    write_file("t", b"hello")
    op("truncate t 100", os.truncate, "t", 100)
    show("t")
    op("read t", read_file, "t")
    op("truncate t 3", os.truncate, "t", 3)
    op("read t", read_file, "t")
    op("truncate t 0", os.truncate, "t", 0)
    show("t")
    fd = os.open("t", os.O_RDWR)
    os.write(fd, b"abcdef")
    op("ftruncate t 1MiB", os.ftruncate, fd, MIB)
    fshow("t", fd)
    op("pread t tail", os.pread, fd, 16, MIB - 16)
    op("ftruncate t 2", os.ftruncate, fd, 2)
    op("pread t", os.pread, fd, 100, 0)
    op("pwrite t at 10", os.pwrite, fd, b"Z", 10)
    op("pread t", os.pread, fd, 100, 0)
    os.close(fd)
    fd = os.open("t", os.O_RDONLY)
    op("ftruncate read-only fd", os.ftruncate, fd, 0)
    os.close(fd)
    op("truncate d", os.truncate, "d", 0)
    op("truncate missing", os.truncate, "missing", 0)
    op("truncate t/x", os.truncate, "t/x", 0)
    op("truncate t -1", os.truncate, "t", -1)
    op("truncate ln (follows) 4", os.truncate, "ln", 4)
    show("f")

    op("utime f ns=(1000000000.000000123, 2000000000.000000456)",
       os.utime, "f",
       ns=(1_000_000_000_000_000_123, 2_000_000_000_000_000_456))
    op("times f", times, "f")
    op("utimensat f atime=OMIT mtime=3.789", utimensat, "f", UTIME_OMIT,
       (3, 789))
    op("times f", times, "f")
    op("utimensat f atime=5.1 mtime=OMIT", utimensat, "f", (5, 1), UTIME_OMIT)
    op("times f", times, "f")
    op("utimensat f atime=NOW mtime=OMIT", utimensat, "f", UTIME_NOW,
       UTIME_OMIT)
    st = os.stat("f")
    note("f atime near now", near_now(st.st_atime_ns))
    note("f mtime", st.st_mtime_ns)
    op("utimensat f atime=OMIT mtime=NOW", utimensat, "f", UTIME_OMIT,
       UTIME_NOW)
    note("f mtime near now", near_now(os.stat("f").st_mtime_ns))
    op("utimensat f both OMIT", utimensat, "f", UTIME_OMIT, UTIME_OMIT)
    op("utime f ns=(-1.5e9, 2**33 s)", os.utime, "f",
       ns=(-1_500_000_000_000_000_000, (1 << 33) * 1_000_000_000))
    op("times f", times, "f")
    op("utime f (now)", os.utime, "f")
    st = os.stat("f")
    note("f atime and mtime near now",
         near_now(st.st_atime_ns) and near_now(st.st_mtime_ns))
    op("utime f ns=(7, 8)", os.utime, "f", ns=(7, 8))
    op("utime ln nofollow ns=(11, 12)", os.utime, "ln", ns=(11, 12),
       follow_symlinks=False)
    op("times ln nofollow", times, "ln", False)
    op("times f", times, "f")
    op("utimensat ln nofollow atime=OMIT mtime=13.0", utimensat, "ln",
       UTIME_OMIT, (13, 0), AT_SYMLINK_NOFOLLOW)
    op("times ln nofollow", times, "ln", False)
    op("utime d ns=(21, 22)", os.utime, "d", ns=(21, 22))
    op("times d", times, "d")
    op("utime missing", os.utime, "missing", ns=(1, 1))
    op("utimensat f atime nsec out of range", utimensat, "f",
       (1, 1_000_000_000), UTIME_OMIT)
    os.utime("f", ns=(GIB, GIB))
    fd = os.open("f", os.O_WRONLY)
    os.write(fd, b"new")
    os.close(fd)
    note("f mtime changed by write", os.stat("f").st_mtime_ns != GIB)
    os.utime("d", ns=(GIB, GIB))
    write_file("d/new", b"")
    note("d mtime changed by create in d", os.stat("d").st_mtime_ns != GIB)
    os.utime("t", ns=(GIB, GIB))
    os.truncate("t", 0)
    note("t mtime changed by truncate", os.stat("t").st_mtime_ns != GIB)

    for m in (0o000, 0o100, 0o010, 0o001, 0o400, 0o200, 0o644, 0o755):
        os.chmod("f", m)
        for name, bit in (("F", os.F_OK), ("R", os.R_OK), ("W", os.W_OK),
                          ("X", os.X_OK), ("RWX", 7)):
            op("access f mode=%04o %s" % (m, name), access, "f", bit)
    for m in (0o000, 0o700):
        os.chmod("d", m)
        for name, bit in (("R", os.R_OK), ("W", os.W_OK), ("X", os.X_OK)):
            op("access d mode=%04o %s" % (m, name), access, "d", bit)
    os.chmod("f", 0o644)
    op("access missing F", access, "missing", os.F_OK)
    op("access f/x F", access, "f/x", os.F_OK)
    os.symlink("missing", "dangling")
    op("access dangling F", access, "dangling", os.F_OK)

    sv = os.statvfs(".")
    note("statvfs bsize", sv.f_bsize)
    note("statvfs frsize", sv.f_frsize)
    note("statvfs namemax", sv.f_namemax)
    note("statvfs blocks", sv.f_blocks)
    note("statvfs bfree <= blocks", sv.f_bfree <= sv.f_blocks)
    note("statvfs bavail <= bfree", sv.f_bavail <= sv.f_bfree)
    fd = os.open("f", os.O_RDONLY)
    sv2 = os.fstatvfs(fd)
    os.close(fd)
    note("fstatvfs blocks equal", sv2.f_blocks == sv.f_blocks)
    op("statvfs missing", os.statvfs, "missing")
    show("f")
    show("t")
    show("d")


# ---------------------------------------------------------------- open


def aligned(n):
    """An anonymous mapping: page aligned, usable as an O_DIRECT buffer."""
    return mmap.mmap(-1, n)


def g_open():
    fd = open_fd("open f CREAT|EXCL|WRONLY", "f",
                 os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    op("write f", os.write, fd, b"hello")
    op("close f", os.close, fd)
    open_fd("open f CREAT|EXCL|WRONLY again", "f",
            os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    show("f")
    fd = open_fd("open f WRONLY|APPEND", "f", os.O_WRONLY | os.O_APPEND)
    op("lseek f 0 SET", os.lseek, fd, 0, os.SEEK_SET)
    op("write f (append)", os.write, fd, b"world")
    op("lseek f 0 CUR", os.lseek, fd, 0, os.SEEK_CUR)
    op("pwrite f at 0 (append ignores offset)", os.pwrite, fd, b"!", 0)
    op("read on WRONLY fd", os.read, fd, 10)
    os.close(fd)
    op("read f", read_file, "f")
    fd = open_fd("open f RDWR|APPEND", "f", os.O_RDWR | os.O_APPEND)
    op("pread f 5 at 0", os.pread, fd, 5, 0)
    op("write f (append)", os.write, fd, b"?")
    os.close(fd)
    op("read f", read_file, "f")
    fd = open_fd("open f RDONLY", "f", os.O_RDONLY)
    op("write on RDONLY fd", os.write, fd, b"x")
    op("read f 4", os.read, fd, 4)
    op("read f 100", os.read, fd, 100)
    op("read f at EOF", os.read, fd, 100)
    op("lseek f 0 END", os.lseek, fd, 0, os.SEEK_END)
    op("lseek f -1 SET", os.lseek, fd, -1, os.SEEK_SET)
    op("pread f past EOF", os.pread, fd, 10, 1000)
    os.close(fd)
    fd = open_fd("open f WRONLY|TRUNC", "f", os.O_WRONLY | os.O_TRUNC)
    fshow("f", fd)
    op("pwrite f at 8192 (makes a hole)", os.pwrite, fd, b"end", 8192)
    os.close(fd)
    show("f")
    data = read_file("f")
    note("f hole reads zeros", data[:8192] == bytes(8192))
    fd = open_fd("open f RDWR", "f", os.O_RDWR)
    op("pwrite f 4 at 2", os.pwrite, fd, b"ABCD", 2)
    op("pread f 8 at 0", os.pread, fd, 8, 0)
    op("write f 1MiB at 0", os.write, fd, pattern(MIB))
    op("pread f 1MiB at 0", os.pread, fd, MIB, 0)
    fd2 = os.dup(fd)
    op("close dup of f (flush)", os.close, fd2)
    op("write f after closing dup", os.write, fd, b"more")
    op("fsync f", os.fsync, fd)
    op("fdatasync f", os.fdatasync, fd)
    op("close f", os.close, fd)
    show("f")
    op("read f sha", lambda: read_file("f"))

    op("open CREAT mode 0777 (umask 022)", lambda: os.close(
        os.open("m777", os.O_CREAT | os.O_WRONLY, 0o777)))
    show("m777")
    op("open CREAT mode 0 then open RDWR as owner", lambda: os.close(
        os.open("m000", os.O_CREAT | os.O_RDWR, 0)))
    show("m000")
    op("open CREAT on existing keeps content", lambda: os.close(
        os.open("f", os.O_CREAT | os.O_WRONLY, 0o600)))
    show("f")

    os.symlink("f", "ln")
    os.symlink("target-missing", "dangling")
    open_fd("open ln CREAT|EXCL", "ln", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    open_fd("open dangling CREAT|EXCL", "dangling",
            os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    note("target-missing exists", os.path.lexists("target-missing"))
    open_fd("open ln NOFOLLOW", "ln", os.O_RDONLY | os.O_NOFOLLOW)
    open_fd("open dangling NOFOLLOW|CREAT", "dangling",
            os.O_RDONLY | os.O_NOFOLLOW | os.O_CREAT)
    fd = open_fd("open ln RDONLY (follows)", "ln", os.O_RDONLY)
    op("read via ln", os.read, fd, 5)
    close(fd)
    fd = open_fd("open dangling CREAT|WRONLY (creates target)", "dangling",
                 os.O_CREAT | os.O_WRONLY)
    close(fd)
    note("target-missing exists", os.path.lexists("target-missing"))
    show("target-missing")
    fd = open_fd("open ln PATH|NOFOLLOW", "ln", os.O_PATH | os.O_NOFOLLOW)
    if fd is not None:
        fshow("ln O_PATH", fd)
        os.close(fd)

    os.mkdir("d")
    open_fd("open d WRONLY", "d", os.O_WRONLY)
    open_fd("open d RDWR", "d", os.O_RDWR)
    open_fd("open d CREAT", "d", os.O_CREAT | os.O_RDONLY)
    fd = open_fd("open d RDONLY|DIRECTORY", "d",
                 os.O_RDONLY | os.O_DIRECTORY)
    op("read on a directory fd", os.read, fd, 10)
    op("fsync d (fsyncdir)", os.fsync, fd)
    close(fd)
    open_fd("open f DIRECTORY", "f", os.O_RDONLY | os.O_DIRECTORY)
    open_fd("open missing RDONLY", "missing", os.O_RDONLY)
    open_fd("open missing/x CREAT", "missing/x", os.O_CREAT | os.O_WRONLY)
    open_fd("open f/x RDONLY", "f/x", os.O_RDONLY)
    open_fd("open f/x CREAT", "f/x", os.O_CREAT | os.O_WRONLY)
    open_fd("open name of 256 bytes", "n" * 256, os.O_CREAT | os.O_WRONLY)
    fd = open_fd("open name of 255 bytes", "n" * 255,
                 os.O_CREAT | os.O_WRONLY)
    close(fd)
    fd = open_fd("open . RDONLY", ".", os.O_RDONLY)
    op("fsync . (fsyncdir)", os.fsync, fd)
    op("fdatasync .", os.fdatasync, fd)
    close(fd)
    os.mkfifo("fifo")
    fd = open_fd("open fifo RDONLY|NONBLOCK", "fifo",
                 os.O_RDONLY | os.O_NONBLOCK)
    fd2 = open_fd("open fifo WRONLY|NONBLOCK", "fifo",
                  os.O_WRONLY | os.O_NONBLOCK)
    if fd is not None and fd2 is not None:
        op("write fifo", os.write, fd2, b"through the pipe")
        op("read fifo", os.read, fd, 100)
    close(fd2)
    close(fd)
    show("fifo")

    buf = aligned(8192)
    buf[:] = pattern(8192, 3)
    fd = open_fd("open direct CREAT|RDWR|DIRECT", "direct",
                 os.O_CREAT | os.O_RDWR | os.O_DIRECT)
    if fd is not None:
        op("pwrite direct 8192 aligned at 0", os.pwrite, fd, buf, 0)
        op("pwrite direct 4096 aligned at 8192", os.pwrite, fd,
           memoryview(buf)[:4096], 8192)
        rbuf = aligned(16384)
        op("preadv direct 16384 at 0", os.preadv, fd, [rbuf], 0)
        op("direct data", lambda: rbuf[:12288])
        op("fdatasync direct", os.fdatasync, fd)
        os.close(fd)
        show("direct")
        op("read direct (buffered)", read_file, "direct")
    fd = open_fd("open f RDONLY|DIRECT", "f", os.O_RDONLY | os.O_DIRECT)
    if fd is not None:
        rbuf = aligned(4096)
        op("preadv f direct 4096 at 0", os.preadv, fd, [rbuf], 0)
        op("f direct data", lambda: rbuf[:])
        os.close(fd)

    fd = os.open("f", os.O_RDWR)
    op("unlink open file f", os.unlink, "f")
    op("pwrite after unlink", os.pwrite, fd, b"still", 0)
    op("pread after unlink", os.pread, fd, 5, 0)
    op("fstat nlink after unlink", lambda: os.fstat(fd).st_nlink)
    op("fsync after unlink", os.fsync, fd)
    os.close(fd)
    op("listdir", lambda: sorted(os.listdir(".")))


# ---------------------------------------------------------------- dir


def getdents(path, bufsize):
    """Raw getdents64 with a small buffer: [(name, d_type)] in fs order."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    buf = ctypes.create_string_buffer(bufsize)
    res = []
    try:
        while True:
            n = check(libc.syscall(SYS_GETDENTS64, fd, buf, bufsize))
            if n == 0:
                return res
            raw = buf.raw[:n]
            pos = 0
            while pos < n:
                reclen, dtype = struct.unpack_from("HB", raw, pos + 16)
                name = raw[pos + 19:pos + reclen].split(b"\0", 1)[0]
                res.append((os.fsdecode(name), dtype))
                pos += reclen
    finally:
        os.close(fd)


def dir_seq(path):
    """readdir with telldir before each entry: [(name, pos)]."""
    d = libc.opendir(b(path))
    if not d:
        check(-1)
    seq = []
    try:
        while True:
            pos = libc.telldir(d)
            ent = libc.readdir(d)
            if not ent:
                return seq
            seq.append((os.fsdecode(ent.contents.d_name), pos))
    finally:
        libc.closedir(d)


def seekdir_consistent(path, seq, picks):
    """seekdir to recorded positions must resume at the same entries."""
    d = libc.opendir(b(path))
    if not d:
        check(-1)
    bad = 0
    try:
        for i in picks:
            libc.seekdir(d, seq[i][1])
            for j in range(i, min(i + 3, len(seq))):
                ent = libc.readdir(d)
                if not ent or os.fsdecode(ent.contents.d_name) != seq[j][0]:
                    bad += 1
                    break
        libc.rewinddir(d)
        n = 0
        while libc.readdir(d):
            n += 1
        if n != len(seq):
            bad += 1
    finally:
        libc.closedir(d)
    return bad == 0


def compare_names(label, names, expected):
    note("%s count" % label, len(names))
    note("%s duplicates" % label, len(names) - len(set(names)))
    note("%s missing" % label, len(expected - set(names)))
    note("%s extra" % label, len(set(names) - expected))


def g_dir():
    os.umask(0o022)
    op("mkdir d", os.mkdir, "d")
    op("mkdir d again", os.mkdir, "d")
    op("mkdir d700 mode 0700", os.mkdir, "d700", 0o700)
    show("d700")
    op("mkdir d777 mode 0777 (umask 022)", os.mkdir, "d777", 0o777)
    show("d777")
    op("mkdir d1777 mode 01777", os.mkdir, "d1777", 0o1777)
    show("d1777")
    op("mkdir missing/x", os.mkdir, "missing/x")
    write_file("f", b"data")
    op("mkdir f/x", os.mkdir, "f/x")
    op("mkdir f", os.mkdir, "f")
    op("mkdir name of 256 bytes", os.mkdir, "n" * 256)
    op("mkdir d/sub", os.mkdir, "d/sub")
    show("d")
    op("mkdir d/sub2", os.mkdir, "d/sub2")
    show("d")
    os.chmod("d", 0o2775)
    op("mkdir d/sgid-inherit (setgid parent)", os.mkdir, "d/sgid-inherit")
    show("d/sgid-inherit")
    os.chmod("d", 0o755)

    op("rmdir d (not empty)", os.rmdir, "d")
    op("rmdir missing", os.rmdir, "missing")
    op("rmdir f", os.rmdir, "f")
    op("rmdir d/sub", os.rmdir, "d/sub")
    op("rmdir d/sub again", os.rmdir, "d/sub")
    op("rmdir d/sub2/.", os.rmdir, "d/sub2/.")
    op("rmdir d/sgid-inherit/..", os.rmdir, "d/sgid-inherit/..")
    show("d")

    os.mkdir("types")
    write_file("types/file", b"x")
    os.mkdir("types/dir")
    os.symlink("file", "types/symlink")
    op("mknod types/fifo S_IFIFO", os.mknod, "types/fifo",
       stat.S_IFIFO | 0o640)
    op("mkfifo types/fifo2 0600", os.mkfifo, "types/fifo2", 0o600)
    op("mkfifo types/fifo2 again", os.mkfifo, "types/fifo2", 0o600)
    op("mknod types/regular S_IFREG", os.mknod, "types/regular",
       stat.S_IFREG | 0o600)
    op("mknod types/chr S_IFCHR 1:3", os.mknod, "types/chr",
       stat.S_IFCHR | 0o600, os.makedev(1, 3))
    op("mknod types/blk S_IFBLK 7:200", os.mknod, "types/blk",
       stat.S_IFBLK | 0o600, os.makedev(7, 200))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    op("bind types/sock", sock.bind, "types/sock")
    op("listen types/sock", sock.listen, 1)
    cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    op("connect types/sock", cli.connect, "types/sock")
    cli.close()
    sock.close()
    for name in sorted(os.listdir("types")):
        show("types/" + name)
    op("scandir types", lambda: sorted(
        "%s:%s" % (e.name, "dir" if e.is_dir(follow_symlinks=False) else
                   "lnk" if e.is_symlink() else
                   "reg" if e.is_file(follow_symlinks=False) else "other")
        for e in os.scandir("types")))
    if SYS_GETDENTS64:
        op("getdents64 types d_type", lambda: sorted(
            "%s:%s" % (n, DTYPES.get(t, t)) for n, t in
            getdents("types", 4096)))
        op("getdents64 empty dir", lambda: sorted(
            "%s:%s" % (n, DTYPES.get(t, t)) for n, t in
            getdents("d700", 4096)))

    os.mkdir("big")
    expected = set()
    for i in range(5000):
        name = "e%05d" % i
        if i % 1000 == 7:
            name = ("L%05d" % i) * 42 + "xyz"
        expected.add(name)
        os.close(os.open("big/" + name, os.O_CREAT | os.O_WRONLY, 0o644))
    note("big: created", len(expected))
    show("big")
    names = os.listdir("big")
    compare_names("listdir big", names, expected)
    compare_names("scandir big", [e.name for e in os.scandir("big")],
                  expected)
    note("scandir big all regular", all(
        e.is_file(follow_symlinks=False) for e in os.scandir("big")))
    if SYS_GETDENTS64:
        ents = getdents("big", 1024)
        got = [n for n, _ in ents if n not in (".", "..")]
        compare_names("getdents64(1KiB) big", got, expected)
        note("getdents64(1KiB) big d_types",
             sorted({DTYPES.get(t, t) for n, t in ents
                     if n not in (".", "..")}))
        note("getdents64 same order as listdir",
             got == names)
    seq = dir_seq("big")
    got = [n for n, _ in seq if n not in (".", "..")]
    compare_names("readdir big", got, expected)
    picks = [i for i in (0, 1, 2, 100, 777, 2500, 4000, len(seq) - 2,
                         len(seq) - 1) if 0 <= i < len(seq)]
    note("seekdir(telldir) big restarts consistent",
         seekdir_consistent("big", seq, picks))

    os.mkdir("rmtree")
    for i in range(600):
        os.close(os.open("rmtree/r%04d" % i, os.O_CREAT | os.O_WRONLY))
    d = libc.opendir(b"rmtree")
    seen = 0
    while True:
        ent = libc.readdir(d)
        if not ent:
            break
        name = os.fsdecode(ent.contents.d_name)
        if name in (".", ".."):
            continue
        os.unlink("rmtree/" + name)
        seen += 1
    libc.closedir(d)
    note("rmtree: one readdir pass while unlinking saw", seen)
    note("rmtree: left", len(os.listdir("rmtree")))
    op("rmdir rmtree", os.rmdir, "rmtree")

    for name in sorted(os.listdir("big"))[::2]:
        os.unlink("big/" + name)
    compare_names("big after unlinking half", os.listdir("big"),
                  set(sorted(expected)[1::2]))
    op("listdir missing", os.listdir, "missing")
    op("listdir f", os.listdir, "f")
    os.mkdir("noperm", 0)
    op("listdir noperm (mode 0, root reads anyway)",
       lambda: len(os.listdir("noperm")))
    op("listdir .", lambda: sorted(os.listdir(".")))


# ---------------------------------------------------------------- names


def same_inode(a, c):
    return os.stat(a, follow_symlinks=False).st_ino == \
        os.stat(c, follow_symlinks=False).st_ino


def g_names():
    write_file("a", b"content a")
    write_file("c", b"content c")
    op("rename a b", os.rename, "a", "b")
    note("a exists", os.path.lexists("a"))
    op("read b", read_file, "b")
    fd = os.open("b", os.O_RDONLY)
    op("rename b c (over existing)", os.rename, "b", "c")
    op("read c", read_file, "c")
    op("pread via fd opened before rename", os.pread, fd, 20, 0)
    os.close(fd)
    op("rename c c (same name)", os.rename, "c", "c")
    op("rename missing x", os.rename, "missing", "x")
    op("rename c missing/x", os.rename, "c", "missing/x")
    op("rename c c/x", os.rename, "c", "c/x")

    os.makedirs("d1/sub")
    write_file("d1/sub/f", b"deep")
    os.mkdir("empty")
    os.mkdir("full")
    write_file("full/x", b"x")
    op("rename d1 empty (dir over empty dir)", os.rename, "d1", "empty")
    op("read empty/sub/f", read_file, "empty/sub/f")
    op("rename empty full (dir over non-empty dir)", os.rename,
       "empty", "full")
    op("rename c full (file over dir)", os.rename, "c", "full")
    op("rename full c (dir over file)", os.rename, "full", "c")
    op("rename empty empty/sub/into (into own subdir)", os.rename,
       "empty", "empty/sub/into")
    op("rename empty/sub empty (over own parent)", os.rename,
       "empty/sub", "empty")
    op("rename . x", os.rename, ".", "x")
    op("rename empty/sub/f top", os.rename, "empty/sub/f", "top")
    op("listdir empty/sub", os.listdir, "empty/sub")

    write_file("n1", b"one")
    write_file("n2", b"two")
    op("renameat2 n1 n2 NOREPLACE", renameat2, "n1", "n2", RENAME_NOREPLACE)
    op("renameat2 n1 n3 NOREPLACE", renameat2, "n1", "n3", RENAME_NOREPLACE)
    op("read n3", read_file, "n3")
    op("renameat2 n3 n2 EXCHANGE", renameat2, "n3", "n2", RENAME_EXCHANGE)
    op("read n2", read_file, "n2")
    op("read n3", read_file, "n3")
    op("renameat2 n2 full EXCHANGE (file and dir)", renameat2, "n2", "full",
       RENAME_EXCHANGE)
    show("n2")
    show("full")
    op("read full", read_file, "full")
    op("listdir n2", lambda: sorted(os.listdir("n2")))
    op("renameat2 n3 nothere EXCHANGE", renameat2, "n3", "nothere",
       RENAME_EXCHANGE)
    op("renameat2 n3 n2 NOREPLACE|EXCHANGE", renameat2, "n3", "n2",
       RENAME_NOREPLACE | RENAME_EXCHANGE)

    write_file("l", b"linked")
    op("link l l2", os.link, "l", "l2")
    show("l")
    show("l2")
    note("l and l2 same inode", same_inode("l", "l2"))
    op("link l l3", os.link, "l", "l3")
    show("l")
    with open("l2", "r+b") as f:
        f.write(b"LINKED")
    op("read l (written via l2)", read_file, "l")
    op("link l l2 (exists)", os.link, "l", "l2")
    op("link missing x", os.link, "missing", "x")
    op("link n2 linkdir (a directory)", os.link, "n2", "linkdir")
    op("unlink l", os.unlink, "l")
    show("l2")
    op("rename l2 l3 (two names of one inode)", os.rename, "l2", "l3")
    note("l2 exists", os.path.lexists("l2"))
    show("l3")
    os.symlink("l3", "sl")
    op("link sl hsl (symlink itself)", os.link, "sl", "hsl",
       follow_symlinks=False)
    show("hsl")
    op("readlink hsl", os.readlink, "hsl")
    op("link sl hsl2 (follow)", os.link, "sl", "hsl2", follow_symlinks=True)
    show("hsl2")
    show("l3")

    op("unlink n2 (dir)", os.unlink, "n2")
    op("unlink missing", os.unlink, "missing")
    op("unlink l3/x", os.unlink, "l3/x")
    op("unlink .", os.unlink, ".")
    op("rmdir l3 (file)", os.rmdir, "l3")

    op("symlink target s1", os.symlink, "target", "s1")
    show("s1")
    op("readlink s1", os.readlink, "s1")
    op("symlink other s1 (exists)", os.symlink, "other", "s1")
    long_target = "/".join(["long%03d" % i for i in range(400)])
    op("symlink <long target> s2", os.symlink, long_target, "s2")
    op("readlink s2 == target", lambda: os.readlink("s2") == long_target)
    show("s2")
    op("symlink ../../escape/up s3", os.symlink, "../../escape/up", "s3")
    op("readlink s3", os.readlink, "s3")
    op("symlink 'with space\\nnewline' s4", os.symlink, "with space\nnewline",
       "s4")
    op("readlink s4", os.readlink, "s4")
    op("symlink empty target", os.symlink, "", "s5")
    op("readlink l3 (not a symlink)", os.readlink, "l3")
    op("readlink missing", os.readlink, "missing")
    os.symlink("loop2", "loop1")
    os.symlink("loop1", "loop2")
    op("stat loop1", os.stat, "loop1")
    os.symlink("l3", "tol3")
    show("tol3", follow=True)
    os.mkdir("real")
    write_file("real/inside", b"in")
    os.symlink("real", "todir")
    op("read todir/inside", read_file, "todir/inside")
    op("rename tol3 real/moved (symlink renamed)", os.rename, "tol3",
       "real/moved")
    op("readlink real/moved", os.readlink, "real/moved")
    op("rmdir todir (symlink to dir)", os.rmdir, "todir")
    op("unlink todir", os.unlink, "todir")
    note("real exists", os.path.isdir("real"))
    op("listdir .", lambda: sorted(os.listdir(".")))


# ---------------------------------------------------------------- xattr


def lgetxattr_size(path, name):
    return check(libc.lgetxattr(b(path), b(name), None, 0))


def lgetxattr_small(path, name, n):
    buf = ctypes.create_string_buffer(n)
    return check(libc.lgetxattr(b(path), b(name), buf, n))


def llistxattr_small(path, n):
    buf = ctypes.create_string_buffer(max(n, 1))
    return check(libc.llistxattr(b(path), buf, n))


def list_x(path, follow=True):
    return sorted(os.listxattr(path, follow_symlinks=follow))


def g_xattr():
    write_file("f", b"x")
    os.mkdir("d")
    os.symlink("f", "ln")
    os.mkfifo("fifo")
    op("listxattr f (fresh)", list_x, "f")
    op("setxattr f user.a=1", os.setxattr, "f", "user.a", b"1")
    op("getxattr f user.a", os.getxattr, "f", "user.a")
    op("setxattr f user.empty=''", os.setxattr, "f", "user.empty", b"")
    op("getxattr f user.empty", os.getxattr, "f", "user.empty")
    binv = bytes(range(256)) * 4
    op("setxattr f user.bin=<1024 binary bytes>", os.setxattr, "f",
       "user.bin", binv)
    op("getxattr f user.bin", os.getxattr, "f", "user.bin")
    op("listxattr f", list_x, "f")
    op("getxattr size query f user.bin", lgetxattr_size, "f", "user.bin")
    op("getxattr f user.bin into 10 bytes", lgetxattr_small, "f",
       "user.bin", 10)
    op("listxattr size query f", llistxattr_small, "f", 0)
    op("listxattr f into 3 bytes", llistxattr_small, "f", 3)
    op("getxattr f user.missing", os.getxattr, "f", "user.missing")
    op("setxattr f user.a CREATE (exists)", os.setxattr, "f", "user.a",
       b"2", XATTR_CREATE)
    op("setxattr f user.new REPLACE (missing)", os.setxattr, "f",
       "user.new", b"2", XATTR_REPLACE)
    op("setxattr f user.a REPLACE", os.setxattr, "f", "user.a", b"22",
       XATTR_REPLACE)
    op("setxattr f user.new CREATE", os.setxattr, "f", "user.new", b"n",
       XATTR_CREATE)
    op("getxattr f user.a", os.getxattr, "f", "user.a")
    op("removexattr f user.new", os.removexattr, "f", "user.new")
    op("removexattr f user.new again", os.removexattr, "f", "user.new")
    op("listxattr f", list_x, "f")
    op("setxattr f bogus.ns", os.setxattr, "f", "bogus.ns", b"1")
    op("setxattr f user.<256 bytes name>", os.setxattr, "f",
       "user." + "n" * 251, b"1")
    op("setxattr f user.big=<70000 bytes>", os.setxattr, "f", "user.big",
       bytes(70000))
    op("setxattr f trusted.t (root)", os.setxattr, "f", "trusted.t", b"tv")
    op("getxattr f trusted.t", os.getxattr, "f", "trusted.t")
    op("setxattr ln (follows) user.vialink", os.setxattr, "ln",
       "user.vialink", b"v")
    op("getxattr f user.vialink", os.getxattr, "f", "user.vialink")
    op("lsetxattr ln user.l (symlink itself)", os.setxattr, "ln", "user.l",
       b"l", follow_symlinks=False)
    op("llistxattr ln", list_x, "ln", False)
    op("setxattr d user.dir", os.setxattr, "d", "user.dir", b"dv")
    op("getxattr d user.dir", os.getxattr, "d", "user.dir")
    op("listxattr d", list_x, "d")
    op("setxattr fifo user.p", os.setxattr, "fifo", "user.p", b"p")
    op("setxattr missing user.a", os.setxattr, "missing", "user.a", b"1")
    op("getxattr missing user.a", os.getxattr, "missing", "user.a")
    op("listxattr missing", os.listxattr, "missing")
    op("removexattr missing user.a", os.removexattr, "missing", "user.a")
    fd = os.open("f", os.O_RDONLY)
    op("fsetxattr f user.fd", os.setxattr, fd, "user.fd", b"viafd")
    op("fgetxattr f user.fd", os.getxattr, fd, "user.fd")
    op("flistxattr f", lambda: sorted(os.listxattr(fd)))
    op("fremovexattr f user.fd", os.removexattr, fd, "user.fd")
    os.close(fd)
    op("setxattr d user.k00..user.k19", lambda: [
        os.setxattr("d", "user.k%02d" % i, b"v%d" % i) for i in range(20)]
       and None)
    op("listxattr d (21 names)", list_x, "d")
    op("getxattr d user.k13", os.getxattr, "d", "user.k13")
    os.link("f", "f2")
    op("getxattr f2 user.a (hard link)", os.getxattr, "f2", "user.a")
    os.rename("f", "g")
    op("getxattr g user.a (after rename)", os.getxattr, "g", "user.a")
    with open("g", "r+b") as fh:
        fh.write(b"rewritten")
    op("getxattr g user.a (after write)", os.getxattr, "g", "user.a")
    op("listxattr g", list_x, "g")


# ---------------------------------------------------------------- alloc


def seek(fd, off, whence):
    return os.lseek(fd, off, whence)


def g_alloc():
    fd = os.open("pa", os.O_CREAT | os.O_RDWR, 0o644)
    op("posix_fallocate pa 0 1MiB", os.posix_fallocate, fd, 0, MIB)
    fshow("pa", fd)
    note("pa blocks cover 1MiB", os.fstat(fd).st_blocks * 512 >= MIB)
    op("pread pa 16 at 4096", os.pread, fd, 16, 4096)
    op("posix_fallocate pa 512KiB 1MiB (extends)", os.posix_fallocate, fd,
       512 * 1024, MIB)
    fshow("pa", fd)
    op("posix_fallocate pa len 0", os.posix_fallocate, fd, 0, 0)
    os.close(fd)
    fd = os.open("pa", os.O_RDONLY)
    op("posix_fallocate read-only fd", os.posix_fallocate, fd, 0, 4096)
    os.close(fd)

    fd = os.open("k", os.O_CREAT | os.O_RDWR, 0o644)
    os.write(fd, pattern(4096))
    b0 = os.fstat(fd).st_blocks
    op("fallocate k KEEP_SIZE 4096+1MiB", fallocate, fd, FALLOC_FL_KEEP_SIZE,
       4096, MIB)
    fshow("k", fd)
    note("k blocks grew past size", os.fstat(fd).st_blocks > b0)
    op("fallocate k mode 0 0 8192 (extends)", fallocate, fd, 0, 0, 8192)
    fshow("k", fd)
    os.close(fd)

    fd = os.open("h", os.O_CREAT | os.O_RDWR, 0o644)
    os.write(fd, pattern(MIB, 1))
    os.fsync(fd)
    b0 = os.fstat(fd).st_blocks
    op("fallocate h PUNCH_HOLE|KEEP_SIZE 64KiB 128KiB", fallocate, fd,
       FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 64 * 1024, 128 * 1024)
    fshow("h", fd)
    note("h blocks shrank", os.fstat(fd).st_blocks < b0)
    data = os.pread(fd, MIB, 0)
    note("h hole reads zeros", data[64 * 1024:192 * 1024] ==
         bytes(128 * 1024))
    note("h data around hole intact",
         data[:64 * 1024] == pattern(MIB, 1)[:64 * 1024] and
         data[192 * 1024:] == pattern(MIB, 1)[192 * 1024:])
    op("fallocate h PUNCH_HOLE without KEEP_SIZE", fallocate, fd,
       FALLOC_FL_PUNCH_HOLE, 0, 4096)
    op("fallocate h PUNCH_HOLE|KEEP_SIZE unaligned 100 50", fallocate, fd,
       FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 50)
    op("pread h 8 at 96", os.pread, fd, 8, 96)
    op("pread h 8 at 146", os.pread, fd, 8, 146)
    op("fallocate h negative length", fallocate, fd, 0, 0, -1)
    op("seek h DATA 0", seek, fd, 0, os.SEEK_DATA)
    op("seek h HOLE 0", seek, fd, 0, os.SEEK_HOLE)
    op("seek h DATA 64KiB", seek, fd, 64 * 1024, os.SEEK_DATA)
    os.close(fd)

    fd = os.open("s", os.O_CREAT | os.O_RDWR, 0o644)
    os.pwrite(fd, pattern(4096, 2), 0)
    os.pwrite(fd, pattern(4096, 3), MIB)
    os.ftruncate(fd, 3 * MIB)
    os.fsync(fd)
    fshow("s", fd)
    op("seek s DATA 0", seek, fd, 0, os.SEEK_DATA)
    op("seek s HOLE 0", seek, fd, 0, os.SEEK_HOLE)
    op("seek s DATA 4096", seek, fd, 4096, os.SEEK_DATA)
    op("seek s HOLE 1MiB", seek, fd, MIB, os.SEEK_HOLE)
    op("seek s DATA 1MiB+4096 (only hole left)", seek, fd, MIB + 4096,
       os.SEEK_DATA)
    op("seek s HOLE 2MiB", seek, fd, 2 * MIB, os.SEEK_HOLE)
    op("seek s DATA past EOF", seek, fd, 4 * MIB, os.SEEK_DATA)
    op("seek s HOLE past EOF", seek, fd, 4 * MIB, os.SEEK_HOLE)
    op("seek s HOLE at EOF", seek, fd, 3 * MIB, os.SEEK_HOLE)
    op("lseek s -1 DATA", seek, fd, -1, os.SEEK_DATA)
    note("s blocks small", os.fstat(fd).st_blocks * 512 < 512 * 1024)
    os.close(fd)

    src = pattern(300 * 1024, 5)
    write_file("src", src)
    write_file("dst", b"D" * 100)
    fi = os.open("src", os.O_RDONLY)
    fo = os.open("dst", os.O_WRONLY)
    total = 0
    first = None
    while total < 200 * 1024:
        n = os.copy_file_range(fi, fo, 200 * 1024 - total, 10 + total,
                               5 + total)
        if first is None:
            first = n
        if n == 0:
            break
        total += n
    note("copy_file_range src+10 -> dst+5 first call positive", first > 0)
    note("copy_file_range total", total)
    op("copy_file_range past src EOF", os.copy_file_range, fi, fo, 1000,
       len(src) + 10, 0)
    op("copy_file_range len 0", os.copy_file_range, fi, fo, 0, 0, 0)
    os.close(fo)
    fo = os.open("dst", os.O_RDONLY)
    op("copy_file_range into read-only fd", os.copy_file_range, fi, fo, 10,
       0, 0)
    os.close(fo)
    fo = os.open("src", os.O_RDWR)
    op("copy_file_range src overlapping itself", os.copy_file_range, fi, fo,
       4096, 0, 100)
    os.close(fo)
    os.close(fi)
    show("dst")
    data = read_file("dst")
    note("dst content as expected",
         data == b"D" * 5 + src[10:10 + total])
    fi = os.open("src", os.O_RDONLY)
    fo = os.open("dst2", os.O_CREAT | os.O_WRONLY, 0o644)
    os.lseek(fi, 100, os.SEEK_SET)
    op("copy_file_range using file offsets", os.copy_file_range, fi, fo,
       1000)
    note("src offset after", os.lseek(fi, 0, os.SEEK_CUR))
    note("dst2 offset after", os.lseek(fo, 0, os.SEEK_CUR))
    os.close(fo)
    os.close(fi)
    note("dst2 content", read_file("dst2") == src[100:1100])

    big = 4 * GIB + GIB // 2
    fd = os.open("big", os.O_CREAT | os.O_RDWR, 0o644)
    op("pwrite big 'beyond' at 4.5GiB", os.pwrite, fd, b"beyond", big)
    op("pwrite big straddling 4GiB", os.pwrite, fd, pattern(8192, 9),
       4 * GIB - 4096)
    fshow("big", fd)
    op("pread big at 4.5GiB", os.pread, fd, 6, big)
    op("pread big straddling 4GiB", os.pread, fd, 8192, 4 * GIB - 4096)
    op("pread big hole at 4GiB+1MiB", os.pread, fd, 4096, 4 * GIB + MIB)
    op("pread big at 0", os.pread, fd, 16, 0)
    note("big blocks small", os.fstat(fd).st_blocks * 512 < 4 * MIB)
    op("seek big DATA 0", seek, fd, 0, os.SEEK_DATA)
    op("seek big HOLE 4GiB-4096", seek, fd, 4 * GIB - 4096, os.SEEK_HOLE)
    op("seek big DATA 4GiB+8192", seek, fd, 4 * GIB + 8192, os.SEEK_DATA)
    op("lseek big END", os.lseek, fd, 0, os.SEEK_END)
    op("ftruncate big 5GiB", os.ftruncate, fd, 5 * GIB)
    fshow("big", fd)
    op("ftruncate big 4GiB+1", os.ftruncate, fd, 4 * GIB + 1)
    op("pread big last bytes", os.pread, fd, 10, 4 * GIB - 9)
    os.close(fd)
    fd = os.open("big", os.O_WRONLY | os.O_APPEND)
    op("append to big", os.write, fd, b"tail")
    os.close(fd)
    show("big")
    op("truncate big 2**63-1 (too big)", os.truncate, "big", (1 << 63) - 1)


# ---------------------------------------------------------------- lock


def flock_struct(ltype, start, length, pid=0):
    return struct.pack("hhqqi4x", ltype, os.SEEK_SET, start, length, pid)


def getlk(fd, ltype, start, length, cmd=fcntl.F_GETLK):
    res = fcntl.fcntl(fd, cmd, flock_struct(ltype, start, length))
    rtype, _, rstart, rlen, rpid = struct.unpack("hhqqi4x", res)
    if rtype == fcntl.F_UNLCK:
        return "UN"
    names = {fcntl.F_RDLCK: "RD", fcntl.F_WRLCK: "WR"}
    return "%s %d+%d" % (names.get(rtype, rtype), rstart, rlen)


def getlk_pid(fd, ltype, start, length):
    res = fcntl.fcntl(fd, fcntl.F_GETLK, flock_struct(ltype, start, length))
    return struct.unpack("hhqqi4x", res)[4]


def setlk(fd, ltype, start, length, cmd=fcntl.F_SETLK):
    fcntl.fcntl(fd, cmd, flock_struct(ltype, start, length))


def lock_child(wpipe, gopipe, ppid):
    """Runs in the forked child: its lines go to the parent through wpipe."""
    global out
    lines = []

    def child_out(line):
        lines.append("child: " + line)

    out = child_out
    fd = os.open("lk", os.O_RDWR)
    op("F_SETLK WR 50+100 (parent holds WR 0+100)", setlk, fd,
       fcntl.F_WRLCK, 50, 100)
    op("F_SETLK RD 0+10", setlk, fd, fcntl.F_RDLCK, 0, 10)
    op("F_SETLK WR 100+100 (free range)", setlk, fd, fcntl.F_WRLCK, 100, 100)
    op("F_GETLK WR 0+10", getlk, fd, fcntl.F_WRLCK, 0, 10)
    op("F_GETLK WR 0+10: pid is the parent's",
       lambda: getlk_pid(fd, fcntl.F_WRLCK, 0, 10) == ppid)
    op("F_GETLK WR 300+10 (free)", getlk, fd, fcntl.F_WRLCK, 300, 10)
    op("F_GETLK RD 1000+10 (parent holds RD)", getlk, fd, fcntl.F_RDLCK,
       1000, 10)
    op("F_GETLK WR 1000+10 (parent holds RD)", getlk, fd, fcntl.F_WRLCK,
       1000, 10)
    op("F_SETLK RD 1000+10 (shares parent's RD)", setlk, fd, fcntl.F_RDLCK,
       1000, 10)
    fd2 = os.open("lk", os.O_RDWR)
    op("flock EX|NB (parent holds EX on its own open)", fcntl.flock, fd2,
       fcntl.LOCK_EX | fcntl.LOCK_NB)
    op("flock SH|NB", fcntl.flock, fd2, fcntl.LOCK_SH | fcntl.LOCK_NB)
    os.close(fd2)
    os.write(wpipe, ("\n".join(lines) + "\n").encode())
    lines.clear()
    os.read(gopipe, 1)
    op("F_SETLK WR 0+100 (after parent closed another fd)", setlk, fd,
       fcntl.F_WRLCK, 0, 100)
    fd2 = os.open("lk", os.O_RDWR)
    op("flock EX|NB (parent released)", fcntl.flock, fd2,
       fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(fd2)
    os.close(fd)
    os.write(wpipe, ("\n".join(lines) + "\n").encode())


def read_child(rfd):
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(rfd, 65536)
        if not chunk:
            break
        data += chunk
    for line in data.decode().splitlines():
        if line:
            out(line)


def g_lock():
    write_file("lk", bytes(4096))
    fd1 = os.open("lk", os.O_RDWR)
    fd2 = os.open("lk", os.O_RDWR)
    op("flock fd1 EX", fcntl.flock, fd1, fcntl.LOCK_EX)
    op("flock fd2 EX|NB (other open file)", fcntl.flock, fd2,
       fcntl.LOCK_EX | fcntl.LOCK_NB)
    op("flock fd2 SH|NB", fcntl.flock, fd2, fcntl.LOCK_SH | fcntl.LOCK_NB)
    dup = os.dup(fd1)
    op("flock dup of fd1 EX|NB (same open file)", fcntl.flock, dup,
       fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(dup)
    op("flock fd1 UN", fcntl.flock, fd1, fcntl.LOCK_UN)
    op("flock fd2 SH|NB", fcntl.flock, fd2, fcntl.LOCK_SH | fcntl.LOCK_NB)
    op("flock fd1 SH|NB", fcntl.flock, fd1, fcntl.LOCK_SH | fcntl.LOCK_NB)
    op("flock fd1 EX|NB (upgrade, fd2 holds SH)", fcntl.flock, fd1,
       fcntl.LOCK_EX | fcntl.LOCK_NB)
    op("flock fd2 UN", fcntl.flock, fd2, fcntl.LOCK_UN)
    op("flock fd1 EX|NB (upgrade)", fcntl.flock, fd1,
       fcntl.LOCK_EX | fcntl.LOCK_NB)

    fda = os.open("lk", os.O_RDWR)
    fdb = os.open("lk", os.O_RDWR)
    op("F_OFD_SETLK fda WR 2000+10", setlk, fda, fcntl.F_WRLCK, 2000, 10,
       F_OFD_SETLK)
    op("F_OFD_SETLK fdb WR 2005+10 (other open file)", setlk, fdb,
       fcntl.F_WRLCK, 2005, 10, F_OFD_SETLK)
    op("F_OFD_GETLK fdb WR 2000+1", getlk, fdb, fcntl.F_WRLCK, 2000, 1,
       F_OFD_GETLK)
    op("F_OFD_SETLK fda UN", setlk, fda, fcntl.F_UNLCK, 2000, 10,
       F_OFD_SETLK)
    op("F_OFD_SETLK fdb WR 2005+10", setlk, fdb, fcntl.F_WRLCK, 2005, 10,
       F_OFD_SETLK)
    os.close(fda)
    os.close(fdb)
    op("F_SETLK bad type", setlk, fd1, 99, 0, 1)
    fdr = os.open("lk", os.O_RDONLY)
    op("F_SETLK WR on read-only fd", setlk, fdr, fcntl.F_WRLCK, 0, 1)
    op("F_SETLK RD on read-only fd", setlk, fdr, fcntl.F_RDLCK, 0, 1)
    os.close(fdr)

    # Closing any fd of a file drops this process's POSIX locks: lock now.
    op("F_SETLK fd2 WR 0+100 (flock on fd1 is independent)", setlk, fd2,
       fcntl.F_WRLCK, 0, 100)
    op("F_SETLK fd2 RD 1000+10", setlk, fd2, fcntl.F_RDLCK, 1000, 10)
    op("F_GETLK fd1 WR 0+10 (own locks never conflict)", getlk, fd1,
       fcntl.F_WRLCK, 0, 10)

    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(r1)
            os.close(w2)
            lock_child(w1, r2, os.getppid())
        except BaseException:
            code = 1
        os._exit(code)
    os.close(w1)
    os.close(r2)
    read_child(r1)
    other = os.open("lk", os.O_RDONLY)
    op("close another fd of lk (drops this process's POSIX locks)",
       os.close, other)
    op("flock fd1 UN", fcntl.flock, fd1, fcntl.LOCK_UN)
    os.write(w2, b"g")
    read_child(r1)
    _, status = os.waitpid(pid, 0)
    note("child exit status", os.waitstatus_to_exitcode(status))
    op("F_GETLK fd1 WR 0+10 (child exited)", getlk, fd1, fcntl.F_WRLCK, 0,
       10)
    os.close(r1)
    os.close(w2)
    os.close(fd1)
    os.close(fd2)


# ---------------------------------------------------------------- mmap


def g_mmap():
    size = 3 * 4096 + 100
    orig = pattern(size, 4)
    write_file("m", orig)
    fd = os.open("m", os.O_RDWR)
    mm = mmap.mmap(fd, size, mmap.MAP_SHARED,
                   mmap.PROT_READ | mmap.PROT_WRITE)
    op("map m: first bytes", lambda: mm[:8])
    mm[100:103] = b"XYZ"
    mm[5000:5004] = b"ABCD"
    mm[size - 2:size] = b"!!"
    op("msync m", mm.flush)
    op("pread m 3 at 100 (map wrote)", os.pread, fd, 3, 100)
    op("pwrite m 'fromwrite' at 8000", os.pwrite, fd, b"fromwrite", 8000)
    op("map m sees write()", lambda: mm[8000:8009])
    op("munmap m", mm.close)
    os.close(fd)
    exp = bytearray(orig)
    exp[100:103] = b"XYZ"
    exp[5000:5004] = b"ABCD"
    exp[size - 2:size] = b"!!"
    exp[8000:8009] = b"fromwrite"
    data = read_file("m")
    note("m content after munmap as expected", data == bytes(exp))
    show("m")

    fd = os.open("m", os.O_RDWR)
    mm = mmap.mmap(fd, 4096, mmap.MAP_SHARED,
                   mmap.PROT_READ | mmap.PROT_WRITE)
    mm[0:4] = b"sync"
    op("fsync m with dirty map", os.fsync, fd)
    mm.close()
    os.close(fd)
    op("read m 4", lambda: read_file("m")[:4])

    fd = os.open("m", os.O_RDWR)
    mm = mmap.mmap(fd, 4096, mmap.MAP_PRIVATE,
                   mmap.PROT_READ | mmap.PROT_WRITE)
    mm[0:4] = b"priv"
    op("private map sees own write", lambda: mm[:4])
    mm.close()
    os.close(fd)
    op("read m 4 (private write not in file)", lambda: read_file("m")[:4])

    fd = os.open("m", os.O_RDONLY)
    op("map SHARED RW on read-only fd", lambda: mmap.mmap(
        fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE))
    mm = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ)
    op("map SHARED RO: bytes 100..103", lambda: mm[100:103])
    mm.close()
    op("map PRIVATE RW on read-only fd", lambda: mmap.mmap(
        fd, 4096, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_WRITE).close())
    os.close(fd)

    write_file("g", b"")
    fd = os.open("g", os.O_RDWR)
    op("ftruncate g 64KiB", os.ftruncate, fd, 64 * 1024)
    mm = mmap.mmap(fd, 64 * 1024, mmap.MAP_SHARED,
                   mmap.PROT_READ | mmap.PROT_WRITE)
    for i in range(16):
        mm[i * 4096:i * 4096 + 8] = b"page%04d" % i
    op("ftruncate g 128KiB while mapped", os.ftruncate, fd, 128 * 1024)
    mm.resize(128 * 1024)
    mm[100 * 1024:100 * 1024 + 4] = b"grow"
    op("msync g", mm.flush)
    mm.close()
    os.close(fd)
    data = read_file("g")
    note("g size", len(data))
    note("g pages as written", all(
        data[i * 4096:i * 4096 + 8] == b"page%04d" % i for i in range(16)))
    op("g bytes at 100KiB", lambda: data[100 * 1024:100 * 1024 + 4])

    fd = os.open("big", os.O_CREAT | os.O_RDWR, 0o644)
    os.ftruncate(fd, 8 * MIB)
    mm = mmap.mmap(fd, 8 * MIB, mmap.MAP_SHARED,
                   mmap.PROT_READ | mmap.PROT_WRITE)
    blob = pattern(8 * MIB, 6)
    mm[:] = blob
    op("msync big 8MiB", mm.flush)
    mm.close()
    os.close(fd)
    op("read big 8MiB", read_file, "big")
    note("big equals what was mapped", read_file("big") == blob)

    # A map made before another open writes may keep the old content on
    # hydrafs (the write commits a new version, the map holds the old one);
    # a map made after the writer's close sees the new bytes on both.
    with open("m", "r+b") as fh:
        fh.seek(200)
        fh.write(b"late")
    fd = os.open("m", os.O_RDONLY)
    mm = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ)
    op("map made after a write() by another open sees it",
       lambda: mm[200:204])
    mm.close()
    os.close(fd)


# ---------------------------------------------------------------- tree


def xattrs_of(path):
    try:
        # hydrafs's own (the commit's record) are not the program's: in the
        # backing dir they are expected, and the mount does not list them.
        names = sorted(n for n in os.listxattr(path, follow_symlinks=False)
                       if not n.startswith("user.hydrafs."))
    except OSError as e:
        return "ERR " + ename(e.errno)
    vals = []
    for n in names:
        try:
            vals.append("%s=%s" % (n, fmt(os.getxattr(
                path, n, follow_symlinks=False))))
        except OSError as e:
            vals.append("%s=ERR %s" % (n, ename(e.errno)))
    return "{" + ", ".join(vals) + "}"


def data_windows(fd, size, win):
    """Indexes of the win-sized windows that hold data (all when unsure)."""
    wins = set()
    off = 0
    try:
        while off < size:
            start = os.lseek(fd, off, os.SEEK_DATA)
            end = os.lseek(fd, start, os.SEEK_HOLE)
            wins.update(range(start // win, (end - 1) // win + 1))
            off = end
    except OSError as e:
        if e.errno != errno.ENXIO:
            return range((size + win - 1) // win)
    return sorted(wins)


def content_hash(path):
    """Hash of the content that ignores how it is stored: all-zero windows
    and holes hash alike, so a sparse 5 GiB file hashes in no time."""
    win = 1 << 20
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        for w in data_windows(fd, size, win):
            chunk = os.pread(fd, win, w * win)
            if chunk.count(0) != len(chunk):
                h.update(b"%d:" % w)
                h.update(chunk)
    finally:
        os.close(fd)
    return h.hexdigest()[:20]


def tree(top):
    inodes = {}
    entries = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(dirs + files):
            entries.append(os.path.join(root, name))
    for path in sorted(entries):
        rel = os.path.relpath(path, top)
        st = os.lstat(path)
        line = "%s: %s" % (rel, stat_str(st))
        if stat.S_ISLNK(st.st_mode):
            line += " -> %r" % os.readlink(path)
        elif stat.S_ISREG(st.st_mode):
            line += " content:%s" % content_hash(path)
        if not stat.S_ISLNK(st.st_mode):
            line += " xattrs=" + xattrs_of(path)
        out(line)
        if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
            inodes.setdefault(st.st_ino, []).append(rel)
    for names in sorted(sorted(v) for v in inodes.values()):
        out("hard links: " + " = ".join(names))
    out("entries: %d" % len(entries))


GROUPS = {
    "attr": g_attr,
    "open": g_open,
    "dir": g_dir,
    "names": g_names,
    "xattr": g_xattr,
    "alloc": g_alloc,
    "lock": g_lock,
    "mmap": g_mmap,
}


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        print(" ".join(GROUPS))
        return 0
    if len(argv) != 3 or (argv[1] not in GROUPS and argv[1] != "tree"):
        sys.stderr.write("usage: opcheck.py {%s|tree} DIR\n" %
                         "|".join(GROUPS))
        return 2
    group, top = argv[1], argv[2]
    if group == "tree":
        tree(top)
        return 0
    work = os.path.join(top, group)
    os.mkdir(work)
    os.chdir(work)
    os.umask(0o022)
    out("# group %s (uid %d)" % (group, os.geteuid()))
    try:
        GROUPS[group]()
    except Exception as e:
        # A setup step failed: say where, and leave out the end marker.
        num = getattr(e, "errno", None)
        out("# exception %s%s" % (type(e).__name__,
                                  " " + ename(num) if num else ""))
        sys.stdout.flush()
        raise
    out("# end %s" % group)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
