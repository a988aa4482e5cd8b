// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hydractl verify: re-hashes and re-validates every file and every version
 * under the paths given (the scrub), with verify_fd().
 */
#include "config.h"

#include "hydractl.h"

#include "core/record.h"
#include "core/verify.h"
#include "core/version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A file or version to verify. */
struct item {
	struct job *job;
	char *rel;		/* from the io's root */
	uint64_t size;
	bool is_version;
};

/* One PATH argument: its hydrafs, its tree and its versions. */
struct job {
	struct target t;
	struct io *tree;	/* rooted at the mount point or backing dir */
	struct io *versions;	/* rooted at the versions tree, or NULL */
	char *vdir;
	struct rules *rules;
};

/* Something to report about one path. */
struct finding {
	char *path;
	bool is_version;
	const char *why;	/* static */
	const char *format;	/* static, when @has_error */
	bool has_error;		/* invalid in its format: where and why */
	struct format_error err;
	bool flagged;		/* the daemon flagged it: reads get its view */
	char why_text[200];	/* when set, the reason instead of @why */
};

struct findings {
	struct finding *v;
	size_t n;
};

struct run {
	struct item *items;
	size_t n_items, cap_items;
	uint64_t total_bytes;
	bool collecting_versions;
	struct job *job;	/* being collected */
	struct findings damaged, changed, errors;
	size_t files, versions, unrecorded;
	uint64_t bytes;		/* verified */
	/* Progress bar: only on a terminal. */
	bool tty;
	uint64_t bytes_before;	/* done before the current file */
	size_t done;
	struct timespec start, last_draw;
	bool oom;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hydractl verify [--json] [PATH...]\n"
		"\n"
		"Re-hashes and re-validates every file under each PATH (default: the\n"
		"current dir) and every version of them, and lists the damaged ones:\n"
		"content that differs from the checksum of its commit while size and\n"
		"mtime did not change, or content invalid in its format.  Files changed\n"
		"behind the mount but still valid are listed as changed.  Through a\n"
		"mount, hydrafs verifies each damaged file again from the backing\n"
		"file and flags it (\"flagged\"): reads then get its recovered view.\n"
		"PATH: a hydrafs mount, a file or dir in one, or a backing dir (mounted\n"
		"or not) or a file or dir in one.\n"
		"\n"
		"  --json       one JSON document on stdout\n"
		"  -h, --help   print this help and exit\n"
		"\n"
		"Exit: 0 nothing damaged, 1 something damaged, 2 usage error,\n"
		"3 something could not be read (and nothing damaged).\n");
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void add_finding(struct run *r, struct findings *f, const char *path,
			const struct finding *what)
{
	struct finding *grown = realloc(f->v, (f->n + 1) * sizeof(*f->v));

	if (!grown) {
		r->oom = true;
		return;
	}
	f->v = grown;
	f->v[f->n] = *what;
	f->v[f->n].path = strdup(path);
	if (!f->v[f->n].path) {
		r->oom = true;
		return;
	}
	f->n++;
}

static void report_error(struct run *r, const char *path, bool is_version,
			 int err)
{
	struct finding f = { .is_version = is_version, .why = strerror(-err) };

	fprintf(stderr, "%shydractl: cannot read '%s': %s\n",
		r->tty ? "\r\033[K" : "", path, strerror(-err));
	add_finding(r, &r->errors, path, &f);
}

static void collect(void *ctx, const char *rel, const struct stat *st,
		    int err)
{
	struct run *r = ctx;
	struct job *j = r->job;
	struct item *grown;
	char *path;

	if (err) {
		path = target_join(r->collecting_versions ? j->vdir : j->t.root,
				   rel);
		if (path)
			report_error(r, path, r->collecting_versions, err);
		free(path);
		return;
	}
	if (!S_ISREG(st->st_mode))
		return;
	if (r->collecting_versions) {
		const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;

		if (!version_name_is_valid(name))
			return;
	}
	if (r->n_items == r->cap_items) {
		size_t cap = r->cap_items ? r->cap_items * 2 : 256;

		grown = realloc(r->items, cap * sizeof(*grown));
		if (!grown) {
			r->oom = true;
			return;
		}
		r->items = grown;
		r->cap_items = cap;
	}
	r->items[r->n_items].rel = strdup(rel);
	if (!r->items[r->n_items].rel) {
		r->oom = true;
		return;
	}
	r->items[r->n_items].job = j;
	r->items[r->n_items].size = (uint64_t)st->st_size;
	r->items[r->n_items].is_version = r->collecting_versions;
	r->n_items++;
	r->total_bytes += (uint64_t)st->st_size;
}

