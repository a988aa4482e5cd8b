// SPDX-License-Identifier: GPL-2.0-or-later
/* hydractl status: the hydrafs mounts and what their versions tree holds. */
#include "config.h"

#include "hydractl.h"

#include "core/version.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hydractl status [--json] [MOUNT...]\n"
		"\n"
		"For each MOUNT (a hydrafs mount, a path in one, or a backing dir;\n"
		"default: the mount holding the current dir, else every hydrafs mount):\n"
		"the mount point, the backing dir, and how many versions, rejected\n"
		"contents (.backups/.rejected) and orphans (.backups/.orphans) it keeps,\n"
		"and the files hydrafs found damaged when they were opened (from the\n"
		"journal, when readable: else unknown).  hydractl verify checks all.\n"
		"\n"
		"  --json       one JSON array on stdout\n"
		"  -h, --help   print this help and exit\n"
		"\n"
		"Exit: 0 ok, 1 no hydrafs mount found (without MOUNT), 2 usage error,\n"
		"3 a MOUNT is not hydrafs or its versions tree is unreadable.\n");
}

/* What a versions tree holds. */
struct counts {
	uint64_t files, bytes;
	int err;		/* the first error met, or 0 */
};

static void count(void *ctx, const char *rel, const struct stat *st, int err)
{
	struct counts *c = ctx;
	const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;

	if (err) {
		if (!c->err)
			c->err = err;
		return;
	}
	if (S_ISREG(st->st_mode) && version_name_is_valid(name)) {
		c->files++;
		c->bytes += (uint64_t)st->st_size;
	}
}

/* Counts the tree @rel of @io ("" for all of it but @skip). */
static void count_tree(struct io *io, const char *rel,
		       const char *const *skip, struct counts *c)
{
	int ret = walk_tree(io, rel, skip, count, c);

	if (ret < 0 && ret != -ENOENT && !c->err)
		c->err = ret;
}

/* The last event of one path that says whether its file is damaged. */
struct last_event {
	char *path;		/* as the journal writes it (escaped) */
	size_t seq;
	bool damaged;
};

/* The raw (still escaped) string value of "@key" in @line, or NULL. */
static char *json_field(const char *line, const char *key)
{
	char pat[32];
	const char *v, *end;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	v = strstr(line, pat);
	if (!v)
		return NULL;
	v += strlen(pat);
	for (end = v; *end && *end != '"'; end++) {
		if (*end == '\\' && end[1])
			end++;
	}
	return *end ? strndup(v, (size_t)(end - v)) : NULL;
}

