/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Benchmark workload driver: `workload NAME DIR` runs one workload inside DIR
 * (assumed empty) and prints the elapsed seconds of its timed part on stdout.
 * Workloads with several phases print one `name seconds` line per phase.
 * `workload list` prints the workload names, one a line; `workload setups`
 * those with a separate setup, which `workload --setup NAME DIR` runs alone
 * and `workload --timed NAME DIR` then leaves out (run.sh remounts between).
 *
 * Setup (files to read or rewrite) happens before the clock starts; opening and
 * closing the files a workload works on is timed, because a filesystem may do
 * its work (hydrafs commits) on close. Sizes and counts are multiplied by the
 * environment variable BENCH_SCALE (default 1).
 *
 * Built by tests/bench/run.sh:
 * cc -O2 -pthread workload.c workload_logs.c workload_verify.c -lm.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define REWRITE_SIZE 4096
#define SMALL_SIZE 1024
#define SMALL_FANOUT 10
#define COMMIT_PIECE (64 * 1024)

static double scale = 1.0;

void die(const char *what, const char *path)
{
	fprintf(stderr, "workload: cannot %s '%s': %s\n", what, path,
		strerror(errno));
	exit(1);
}

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

long scaled(long n)
{
	return scaled_min(n, 1);
}

long scaled_min(long n, long min)
{
	long v = lround((double)n * scale);

	return v < min ? min : v;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64: a fixed sequence, so every target gets the same offsets. */
uint64_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

void fill_random(char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t v = rng_next();

		memcpy(buf + i, &v, 8);
	}
	for (; i < len; i++)
		buf[i] = (char)rng_next();
}

/*
 * Fills @buf with text lines of LINE_LEN bytes (the last one may be shorter
 * but still ends in '\n'), each starting with @tag and its line number, so
 * that every call with another @tag gives other content.
 */
void fill_text(char *buf, size_t len, long tag)
{
	static const char words[] = "the quick brown fox jumps over a dog ";
	size_t off = 0;
	long line = 0;

	while (off < len) {
		size_t end = off + LINE_LEN < len ? off + LINE_LEN : len;
		char head[32];
		size_t i, h;

		h = (size_t)snprintf(head, sizeof(head), "%08ld %06ld ", tag,
				     line++);
		for (i = 0; off + i + 1 < end; i++) {
			if (i < h)
				buf[off + i] = head[i];
			else
				buf[off + i] = words[i % (sizeof(words) - 1)];
		}
		buf[end - 1] = '\n';
		off = end;
	}
}

void write_all(int fd, const char *buf, size_t len, const char *path)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write", path);
		}
		buf += n;
		len -= (size_t)n;
	}
}

int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd < 0)
		die("open", path);
	return fd;
}

void fsync_or_die(int fd, const char *path)
{
	if (fsync(fd) < 0)
		die("fsync", path);
}

void close_or_die(int fd, const char *path)
{
	if (close(fd) < 0)
		die("close", path);
}

char *alloc_or_die(size_t len)
{
	char *p = malloc(len);

	if (!p) {
		fprintf(stderr, "workload: out of memory\n");
		exit(1);
	}
	return p;
}

void write_file(const char *path, long mib, bool sync)
{
	char *buf = alloc_or_die(MIB);
	int fd = open_or_die(path, O_WRONLY | O_CREAT | O_TRUNC);
	long i;

	fill_random(buf, MIB);
	for (i = 0; i < mib; i++) {
		buf[0] = (char)i;
		write_all(fd, buf, MIB, path);
	}
	if (sync)
		fsync_or_die(fd, path);
	close_or_die(fd, path);
	free(buf);
}

void report(const char *name, double secs)
{
	if (name)
		printf("%s %.6f\n", name, secs);
	else
		printf("%.6f\n", secs);
}

void report_count(const char *name, double value)
{
	printf("count:%s %.15g\n", name, value);
}

