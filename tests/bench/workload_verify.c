/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Workloads on files at rest: `hydractl verify` (the scrub) over many small
 * files and over one big file, and open() + close() of a large unchanged
 * file (which an identity check must not turn into a read).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workload.h"

#define SMALL_PER_DIR 100
#define SMALL_MIN 1024
#define SMALL_MAX 4096
#define VERIFY_BIG "big.bin"
#define LARGE "large.jsonl"
#define LARGE_OPENS 200

enum small_kind { SMALL_JSONL, SMALL_CSV, SMALL_TXT, N_SMALL_KINDS };

static const char *const small_ext[] = { "jsonl", "csv", "txt" };

static long small_count(void)
{
	return scaled(10000);
}

/* One line of a file of @kind; its length. */
static int small_line(char *buf, size_t len, enum small_kind kind, long file,
		      long row)
{
	switch (kind) {
	case SMALL_JSONL:
		return snprintf(buf, len,
				"{\"file\":%ld,\"row\":%ld,\"user\":\"user %ld\","
				"\"ok\":%s,\"score\":%ld.5,\"tags\":[\"a\",\"b\"]}\n",
				file, row, (long)(rng_next() % 1000),
				row % 2 ? "true" : "false",
				(long)(rng_next() % 10000));
	case SMALL_CSV:
		return snprintf(buf, len, "%ld,%ld,\"Smith, Jane %ld\",Paris,%ld.25\n",
				file, row, (long)(rng_next() % 1000),
				(long)(rng_next() % 10000));
	default:
		return snprintf(buf, len, "file %ld row %ld: the quick brown "
				"fox jumps over the lazy dog %ld\n", file, row,
				(long)(rng_next() % 1000));
	}
}

/* Valid content of @kind, at most @size bytes, whole lines; its length. */
static size_t small_content(char *buf, size_t size, enum small_kind kind,
			    long file)
{
	static const char header[] = "file,row,name,city,amount\n";
	char line[256];
	size_t off = 0;
	long row = 0;

	if (kind == SMALL_CSV) {
		memcpy(buf, header, sizeof(header) - 1);
		off = sizeof(header) - 1;
	}
	for (;;) {
		int n = small_line(line, sizeof(line), kind, file, row++);

		if (off + (size_t)n > size)
			return off;
		memcpy(buf + off, line, (size_t)n);
		off += (size_t)n;
	}
}

/* dNNN/fNNNNN.{jsonl,csv,txt}, SMALL_PER_DIR files a dir, 1-4 KiB each. */
static void do_verify_small_setup(void)
{
	long n = small_count(), i;
	char buf[SMALL_MAX], path[64];

	for (i = 0; i < n; i++) {
		enum small_kind kind = (enum small_kind)(i % N_SMALL_KINDS);
		size_t size = SMALL_MIN +
			      rng_next() % (SMALL_MAX - SMALL_MIN + 1);
		size_t len = small_content(buf, size, kind, i);
		long dir = i / SMALL_PER_DIR;
		int fd;

		if (i % SMALL_PER_DIR == 0) {
			snprintf(path, sizeof(path), "d%03ld", dir);
			if (mkdir(path, 0755) < 0)
				die("mkdir", path);
		}
		snprintf(path, sizeof(path), "d%03ld/f%05ld.%s", dir, i,
			 small_ext[kind]);
		fd = open_or_die(path, O_WRONLY | O_CREAT | O_EXCL);
		write_all(fd, buf, len, path);
		close_or_die(fd, path);
	}
}

static void do_verify_big_setup(void)
{
	write_file(VERIFY_BIG, scaled(2048), false);
}

