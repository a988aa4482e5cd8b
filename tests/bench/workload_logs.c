/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Workloads on logs: open-append-close on a big log (its cost must not grow
 * with the log), and how soon a reader with its own descriptor sees each line
 * a writer appends (what `tail -f` shows).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define BIG_LOG "big.log"
#define APPEND_LEN 100

#define VIS_FILE "vis.jsonl"
#define VIS_PERIOD_NS 10000000L	/* a line every 10 ms */
#define VIS_GAP_NS 2000000L	/* between a line's two writes */
#define VIS_POLL_NS 1000000L	/* the reader's sleep between polls */
#define VIS_GRACE 2.0		/* s the writer waits before closing */
#define VIS_GIVE_UP 10.0	/* s after the close a line may take */
#define VIS_LINE_MAX 256

static long big_log_mib(bool big)
{
	return big ? scaled(1024) : 1;
}

/* Appends @count lines + the first: 200 for 1 MiB, 50 for 1 GiB. */
static long big_log_count(bool big)
{
	return big ? scaled_min(50, 10) : scaled_min(200, 10);
}

/* Writes big.log: @mib MiB of text lines, each MiB's lines tagged apart. */
static void big_log_setup(long mib)
{
	char *buf = alloc_or_die(MIB);
	int fd = open_or_die(BIG_LOG, O_WRONLY | O_CREAT | O_TRUNC);
	long i;

	for (i = 0; i < mib; i++) {
		fill_text(buf, MIB, i);
		write_all(fd, buf, MIB, BIG_LOG);
	}
	close_or_die(fd, BIG_LOG);
	free(buf);
}

static void append_line(long tag)
{
	char line[APPEND_LEN];
	int fd = open_or_die(BIG_LOG, O_WRONLY | O_APPEND);

	fill_text(line, sizeof(line), tag);
	write_all(fd, line, sizeof(line), BIG_LOG);
	close_or_die(fd, BIG_LOG);
}

/*
 * The mean latency of open(O_APPEND) + write a line + close on big.log as
 * `NAME`, after the first one (after the remount), reported alone as
 * `NAME-first`.
 */
static void openappend_run(const char *name, bool big)
{
	long count = big_log_count(big), i;
	char first[64];
	double t0;

	snprintf(first, sizeof(first), "%s-first", name);
	t0 = now();
	append_line(1000000);
	report(first, now() - t0);

	t0 = now();
	for (i = 1; i <= count; i++)
		append_line(1000000 + i);
	report(name, (now() - t0) / (double)count);
	check_size(BIG_LOG, (long long)big_log_mib(big) * MIB +
				    (count + 1) * APPEND_LEN);
}

static void do_openappend_1m_setup(void)
{
	big_log_setup(big_log_mib(false));
}

static void do_openappend_1m(void)
{
	openappend_run("openappend-1m", false);
}

static void do_openappend_1g_setup(void)
{
	big_log_setup(big_log_mib(true));
}

static void do_openappend_1g(void)
{
	openappend_run("openappend-1g", true);
}

/* The writer and the reader of append-visibility; shared by two threads. */
struct vis {
	long n;
	int rfd;
	double *done;		/* writer: end of line i's completing write */
	double *seen;		/* reader: line i read whole */
	double closed_at;	/* the writer's close, once @closed is set */
	long long size;		/* reader: what fstat said last */
	bool closed;		/* atomic */
	long torn;		/* reader: polls that ended inside a line */
	bool reader_done;	/* atomic */
};

