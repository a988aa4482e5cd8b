// SPDX-License-Identifier: GPL-2.0-or-later
/* hydractl versions: the versions of one file, oldest first. */
#include "config.h"

#include "hydractl.h"

#include "core/append.h"
#include "core/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hydractl versions [--json] FILE\n"
		"\n"
		"Lists the versions of FILE (a path through a hydrafs mount, or in a\n"
		"backing dir; FILE itself may be gone), oldest first: name, time,\n"
		"size, XXH3-128 checksum (the one recorded at its commit, else\n"
		"computed) and whether its content verifies.  A log's checkpoints\n"
		"(prefixes of it, kept without copies) are listed with the length\n"
		"and the checksum of their prefix, marked \"checkpoint\".\n"
		"\n"
		"  --json       one JSON array on stdout\n"
		"  -h, --help   print this help and exit\n"
		"\n"
		"Exit: 0 versions listed, 1 FILE has no versions, 2 usage error,\n"
		"3 FILE or its versions could not be read.\n");
}

/* One listed version, verified. */
struct row {
	bool checkpoint;
	uint64_t size;
	char sum[33];
	const char *state;	/* "ok", "unrecorded", "changed", "damaged", "unreadable" */
	const char *why;
};

/*
 * A checkpoint's prefix: hashed from the content behind @data (the marker
 * itself through a mount, which reads as the prefix) and compared with the
 * sum it was made with.
 */
static void check_prefix(struct io *io, int data, uint64_t len,
			 const char *want, struct row *row)
{
	struct format_check *c;
	struct format_error err;
	struct format_sum sum;
	char buf[65536];
	uint64_t off = 0;
	int ret = format_check_new(FORMAT_OPAQUE, &c);

	row->checkpoint = true;
	row->size = len;
	if (ret < 0) {
		row->why = strerror(-ret);
		return;
	}
	while (ret == 0 && off < len) {
		size_t want_n = len - off < sizeof(buf) ? (size_t)(len - off)
							: sizeof(buf);
		ssize_t n = io_pread(io, data, buf, want_n, (off_t)off);

		if (n <= 0)
			ret = n < 0 ? (int)n : -ENODATA;
		else
			format_check_feed(c, buf, (size_t)n);
		off += n > 0 ? (uint64_t)n : 0;
	}
	format_check_finish(c, &sum, &err);
	format_check_free(c);
	if (ret < 0) {
		row->state = "damaged";
		row->why = ret == -ENODATA ? "the file is shorter than the prefix"
					   : strerror(-ret);
		return;
	}
	format_sum_hex(&sum, row->sum);
	if (!strcmp(want, "-")) {
		row->state = "unrecorded";
		row->why = "checkpoint of a file without a checksum";
	} else if (strcmp(want, row->sum)) {
		row->state = "damaged";
		row->why = "the prefix does not match its checksum";
	} else {
		row->state = "ok";
	}
}

/*
 * Whether @fd is a checkpoint (its length in *@len, the sum it was made
 * with in @sum) and the inode whose prefix it is.
 */
static bool checkpoint_of(struct io *io, int fd, uint64_t *len, ino_t *ino,
			  char sum[33])
{
	char text[96];
	ssize_t n = io_getxattr_fd(io, fd, CHECKPOINT_XATTR, text,
				   sizeof(text) - 1);
	unsigned long long i;

	if (n <= 0)
		return false;
	text[n] = '\0';
	*len = strtoull(text, NULL, 10);
	n = io_getxattr_fd(io, fd, CHECKPOINT_OF_XATTR, text, sizeof(text) - 1);
	text[n > 0 ? n : 0] = '\0';
	if (n <= 0 || sscanf(text, "%llu %32s", &i, sum) != 2)
		strcpy(sum, "-");
	*ino = (ino_t)(n > 0 ? i : 0);
	return true;
}

/* Where a checkpoint's content is, in the backing dir: the file or a version. */
static int prefix_source(struct io *io, const struct target *t,
			 const struct vlist_entry *v, size_t n, ino_t ino)
{
	struct stat st;
	char *path;
	int fd;

	for (size_t i = 0; i < n; i++)
		if (v[i].st.st_ino == ino && v[i].st.st_size > 0)
			return io_open(io, v[i].name, O_RDONLY | O_CLOEXEC, 0);
	path = t->backing ? target_join(t->backing, t->rel) : NULL;
	fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	free(path);
	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_ino != ino)) {
		close(fd);
		fd = -1;
	}
	return fd < 0 ? -ENOENT : fd;
}

static void check_one(struct io *io, const struct target *t,
		      const struct vlist_entry *v, size_t n, size_t k,
		      enum format_kind kind, struct row *row)
{
	const char *name = v[k].name;
	struct verify_result res;
	struct stat st;
	uint64_t len;
	ino_t ino;
	int fd, ret;