/* Runs @argv with stdout into a malloc'd string (NUL-terminated). */
static char *run_capture(char *const argv[], int *status)
{
	size_t len = 0, cap = 4096;
	char *out = alloc_or_die(cap);
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		die("make a pipe for", argv[0]);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork for", argv[0]);
	if (pid == 0) {
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		execv(argv[0], argv);
		fprintf(stderr, "workload: cannot run '%s': %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			out = realloc(out, cap *= 2);
			if (!out)
				die("allocate", "output");
		}
		n = read(fds[0], out + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read the output of", argv[0]);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	close(fds[0]);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			die("wait for", argv[0]);
	return out;
}

/*
 * `hydractl verify --json MOUNT` (BENCH_HYDRACTL, BENCH_MOUNT, else the
 * current dir) after dropping the page cache, timed as a whole (walk and
 * scrub); @files files expected.  Reports the seconds and, as counts, the
 * files (with versions) and bytes hydractl verified.
 */
static void verify_run(const char *name, long files)
{
	const char *ctl = getenv("BENCH_HYDRACTL");
	const char *mnt = getenv("BENCH_MOUNT");
	unsigned long long bytes;
	size_t n_files, n_versions;
	char count[64], *out;
	double t0, secs, own;
	int status;

	if (!ctl || !*ctl) {
		fprintf(stderr, "workload: %s: no BENCH_HYDRACTL (hydrafs only): "
			"skipped\n", name);
		exit(EXIT_SKIP);
	}
	if (!mnt || !*mnt)
		mnt = ".";
	drop_caches(NULL);
	{
		char *argv[] = { (char *)ctl, (char *)"verify",
				 (char *)"--json", (char *)mnt, NULL };

		t0 = now();
		out = run_capture(argv, &status);
		secs = now() - t0;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    sscanf(out, "{\"files\":%zu,\"versions\":%zu,\"bytes\":%llu,"
			"\"seconds\":%lf", &n_files, &n_versions, &bytes,
		   &own) != 4 || n_files != (size_t)files) {
		fprintf(stderr, "workload: %s: hydractl verify %s: status %d, "
			"%ld files expected; its output:\n%s\n", name, mnt,
			status, files, out);
		exit(1);
	}
	report(name, secs);
	snprintf(count, sizeof(count), "%s-files", name);
	report_count(count, (double)(n_files + n_versions));
	snprintf(count, sizeof(count), "%s-bytes", name);
	report_count(count, (double)bytes);
	fprintf(stderr, "%s: %zu files, %zu versions, %.1f MB in %.3f s "
		"(hydractl's own time, without its walk: %.3f s)\n", name,
		n_files, n_versions, (double)bytes / 1e6, secs, own);
	free(out);
}

static void do_verify_small(void)
{
	verify_run("verify-small", small_count());
}

static void do_verify_big(void)
{
	verify_run("verify-big", 1);
}

static long large_mib(void)
{
	return scaled(1024);
}

/* large.jsonl: @mib times the same MiB (nearly) of JSON Lines. */
static void do_open_large_setup(void)
{
	char *buf = alloc_or_die(MIB);
	size_t len = fill_jsonl(buf, MIB);
	int fd = open_or_die(LARGE, O_WRONLY | O_CREAT | O_TRUNC);
	long i;

	for (i = 0; i < large_mib(); i++)
		write_all(fd, buf, len, LARGE);
	close_or_die(fd, LARGE);
	free(buf);
}

static double open_close(void)
{
	double t0 = now();
	int fd = open_or_die(LARGE, O_RDONLY);

	close_or_die(fd, LARGE);
	return now() - t0;
}

/*
 * open() + close() of large.jsonl, written before the remount and not
 * changed since: the first (a fresh daemon's first look at it) alone as
 * open-large-first, then the mean of LARGE_OPENS more.
 */
static void do_open_large(void)
{
	char *buf = alloc_or_die(MIB);
	/* The setup's MiB: the same sequence of random numbers. */
	long long size = (long long)fill_jsonl(buf, MIB) * large_mib();
	double total = 0;
	long i;

	free(buf);
	report("open-large-first", open_close());
	for (i = 0; i < LARGE_OPENS; i++)
		total += open_close();
	report("open-large", total / LARGE_OPENS);
	check_size(LARGE, size);
}

const struct workload verify_workloads[] = {
	{ "verify-small", do_verify_small_setup, do_verify_small },
	{ "verify-big", do_verify_big_setup, do_verify_big },
	{ "open-large", do_open_large_setup, do_open_large },
};

const size_t n_verify_workloads =
	sizeof(verify_workloads) / sizeof(verify_workloads[0]);
