/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the benchmark driver's files share: workload.c (main, the table of
 * workloads, the file and timing helpers and the first workloads),
 * workload_logs.c (appends to big logs, visibility to a reader) and
 * workload_verify.c (hydractl verify, opening a large unchanged file).
 *
 * A workload runs inside its DIR (the current dir), prints `seconds` or
 * `name seconds` lines on stdout for the table and `count:name value`
 * lines for run.sh's summaries (counts, not times); detail goes to stderr.
 * A workload with a setup function has its setup run first, in its own
 * process: run.sh remounts the filesystem between the two, so that the
 * timed part meets a fresh daemon and no cached inode.
 * Exit 77: the workload does not apply here (skipped, not failed).
 * Every helper exits with a message on failure.
 */
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIB (1024 * 1024)
#define LINE_LEN 120
#define EXIT_SKIP 77

struct workload {
	const char *name;
	void (*setup)(void);	/* NULL: none; untimed, before a remount */
	void (*run)(void);	/* the timed part, and its report */
};

extern const struct workload logs_workloads[];
extern const size_t n_logs_workloads;
extern const struct workload verify_workloads[];
extern const size_t n_verify_workloads;

void die(const char *what, const char *path);
/* CLOCK_MONOTONIC in seconds. */
double now(void);
/* @n multiplied by BENCH_SCALE, at least 1. */
long scaled(long n);
/* @n multiplied by BENCH_SCALE, at least @min. */
long scaled_min(long n, long min);
/* A fixed pseudo-random sequence, the same for every target. */
uint64_t rng_next(void);
void fill_random(char *buf, size_t len);
/* Text lines of LINE_LEN bytes starting with @tag and the line number. */
void fill_text(char *buf, size_t len, long tag);
/* JSON Lines objects; returns the bytes used (<= @len), ending at a '\n'. */
size_t fill_jsonl(char *buf, size_t len);
void write_all(int fd, const char *buf, size_t len, const char *path);
int open_or_die(const char *path, int flags);
void fsync_or_die(int fd, const char *path);
void close_or_die(int fd, const char *path);
char *alloc_or_die(size_t len);
/* Writes @mib MiB of random data to @path, 1 MiB a write; fsyncs if @sync. */
void write_file(const char *path, long mib, bool sync);
/* Exits with a message unless @path has @size bytes. */
void check_size(const char *path, long long size);
/*
 * Syncs and empties the page cache (root only); otherwise drops @path's
 * own cached pages, or nothing when @path is NULL.
 */
void drop_caches(const char *path);
/* Prints `@name seconds`, or `seconds` when @name is NULL. */
void report(const char *name, double secs);
/* Prints `count:@name value`: a count for run.sh's summaries. */
void report_count(const char *name, double value);

#endif