static int by_path_seq(const void *a, const void *b)
{
	const struct last_event *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * Files whose last event in the journal is "damage" (found damaged by
 * hydrafs's open-time check, not since committed, adopted or removed):
 * >= 0, or -errno when the journal cannot be read (e.g. not root).
 */
static long damaged_from_journal(const struct target *t)
{
	struct last_event *v = NULL, *grown;
	size_t n = 0, cap = 0, len = 0;
	char *path, *line = NULL, *event;
	long count = 0;
	FILE *f;

	if (!t->backing)
		return -ENOENT;
	path = target_join(t->backing, STATE_DIR "/" STATE_JOURNAL);
	f = path ? fopen(path, "re") : NULL;
	free(path);
	if (!f)
		return -errno;
	while (getline(&line, &len, f) > 0) {
		struct last_event e = { .seq = n };

		event = json_field(line, "event");
		e.damaged = event && !strcmp(event, "damage");
		if (event && (e.damaged || !strcmp(event, "commit") ||
			      !strcmp(event, "adopt") || !strcmp(event, "version")))
			e.path = json_field(line, "path");
		free(event);
		if (!e.path)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				free(e.path);
				count = -ENOMEM;
				break;
			}
			v = grown;
		}
		v[n++] = e;
	}
	free(line);
	fclose(f);
	if (n)
		qsort(v, n, sizeof(*v), by_path_seq);
	for (size_t i = 0; i < n; i++) {
		bool last = i + 1 == n || strcmp(v[i].path, v[i + 1].path);

		if (count >= 0 && last && v[i].damaged)
			count++;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
	return count;
}

static int show(const struct target *t, bool json, bool first)
{
	static const char *const skip[] = { ORPHANS_NAME, REJECTED_NAME, NULL };
	struct counts versions = { 0 }, rejected = { 0 }, orphans = { 0 };
	char *vdir = target_versions_dir(t, true), size[16];
	struct io *io = NULL;
	long damaged = damaged_from_journal(t);
	int ret;

	if (!vdir)
		return -ENOMEM;
	ret = io_new(vdir, &io);
	if (ret == 0) {
		count_tree(io, "", skip, &versions);
		count_tree(io, REJECTED_NAME, NULL, &rejected);
		count_tree(io, ORPHANS_NAME, NULL, &orphans);
		ret = versions.err ? versions.err : rejected.err ? rejected.err
								: orphans.err;
	} else if (ret == -ENOENT) {
		ret = 0;	/* nothing kept yet */
	}
	if (ret < 0)
		fprintf(stderr, "hydractl: cannot read '%s': %s\n", vdir,
			strerror(-ret));
	if (json) {
		printf("%s{\"mount\":", first ? "" : ",");
		if (t->is_mount)
			out_json_str(stdout, t->root);
		else
			printf("null");
		printf(",\"backing\":");
		if (t->backing)
			out_json_str(stdout, t->backing);
		else
			printf("null");
		printf(",\"versions_dir\":");
		out_json_str(stdout, vdir);
		printf(",\"versions\":%llu,\"versions_bytes\":%llu,"
		       "\"rejections\":%llu,\"orphans\":%llu,\"damaged\":",
		       (unsigned long long)versions.files,
		       (unsigned long long)versions.bytes,
		       (unsigned long long)rejected.files,
		       (unsigned long long)orphans.files);
		if (damaged >= 0)
			printf("%ld", damaged);
		else
			printf("null");
		printf(",\"complete\":%s}", ret < 0 ? "false" : "true");
	} else {
		out_size(versions.bytes, size);
		printf("%smount:      %s\n"
		       "backing:    %s\n"
		       "versions:   %llu (%s)%s\n"
		       "rejections: %llu\n"
		       "orphans:    %llu\n",
		       first ? "" : "\n",
		       t->is_mount ? t->root : "(not mounted here)",
		       t->backing ? t->backing : "(unknown)",
		       (unsigned long long)versions.files, size,
		       ret < 0 ? ", incomplete" : "",
		       (unsigned long long)rejected.files,
		       (unsigned long long)orphans.files);
		if (damaged >= 0)
			printf("damaged:    %ld found at open (journal); hydractl verify checks all\n",
			       damaged);
		else
			printf("damaged:    unknown (run hydractl verify)\n");
	}
	io_free(io);
	free(vdir);
	return ret;
}

/* Every hydrafs mount, or the one holding the current dir. */
static int show_default(bool json)
{
	struct mount_entry *m;
	struct target t = { 0 };
	char empty[] = "", *cwd;
	size_t n, from = 0, to;
	int ret, rc = EXIT_OK;

	ret = mounts_list(&m, &n);
	if (ret < 0) {
		fprintf(stderr, "hydractl: cannot read /proc/self/mountinfo: %s\n",
			strerror(-ret));
		return EXIT_FAILURE_OP;
	}
	to = n;
	/* The current dir's mount alone, when it is in one. */
	cwd = getcwd(NULL, 0);
	for (size_t i = 0; cwd && i < n; i++) {
		size_t len = strlen(m[i].point);

		if (!strncmp(cwd, m[i].point, len) &&
		    (cwd[len] == '/' || !cwd[len])) {
			from = i;
			to = i + 1;
		}
	}
	free(cwd);
	if (json)
		printf("[");
	else if (!n)
		printf("no hydrafs mounts\n");
	for (size_t i = from; i < to; i++) {
		t.root = m[i].point;
		t.backing = m[i].source[0] == '/' ? m[i].source : NULL;
		t.rel = empty;
		t.is_mount = true;
		if (show(&t, json, i == from) < 0)
			rc = EXIT_FAILURE_OP;
	}
	if (json)
		printf("]\n");
	mounts_free(m, n);
	return n ? rc : EXIT_FOUND;
}

int cmd_status(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int c, shown = 0, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		if (c != 'j')
			return out_usage_error("status");
		json = true;
	}
	if (optind == argc)
		return show_default(json);
	if (json)
		printf("[");
	for (int i = optind; i < argc; i++) {
		struct target t;

		if (target_resolve(argv[i], &t) < 0) {
			rc = EXIT_FAILURE_OP;
			continue;
		}
		if (show(&t, json, shown++ == 0) < 0)
			rc = EXIT_FAILURE_OP;
		target_release(&t);
	}
	if (json)
		printf("]\n");
	return rc;
}