/* Resolves one PATH and lists its files and versions; 0 or -errno. */
static int job_collect(struct run *r, const char *path, struct job *j)
{
	static const char *const tree_skip[] = { STATE_DIR, BACKUPS_NAME, NULL };
	static const char *const vers_skip[] = { ORPHANS_NAME, REJECTED_NAME,
						 NULL };
	int ret;

	ret = target_resolve(path, &j->t);
	if (ret < 0)
		return ret;
	ret = io_new(j->t.root, &j->tree);
	if (ret < 0) {
		fprintf(stderr, "hydractl: cannot open '%s': %s\n", j->t.root,
			strerror(-ret));
		return ret;
	}
	j->rules = target_rules(&j->t);
	r->job = j;
	r->collecting_versions = false;
	ret = walk_tree(j->tree, j->t.rel, tree_skip, collect, r);
	if (ret < 0) {
		fprintf(stderr, "hydractl: cannot read '%s': %s\n", path,
			strerror(-ret));
		return ret;
	}
	j->vdir = target_versions_dir(&j->t, false);
	if (!j->vdir)
		return -ENOMEM;
	ret = io_new(j->vdir, &j->versions);
	if (ret == -ENOENT)
		return 0;	/* nothing was ever versioned */
	if (ret < 0) {
		report_error(r, j->vdir, true, ret);
		return 0;
	}
	r->collecting_versions = true;
	ret = walk_tree(j->versions, j->t.rel, vers_skip, collect, r);
	if (ret == -ENOENT)
		ret = 0;	/* no versions of these files */
	if (ret < 0)
		report_error(r, j->vdir, true, ret);
	return ret == -ENOMEM ? ret : 0;
}

static void job_release(struct job *j)
{
	target_release(&j->t);
	io_free(j->tree);
	io_free(j->versions);
	free(j->vdir);
	rules_free(j->rules);
}

static void draw(struct run *r, uint64_t bytes_now)
{
	char done[16], total[16], bar[31];
	double secs = seconds_since(&r->start);
	unsigned int pct = r->total_bytes
		? (unsigned int)(bytes_now * 100 / r->total_bytes) : 100;
	unsigned int i, fill = pct * 30 / 100;

	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	out_size(bytes_now, done);
	out_size(r->total_bytes, total);
	fprintf(stderr, "\r%3u%% [%s] %s / %s, %zu / %zu files, %.1f MB/s\033[K",
		pct, bar, done, total, r->done, r->n_items,
		secs > 0 ? (double)bytes_now / 1e6 / secs : 0.0);
	clock_gettime(CLOCK_MONOTONIC, &r->last_draw);
}

static void progress(void *ctx, uint64_t bytes)
{
	struct run *r = ctx;

	if (r->tty && seconds_since(&r->last_draw) >= 0.1)
		draw(r, r->bytes_before + bytes);
}

static void classify(struct run *r, const char *path, const struct item *it,
		     const struct verify_result *res, bool flagged,
		     const char *why_text)
{
	struct finding f = { .is_version = it->is_version, .why = res->why,
			     .flagged = flagged };

	if (why_text)
		snprintf(f.why_text, sizeof(f.why_text), "%s", why_text);
	bool accepted_invalid = res->has_record &&
				res->record.state == RECORD_INVALID;

	if (res->state == VERIFY_UNRECORDED)
		r->unrecorded++;
	if (res->state == VERIFY_CHANGED)
		add_finding(r, &r->changed, path, &f);
	if (res->state != VERIFY_DAMAGED)
		return;
	if (res->err.reason && !accepted_invalid) {
		f.has_error = true;
		f.err = res->err;
		f.format = format_kind_name(res->format);
	}
	add_finding(r, &r->damaged, path, &f);
}

/* The record @rel has now: 1 (in *@rec), 0 none, -1 unknown. */
static int record_before(struct io *io, const char *rel, struct record *rec)
{
	char text[RECORD_TEXT_MAX];
	ssize_t n = io_getxattr(io, rel, RECORD_XATTR, text, sizeof(text));

	if (n == -ENODATA)
		return 0;
	if (n <= 0 || record_parse(text, (size_t)n, rec) < 0)
		return -1;
	return 1;
}

/*
 * Has the daemon behind a mount scrub the file @rel that reads found
 * damaged (SCRUB_XATTR): whether it flagged it, so that reads from now on
 * get its recovered view.
 */
static bool ask_scrub(struct io *io, const char *rel)
{
	char answer[16];
	ssize_t n = io_getxattr(io, rel, SCRUB_XATTR, answer, sizeof(answer));

	return n == 7 && !memcmp(answer, "damaged", 7);
}