	row->state = "unreadable";
	row->why = NULL;
	row->checkpoint = false;
	row->size = (uint64_t)v[k].st.st_size;
	strcpy(row->sum, "-");
	fd = io_open(io, name, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0) {
		row->why = strerror(-fd);
		return;
	}
	if (checkpoint_of(io, fd, &len, &ino, row->sum)) {
		char want[33];
		int data = fd;

		strcpy(want, row->sum);
		strcpy(row->sum, "-");
		/* In a backing dir the marker holds no data: find its file. */
		if (v[k].st.st_size == 0 && len > 0)
			data = prefix_source(io, t, v, n, ino);
		if (data < 0) {
			row->checkpoint = true;
			row->size = len;
			row->why = "the content it is a prefix of is gone";
		} else {
			check_prefix(io, data, len, want, row);
		}
		if (data >= 0 && data != fd)
			io_close(io, data);
		io_close(io, fd);
		return;
	}
	ret = io_fstat(io, fd, &st);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (ret == 0)
		ret = verify_fd(io, fd, &st, kind, NULL, NULL, &res);
	io_close(io, fd);
	if (ret < 0) {
		row->why = strerror(-ret);
		return;
	}
	format_sum_hex(res.has_record && res.record.has_sum ? &res.record.sum
							    : &res.sum,
		       row->sum);
	row->state = verify_state_name(res.state);
	row->why = res.why;
}

static int list(const struct target *t, bool json)
{
	struct vlist_entry *v;
	struct rule_policy pol;
	struct rules *rules;
	struct io *io = NULL;
	char *vdir, *dir;
	size_t n;
	int ret;

	vdir = target_versions_dir(t, false);
	if (!vdir)
		return EXIT_FAILURE_OP;
	ret = vlist_load(vdir, t->rel, &v, &n);
	dir = target_join(vdir, t->rel);
	if (ret < 0 || !dir) {
		fprintf(stderr, "hydractl: cannot list '%s': %s\n",
			dir ? dir : vdir, strerror(ret < 0 ? -ret : ENOMEM));
		free(dir);
		free(vdir);
		return EXIT_FAILURE_OP;
	}
	if (n) {
		ret = io_new(dir, &io);
		if (ret < 0)
			fprintf(stderr, "hydractl: cannot open '%s': %s\n", dir,
				strerror(-ret));
	}
	rules = target_rules(t);
	rules_lookup(rules, t->rel, &pol);
	if (json)
		printf("[");
	else if (!n)
		printf("no versions of '%s'\n", t->rel);
	for (size_t i = 0; io && i < n; i++) {
		char when[32];
		struct row row;

		check_one(io, t, v, n, i, pol.format, &row);
		vlist_format_time(v[i].ms, when);
		if (!json) {
			printf("%s  %s  %12llu  %s  %s%s%s%s\n", v[i].name, when,
			       (unsigned long long)row.size, row.sum,
			       row.checkpoint ? "checkpoint, " : "", row.state,
			       row.why ? ": " : "", row.why ? row.why : "");
			continue;
		}
		printf("%s{\"name\":", i ? "," : "");
		out_json_str(stdout, v[i].name);
		printf(",\"time\":\"%s\",\"size\":%llu,\"checkpoint\":%s,"
		       "\"xxh128\":",
		       when, (unsigned long long)row.size,
		       row.checkpoint ? "true" : "false");
		if (strcmp(row.sum, "-"))
			printf("\"%s\"", row.sum);
		else
			printf("null");
		printf(",\"state\":\"%s\",\"reason\":", row.state);
		if (row.why)
			out_json_str(stdout, row.why);
		else
			printf("null");
		printf(",\"path\":");
		{
			char *p = target_join(dir, v[i].name);

			out_json_str(stdout, p ? p : "");
			free(p);
		}
		printf("}");
	}
	if (json)
		printf("]\n");
	rules_free(rules);
	io_free(io);
	vlist_free(v, n);
	free(dir);
	free(vdir);
	if (n && !io)
		return EXIT_FAILURE_OP;
	return n ? EXIT_OK : EXIT_FOUND;
}

int cmd_versions(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct target t;
	bool json = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		if (c != 'j')
			return out_usage_error("versions");
		json = true;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "hydractl versions: %s\n",
			optind < argc ? "one FILE at a time" : "FILE is missing");
		return out_usage_error("versions");
	}
	if (target_resolve(argv[optind], &t) < 0)
		return EXIT_FAILURE_OP;
	if (!*t.rel) {
		fprintf(stderr, "hydractl versions: '%s' is the root, not a file\n",
			argv[optind]);
		target_release(&t);
		return EXIT_USAGE;
	}
	rc = list(&t, json);
	target_release(&t);
	return rc;
}