void check_size(const char *path, long long size)
{
	struct stat st;

	if (stat(path, &st) < 0)
		die("stat", path);
	if (st.st_size != size) {
		fprintf(stderr, "workload: '%s' has %lld bytes, not %lld\n",
			path, (long long)st.st_size, size);
		exit(1);
	}
}

static void do_seqwrite(void)
{
	long mib = scaled(1024);
	double t0 = now();

	write_file("seq.bin", mib, true);
	report(NULL, now() - t0);
}

/*
 * Empties the page cache so the read comes from the disk; FUSE has its own
 * page cache for the file, which drop_caches empties too. Without root the
 * best we can do is drop the file's own cached pages (@path NULL: none).
 */
void drop_caches(const char *path)
{
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, "3\n", 2) == 2) {
		close(fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	fprintf(stderr, "workload: cannot drop caches (not root?)%s\n",
		path ? ": dropping only the file's pages" : "");
	if (!path)
		return;
	fd = open_or_die(path, O_RDONLY);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

static void do_seqread(void)
{
	const char *path = "seq.bin";
	long mib = scaled(1024);
	char *buf = alloc_or_die(MIB);
	long long total = 0;
	double t0;
	ssize_t n;
	int fd;

	write_file(path, mib, true);
	drop_caches(path);

	t0 = now();
	fd = open_or_die(path, O_RDONLY);
	while ((n = read(fd, buf, MIB)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read", path);
		}
		total += n;
	}
	close_or_die(fd, path);
	report(NULL, now() - t0);

	if (total != (long long)mib * MIB) {
		fprintf(stderr, "workload: read %lld of %lld bytes of '%s'\n",
			total, (long long)mib * MIB, path);
		exit(1);
	}
	free(buf);
}

static void do_randwrite(void)
{
	const char *path = "rand.bin";
	long mib = scaled(256);
	long count = scaled(20000);
	long blocks = mib * (MIB / 4096);
	char buf[4096];
	double t0;
	long i;
	int fd;

	write_file(path, mib, true);
	fill_random(buf, sizeof(buf));

	t0 = now();
	fd = open_or_die(path, O_WRONLY);
	for (i = 0; i < count; i++) {
		off_t off = (off_t)(rng_next() % (uint64_t)blocks) * 4096;

		buf[0] = (char)i;
		if (pwrite(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf))
			die("pwrite", path);
	}
	fsync_or_die(fd, path);
	close_or_die(fd, path);
	report(NULL, now() - t0);
}

static void small_path(char *out, size_t len, int a, int b, long f)
{
	if (f < 0)
		snprintf(out, len, "d%d/d%d", a, b);
	else
		snprintf(out, len, "d%d/d%d/f%05ld.txt", a, b, f);
}

/*
 * SMALL_FANOUT x SMALL_FANOUT leaf directories of @per files: create them
 * (with their directories), stat them, delete them (and the directories).
 */
static void do_smallfiles(void)
{
	long per = scaled(10000 / (SMALL_FANOUT * SMALL_FANOUT));
	char buf[SMALL_SIZE], path[64];
	struct stat st;
	double t0;
	int a, b;
	long f;

	fill_text(buf, sizeof(buf), 0);

	t0 = now();
	for (a = 0; a < SMALL_FANOUT; a++) {
		snprintf(path, sizeof(path), "d%d", a);
		if (mkdir(path, 0755) < 0)
			die("mkdir", path);
		for (b = 0; b < SMALL_FANOUT; b++) {
			small_path(path, sizeof(path), a, b, -1);
			if (mkdir(path, 0755) < 0)
				die("mkdir", path);
			for (f = 0; f < per; f++) {
				int fd;

				small_path(path, sizeof(path), a, b, f);
				fd = open_or_die(path,
						 O_WRONLY | O_CREAT | O_EXCL);
				write_all(fd, buf, sizeof(buf), path);
				close_or_die(fd, path);
			}
		}
	}
	report("smallfiles-create", now() - t0);
	sync();

	t0 = now();
	for (a = 0; a < SMALL_FANOUT; a++)
		for (b = 0; b < SMALL_FANOUT; b++)
			for (f = 0; f < per; f++) {
				small_path(path, sizeof(path), a, b, f);
				if (stat(path, &st) < 0)
					die("stat", path);
				if (st.st_size != SMALL_SIZE) {
					fprintf(stderr,
						"workload: '%s': %lld bytes\n",
						path, (long long)st.st_size);
					exit(1);
				}
			}
	report("smallfiles-stat", now() - t0);
	sync();

	t0 = now();
	for (a = 0; a < SMALL_FANOUT; a++) {
		for (b = 0; b < SMALL_FANOUT; b++) {
			for (f = 0; f < per; f++) {
				small_path(path, sizeof(path), a, b, f);
				if (unlink(path) < 0)
					die("unlink", path);
			}
			small_path(path, sizeof(path), a, b, -1);
			if (rmdir(path) < 0)
				die("rmdir", path);
		}
		snprintf(path, sizeof(path), "d%d", a);
		if (rmdir(path) < 0)
			die("rmdir", path);
	}
	report("smallfiles-delete", now() - t0);
}

static void do_append1fd(void)
{
	const char *path = "append.log";
	long count = scaled(100000);
	char line[LINE_LEN];
	double t0 = now();
	long i;
	int fd;

	fd = open_or_die(path, O_WRONLY | O_CREAT | O_APPEND);
	for (i = 0; i < count; i++) {
		fill_text(line, sizeof(line), i);
		write_all(fd, line, sizeof(line), path);
	}
	close_or_die(fd, path);
	report(NULL, now() - t0);
}

static void do_openappend(void)
{
	const char *path = "append.log";
	long count = scaled(5000);
	char line[LINE_LEN];
	double t0 = now();
	long i;

	for (i = 0; i < count; i++) {
		int fd = open_or_die(path, O_WRONLY | O_CREAT | O_APPEND);

		fill_text(line, sizeof(line), i);
		write_all(fd, line, sizeof(line), path);
		close_or_die(fd, path);
	}
	report(NULL, now() - t0);
}

static void write_text_file(const char *path, char *buf, long tag, int flags)
{
	int fd = open_or_die(path, O_WRONLY | O_CREAT | flags);

	fill_text(buf, REWRITE_SIZE, tag);
	write_all(fd, buf, REWRITE_SIZE, path);
	close_or_die(fd, path);
}

/* Each rewrite has other content, as a saving editor's would. */
static void do_rewrite_inplace(void)
{
	const char *path = "file.txt";
	long count = scaled(2000);
	char buf[REWRITE_SIZE];
	double t0;
	long i;

	write_text_file(path, buf, 0, O_TRUNC);
	t0 = now();
	for (i = 1; i <= count; i++)
		write_text_file(path, buf, i, O_TRUNC);
	report(NULL, now() - t0);
}

static void do_rewrite_rename(void)
{
	const char *path = "file.txt", *tmp = "file.txt.tmp";
	long count = scaled(2000);
	char buf[REWRITE_SIZE];
	double t0;
	long i;

	write_text_file(path, buf, 0, O_TRUNC);
	t0 = now();
	for (i = 1; i <= count; i++) {
		write_text_file(tmp, buf, i, O_EXCL);
		if (rename(tmp, path) < 0)
			die("rename", tmp);
	}
	report(NULL, now() - t0);
}

/* Appends by writing at the end (no O_APPEND), as a write-ahead log does. */
static void do_fsyncwrite(void)
{
	const char *path = "wal.log";
	long count = scaled(2000);
	char buf[4096];
	double t0 = now();
	long i;
	int fd;

	fd = open_or_die(path, O_WRONLY | O_CREAT | O_TRUNC);
	for (i = 0; i < count; i++) {
		fill_text(buf, sizeof(buf), i);
		write_all(fd, buf, sizeof(buf), path);
		fsync_or_die(fd, path);
	}
	close_or_die(fd, path);
	report(NULL, now() - t0);
}

/*
 * Open, overwrite 4 KiB at a random place, close, in a file of @mib MiB of
 * data: the cost of a commit after a small change, as the latency of the
 * close() alone (seconds, mean per close).  The open is left out: any FUSE
 * filesystem pays the kernel's dropping of the file's cached pages there,
 * which grows with the file (about 10 ms for 1 GiB).
 */
static void overwrite_close(const char *name, long mib, long count)
{
	char buf[4096];
	double closing = 0;
	long i;

	write_file("big.bin", mib, true);
	fill_random(buf, sizeof(buf));
	for (i = 0; i < count; i++) {
		int fd = open_or_die("big.bin", O_WRONLY);
		off_t off = (off_t)(rng_next() % (uint64_t)(mib * MIB / 4096)) * 4096;
		double t0;

		buf[0] = (char)i;
		if (pwrite(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf))
			die("pwrite", "big.bin");
		t0 = now();
		close_or_die(fd, "big.bin");
		closing += now() - t0;
	}
	report(name, closing / (double)count);
}

static void do_overwrite_1m(void)
{
	overwrite_close(NULL, 1, 50);
}

static void do_overwrite_1g(void)
{
	overwrite_close(NULL, scaled(1024), 5);
}

size_t fill_jsonl(char *buf, size_t len)
{
	static const char *const names[] = {
		"some text \xc3\xa9", "line one\\nline two",
		"tab\\there \\\"quoted\\\"", "escaped \\u00e9",
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e text",
		"plain ascii name",
	};
	size_t off = 0;
	long i = 0;

	for (;;) {
		char line[256];
		int n = snprintf(line, sizeof(line),
				 "{\"id\":%ld,\"name\":\"%s %ld\",\"tags\":[\"a\",\"b\"],"
				 "\"score\":-%ld.25e3,\"ok\":%s,\"x\":null}\n",
				 i, names[i % 6], (long)(rng_next() % 1000),
				 (long)(rng_next() % 100000),
				 i % 3 ? "true" : "false");

		if (off + (size_t)n > len)
			return off;
		memcpy(buf + off, line, (size_t)n);
		off += (size_t)n;
		i++;
	}
}

/*
 * Writes @len bytes of @buf to @path in 64 KiB writes and closes it; prints
 * `NAME seconds` for write+close and `NAME-close seconds` for the close
 * alone (where hydrafs validates the end and commits); @name NULL: prints
 * nothing.
 */
static void write_named(const char *name, const char *path, const char *buf,
			size_t len)
{
	char close_name[64];
	double t0, t1;
	size_t off, n;
	int fd;

	t0 = now();
	fd = open_or_die(path, O_WRONLY | O_CREAT | O_TRUNC);
	for (off = 0; off < len; off += n) {
		n = len - off < COMMIT_PIECE ? len - off : COMMIT_PIECE;
		write_all(fd, buf + off, n, path);
	}
	t1 = now();
	close_or_die(fd, path);
	if (!name)
		return;
	report(name, now() - t0);
	snprintf(close_name, sizeof(close_name), "%s-close", name);
	report(close_name, now() - t1);
}

/*
 * The cost of the commit of a validated file: the same 100 MiB of JSON
 * Lines as big.jsonl (validated as jsonl) and as big.bin (opaque), each
 * written sequentially then closed, after an untimed warm-up file (the
 * first file written costs more).  The order turns with BENCH_RUN, and
 * the other file's writeback is flushed before each (untimed).
 */
static void do_commit_jsonl(void)
{
	size_t cap = (size_t)scaled(100) * MIB;
	char *buf = alloc_or_die(cap);
	size_t len = fill_jsonl(buf, cap);
	const char *run = getenv("BENCH_RUN");
	bool jsonl_first = !run || atol(run) % 2;
	int k;

	/* Warms up the page cache and the daemon: the first file costs more. */
	write_named(NULL, "warmup.bin", buf, len);
	if (unlink("warmup.bin") < 0)
		die("unlink", "warmup.bin");
	for (k = 0; k < 2; k++) {
		bool jsonl = (k == 0) == jsonl_first;

		sync();
		if (jsonl)
			write_named("commit-jsonl", "big.jsonl", buf, len);
		else
			write_named("commit-bin", "big.bin", buf, len);
	}
	free(buf);
}

static const struct workload base_workloads[] = {
	{ "seqwrite", NULL, do_seqwrite },
	{ "seqread", NULL, do_seqread },
	{ "randwrite", NULL, do_randwrite },
	{ "smallfiles", NULL, do_smallfiles },
	{ "append1fd", NULL, do_append1fd },
	{ "openappend", NULL, do_openappend },
	{ "rewrite-inplace", NULL, do_rewrite_inplace },
	{ "rewrite-rename", NULL, do_rewrite_rename },
	{ "fsyncwrite", NULL, do_fsyncwrite },
	{ "overwrite-1m", NULL, do_overwrite_1m },
	{ "overwrite-1g", NULL, do_overwrite_1g },
	{ "commit-jsonl", NULL, do_commit_jsonl },
};

static const struct {
	const struct workload *v;
	const size_t *n;
} tables[] = {
	{ base_workloads, NULL },
	{ logs_workloads, &n_logs_workloads },
	{ verify_workloads, &n_verify_workloads },
};

#define N_TABLES (sizeof(tables) / sizeof(tables[0]))
#define N_BASE (sizeof(base_workloads) / sizeof(base_workloads[0]))

/* The @i-th workload of all tables, or NULL past the last. */
static const struct workload *workload_at(size_t i)
{
	size_t t, n;

	for (t = 0; t < N_TABLES; t++) {
		n = tables[t].n ? *tables[t].n : N_BASE;
		if (i < n)
			return &tables[t].v[i];
		i -= n;
	}
	return NULL;
}

static void usage(FILE *f)
{
	const struct workload *w;
	size_t i;

	fprintf(f, "usage: workload [--setup | --timed] NAME DIR\n"
		   "       workload list | setups\nworkloads:");
	for (i = 0; (w = workload_at(i)); i++)
		fprintf(f, " %s", w->name);
	fprintf(f, "\n--setup runs only the untimed setup, --timed only the rest\n"
		   "environment: BENCH_SCALE (default 1) scales sizes\n");
}

static void read_scale(void)
{
	const char *s = getenv("BENCH_SCALE");
	char *end;

	if (!s || !*s)
		return;
	errno = 0;
	scale = strtod(s, &end);
	if (errno || *end || !(scale > 0) || scale > 100) {
		fprintf(stderr, "workload: bad BENCH_SCALE '%s'\n", s);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	const struct workload *w;
	bool do_setup = true, do_run = true;
	size_t i;

	read_scale();
	if (argc == 2 && (strcmp(argv[1], "list") == 0 ||
			  strcmp(argv[1], "setups") == 0)) {
		for (i = 0; (w = workload_at(i)); i++)
			if (argv[1][0] == 'l' || w->setup)
				puts(w->name);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "--setup") == 0) {
		do_run = false;
	} else if (argc == 4 && strcmp(argv[1], "--timed") == 0) {
		do_setup = false;
	} else if (argc != 3) {
		usage(stderr);
		return 2;
	}
	for (i = 0; (w = workload_at(i)); i++) {
		if (strcmp(argv[argc - 2], w->name) != 0)
			continue;
		if (chdir(argv[argc - 1]) < 0)
			die("enter", argv[argc - 1]);
		if (do_setup && w->setup) {
			w->setup();
			if (fflush(stdout) == EOF)
				die("write", "stdout");
		}
		if (do_run)
			w->run();
		return 0;
	}
	fprintf(stderr, "workload: unknown workload '%s'\n", argv[argc - 2]);
	usage(stderr);
	return 2;
}