/*
 * Whether the daemon behind a mount serves @rel (@st as the mount shows
 * it) as its recovered view: flagged damaged (STATE_XATTR, or a record a
 * scrub marked), shown with another size than the damaged file's, and
 * still damaged (asked again).  Reading it would read the view.
 */
static bool served_as_view(struct io *io, const char *rel, int before,
			   const struct record *pre, const struct stat *st,
			   char *why, size_t why_size)
{
	char text[512], *reason;
	unsigned long long size;
	ssize_t n;

	/* As its last commit left it: the daemon serves it as it is. */
	if (before == 1 && pre->state != RECORD_DAMAGED &&
	    record_matches(pre, st))
		return false;
	n = io_getxattr(io, rel, STATE_XATTR, text, sizeof(text) - 1);
	snprintf(why, why_size, "damaged");
	if (n > 0) {
		text[n] = '\0';
		if (sscanf(text, "damaged size=%llu", &size) != 1)
			return false;
		/* "damaged size=... ino=I: reason": the reason. */
		reason = strstr(text, ": ");
		if (reason)
			snprintf(why, why_size, "%s", reason + 2);
	} else if (before == 1 && pre->state == RECORD_DAMAGED) {
		size = pre->size;
	} else {
		return false;
	}
	return (unsigned long long)st->st_size != size && ask_scrub(io, rel);
}

/*
 * A file found ok whose record before the open did not describe it was
 * adopted by the open: report what it was before.
 */
static void adopted(struct verify_result *res, int before,
		    const struct record *pre, const struct stat *st)
{
	if (before == 0) {
		res->state = VERIFY_UNRECORDED;
	} else if (before == 1 && !record_matches(pre, st) &&
		   !(pre->has_sum && pre->sum.high == res->sum.high &&
		     pre->sum.low == res->sum.low)) {
		res->state = VERIFY_CHANGED;
		res->why = "changed behind the mount (hydrafs recorded it anew at this open)";
	}
}