static void sleep_ns(long ns)
{
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Checks that the @len bytes of @line are line @k of the writer's. */
static void vis_check(const char *line, size_t len, long k)
{
	char copy[VIS_LINE_MAX + 1];
	long seq;

	memcpy(copy, line, len);
	copy[len] = '\0';
	if (sscanf(copy, "{\"seq\":%ld,", &seq) != 1 || seq != k ||
	    copy[len - 1] != '\n') {
		fprintf(stderr, "workload: '%s': line %ld reads '%.*s'\n",
			VIS_FILE, k, (int)len, copy);
		exit(1);
	}
}

/*
 * Polls like `tail -f`: fstat, pread from the last end to the new one,
 * sleep 1 ms.  Stamps each line when it has been read whole.
 */
static void *vis_reader(void *arg)
{
	struct vis *v = arg;
	char buf[64 * 1024], line[VIS_LINE_MAX];
	size_t have = 0;
	off_t off = 0;
	long k = 0;

	while (k < v->n) {
		struct stat st;

		if (fstat(v->rfd, &st) < 0)
			die("fstat", VIS_FILE);
		v->size = (long long)st.st_size;
		while (st.st_size > off) {
			size_t want = (size_t)(st.st_size - off);
			ssize_t got, i;
			double t;

			got = pread(v->rfd, buf, want < sizeof(buf) ?
					want : sizeof(buf), off);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				die("read", VIS_FILE);
			if (got == 0)
				break;
			t = now();
			off += got;
			for (i = 0; i < got; i++) {
				if (have == sizeof(line) || k == v->n) {
					fprintf(stderr, "workload: '%s': more "
						"than was written\n", VIS_FILE);
					exit(1);
				}
				line[have++] = buf[i];
				if (buf[i] != '\n')
					continue;
				vis_check(line, have, k);
				v->seen[k++] = t;
				have = 0;
			}
		}
		if (have)
			v->torn++;
		if (k < v->n && __atomic_load_n(&v->closed, __ATOMIC_ACQUIRE) &&
		    now() > v->closed_at + VIS_GIVE_UP) {
			fprintf(stderr, "workload: '%s': line %ld of %ld not "
				"seen %.0f s after the writer closed (the "
				"reader's fstat says %lld bytes, it read %lld)\n",
				VIS_FILE, k + 1, v->n, VIS_GIVE_UP, v->size,
				(long long)off);
			exit(1);
		}
		if (k < v->n)
			sleep_ns(VIS_POLL_NS);
	}
	__atomic_store_n(&v->reader_done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* A JSON line of about 100 bytes with its sequence number. */
static int vis_line(char *buf, size_t len, long i)
{
	return snprintf(buf, len,
			"{\"seq\":%ld,\"time\":\"2026-01-01T00:%02ld:%02ld.%03ldZ\","
			"\"level\":\"info\",\"msg\":\"request done\","
			"\"path\":\"/api/items/%ld\",\"ms\":%ld}\n",
			i, i / 60000 % 60, i / 1000 % 60, i % 1000,
			(long)(rng_next() % 100000), (long)(rng_next() % 500));
}

/* One line every VIS_PERIOD_NS, in two writes; stamps the second's end. */
static void vis_write(struct vis *v, int fd)
{
	struct timespec next;
	char line[VIS_LINE_MAX];
	long i;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < v->n; i++) {
		int len = vis_line(line, sizeof(line), i), cut = len / 2;

		write_all(fd, line, (size_t)cut, VIS_FILE);
		sleep_ns(VIS_GAP_NS);
		write_all(fd, line + cut, (size_t)(len - cut), VIS_FILE);
		v->done[i] = now();
		next.tv_nsec += VIS_PERIOD_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank @pct percentile of the sorted @v. */
static double percentile(const double *v, long n, double pct)
{
	long rank = (long)ceil(pct / 100.0 * (double)n);

	return v[rank < 1 ? 0 : rank - 1];
}

/*
 * A writer appends N JSON lines to vis.jsonl through one O_APPEND
 * descriptor, each in two writes, one line every 10 ms; a reader thread
 * with its own descriptor polls.  Reported: the p99 (as the row) and the
 * p50 of the time from the end of a line's second write to the reader
 * having read it.  The writer keeps its descriptor open until the reader
 * has every line, or VIS_GRACE s: lines seen only after its close are
 * counted as late.
 */
static void do_append_visibility(void)
{
	struct vis v = { .n = scaled_min(500, 50) };
	double *lat, closed;
	pthread_t reader;
	long i, late = 0;
	int wfd, err;

	v.done = calloc((size_t)v.n, sizeof(*v.done));
	v.seen = calloc((size_t)v.n, sizeof(*v.seen));
	lat = calloc((size_t)v.n, sizeof(*lat));
	if (!v.done || !v.seen || !lat)
		die("allocate", "latencies");
	wfd = open_or_die(VIS_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
	v.rfd = open_or_die(VIS_FILE, O_RDONLY);
	err = pthread_create(&reader, NULL, vis_reader, &v);
	if (err) {
		errno = err;
		die("start a reader for", VIS_FILE);
	}
	vis_write(&v, wfd);
	closed = now() + VIS_GRACE;
	while (!__atomic_load_n(&v.reader_done, __ATOMIC_ACQUIRE) &&
	       now() < closed)
		sleep_ns(VIS_POLL_NS);
	closed = now();
	close_or_die(wfd, VIS_FILE);
	v.closed_at = closed;
	__atomic_store_n(&v.closed, true, __ATOMIC_RELEASE);
	pthread_join(reader, NULL);
	close_or_die(v.rfd, VIS_FILE);

	for (i = 0; i < v.n; i++) {
		/* On a local fs a line may be read before its write() returns. */
		lat[i] = v.seen[i] > v.done[i] ? v.seen[i] - v.done[i] : 0;
		if (v.seen[i] >= closed)
			late++;
	}
	qsort(lat, (size_t)v.n, sizeof(*lat), cmp_double);
	report("append-visibility", percentile(lat, v.n, 99));
	report("append-visibility-p50", percentile(lat, v.n, 50));
	report_count("append-visibility-torn", (double)v.torn);
	report_count("append-visibility-late", (double)late);
	fprintf(stderr, "append-visibility: %ld lines, p50 %.1f ms, p99 %.1f ms, "
		"max %.1f ms; %ld polls ended inside a line; %ld lines seen "
		"only after the writer's close\n", v.n,
		percentile(lat, v.n, 50) * 1e3, percentile(lat, v.n, 99) * 1e3,
		lat[v.n - 1] * 1e3, v.torn, late);
	free(v.done);
	free(v.seen);
	free(lat);
}

const struct workload logs_workloads[] = {
	{ "openappend-1m", do_openappend_1m_setup, do_openappend_1m },
	{ "openappend-1g", do_openappend_1g_setup, do_openappend_1g },
	{ "append-visibility", NULL, do_append_visibility },
};

const size_t n_logs_workloads =
	sizeof(logs_workloads) / sizeof(logs_workloads[0]);