static void verify_item(struct run *r, const struct item *it)
{
	struct job *j = it->job;
	struct io *io = it->is_version ? j->versions : j->tree;
	struct verify_result res;
	struct rule_policy pol;
	struct record pre;
	struct stat st;
	char *path, *file, why[200];
	int fd, ret, before;

	path = target_join(it->is_version ? j->vdir : j->t.root, it->rel);
	/* A version's policy is that of its file: the dir it is in. */
	file = strdup(it->rel);
	if (!path || !file) {
		r->oom = true;
		goto out_free;
	}
	rules_lookup(j->rules, it->is_version ? dirname(file) : it->rel, &pol);
	/*
	 * Through a mount, the open itself may have hydrafs verify a file
	 * changed behind it and record it anew (adopt it): what the record
	 * said before the open tells.
	 */
	before = record_before(io, it->rel, &pre);
	fd = io_open(io, it->rel, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
		     0);
	if (fd < 0) {
		report_error(r, path, it->is_version, fd);
		goto out_free;
	}
	ret = io_fstat(io, fd, &st);
	if (ret == 0 && !S_ISREG(st.st_mode))
		goto out_close;	/* replaced since the walk */
	if (ret == 0 && j->t.is_mount && !it->is_version &&
	    served_as_view(io, it->rel, before, &pre, &st, why, sizeof(why))) {
		/* The daemon verified the file itself: its view is not it. */
		memset(&res, 0, sizeof(res));
		res.state = VERIFY_DAMAGED;
		res.format = before == 1 ? pre.format : pol.format;
		r->files++;
		classify(r, path, it, &res, true, why);
		goto out_close;
	}
	/* Read the content itself, not what a page cache kept of it. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (ret == 0)
		ret = verify_fd(io, fd, &st, pol.format, progress, r, &res);
	if (ret < 0) {
		report_error(r, path, it->is_version, ret);
		goto out_close;
	}
	if (it->is_version)
		r->versions++;
	else
		r->files++;
	r->bytes += res.size;
	if (j->t.is_mount && res.state == VERIFY_OK)
		adopted(&res, before, &pre, &st);
	classify(r, path, it, &res,
		 j->t.is_mount && !it->is_version &&
			 res.state == VERIFY_DAMAGED && ask_scrub(io, it->rel),
		 NULL);
out_close:
	io_close(io, fd);
out_free:
	free(file);
	free(path);
}

static void print_findings_json(const char *key, const struct findings *f)
{
	printf(",\"%s\":[", key);
	for (size_t i = 0; i < f->n; i++) {
		const struct finding *x = &f->v[i];

		printf("%s{\"path\":", i ? "," : "");
		out_json_str(stdout, x->path);
		printf(",\"kind\":\"%s\",\"reason\":",
		       x->is_version ? "version" : "file");
		out_json_str(stdout, x->why_text[0] ? x->why_text
						   : x->why ? x->why : "");
		if (x->has_error) {
			printf(",\"format\":\"%s\",\"error\":", x->format);
			out_json_str(stdout, x->err.reason);
			printf(",\"line\":%llu,\"offset\":%llu",
			       (unsigned long long)x->err.line,
			       (unsigned long long)x->err.offset);
		} else {
			printf(",\"line\":null,\"offset\":null");
		}
		printf(",\"flagged\":%s}", x->flagged ? "true" : "false");
	}
	printf("]");
}

static void print_json(const struct run *r, double secs)
{
	printf("{\"files\":%zu,\"versions\":%zu,\"bytes\":%llu,\"seconds\":%.3f,"
	       "\"unrecorded\":%zu",
	       r->files, r->versions, (unsigned long long)r->bytes, secs,
	       r->unrecorded);
	print_findings_json("damaged", &r->damaged);
	print_findings_json("changed", &r->changed);
	print_findings_json("errors", &r->errors);
	printf("}\n");
}

static void print_human(const struct run *r, double secs)
{
	char size[16];

	for (size_t i = 0; i < r->damaged.n; i++) {
		const struct finding *x = &r->damaged.v[i];

		printf("damaged %s: %s: %s", x->is_version ? "version" : "file",
		       x->path, x->why_text[0] ? x->why_text : x->why);
		if (x->has_error)
			printf(" (%s, line %llu, byte %llu: %s)", x->format,
			       (unsigned long long)x->err.line,
			       (unsigned long long)x->err.offset, x->err.reason);
		if (x->flagged)
			printf("; flagged: reads get its recovered view");
		printf("\n");
	}
	for (size_t i = 0; i < r->changed.n; i++)
		printf("changed %s: %s: %s\n",
		       r->changed.v[i].is_version ? "version" : "file",
		       r->changed.v[i].path, r->changed.v[i].why);
	out_size(r->bytes, size);
	printf("verified %zu files and %zu versions, %s in %.2f s (%.1f MB/s): "
	       "%zu damaged, %zu changed, %zu unrecorded",
	       r->files, r->versions, size, secs,
	       secs > 0 ? (double)r->bytes / 1e6 / secs : 0.0, r->damaged.n,
	       r->changed.n, r->unrecorded);
	if (r->errors.n)
		printf(", %zu unreadable", r->errors.n);
	printf("\n");
}

static void findings_release(struct findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].path);
	free(f->v);
}

int cmd_verify(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char dot[] = ".", *here[] = { dot, NULL };
	struct run r = { 0 };
	struct job *jobs;
	bool json = false;
	char *const *paths;
	int c, n, i, rc;
	double secs;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		if (c != 'j')
			return out_usage_error("verify");
		json = true;
	}
	paths = optind < argc ? argv + optind : here;
	n = optind < argc ? argc - optind : 1;
	jobs = calloc((size_t)n, sizeof(*jobs));
	if (!jobs)
		return EXIT_FAILURE_OP;
	r.tty = isatty(STDERR_FILENO);
	for (i = 0; i < n; i++) {
		if (job_collect(&r, paths[i], &jobs[i]) < 0)
			break;
	}
	rc = EXIT_FAILURE_OP;
	if (i < n || r.oom)
		goto out_release;
	clock_gettime(CLOCK_MONOTONIC, &r.start);
	for (size_t k = 0; k < r.n_items; k++) {
		verify_item(&r, &r.items[k]);
		r.bytes_before += r.items[k].size;
		r.done++;
		if (r.tty && (seconds_since(&r.last_draw) >= 0.1 ||
			      k + 1 == r.n_items))
			draw(&r, r.bytes_before);
	}
	if (r.tty && r.n_items)
		fprintf(stderr, "\r\033[K");
	secs = seconds_since(&r.start);
	if (r.oom) {
		fprintf(stderr, "hydractl: out of memory\n");
		goto out_release;
	}
	if (json)
		print_json(&r, secs);
	else
		print_human(&r, secs);
	rc = r.damaged.n ? EXIT_FOUND : r.errors.n ? EXIT_FAILURE_OP : EXIT_OK;
out_release:
	for (size_t k = 0; k < r.n_items; k++)
		free(r.items[k].rel);
	free(r.items);
	findings_release(&r.damaged);
	findings_release(&r.changed);
	findings_release(&r.errors);
	for (i = 0; i < n; i++)
		job_release(&jobs[i]);
	free(jobs);
	return rc;
}
