// SPDX-License-Identifier: GPL-2.0-or-later
/* hydractl versions: the versions of one file, oldest first. */
#include "config.h"

#include "hydractl.h"

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
		"computed) and whether its content verifies.\n"
		"\n"
		"  --json       one JSON array on stdout\n"
		"  -h, --help   print this help and exit\n"
		"\n"
		"Exit: 0 versions listed, 1 FILE has no versions, 2 usage error,\n"
		"3 FILE or its versions could not be read.\n");
}

/* One listed version, verified. */
struct row {
	char sum[33];
	const char *state;	/* "ok", "unrecorded", "changed", "damaged", "unreadable" */
	const char *why;
};

static void check_one(struct io *io, const char *name, enum format_kind kind,
		      struct row *row)
{
	struct verify_result res;
	struct stat st;
	int fd, ret;

	row->state = "unreadable";
	row->why = NULL;
	strcpy(row->sum, "-");
	fd = io_open(io, name, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0) {
		row->why = strerror(-fd);
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

		check_one(io, v[i].name, pol.format, &row);
		vlist_format_time(v[i].ms, when);
		if (!json) {
			printf("%s  %s  %12llu  %s  %s%s%s\n", v[i].name, when,
			       (unsigned long long)v[i].st.st_size, row.sum,
			       row.state, row.why ? ": " : "",
			       row.why ? row.why : "");
			continue;
		}
		printf("%s{\"name\":", i ? "," : "");
		out_json_str(stdout, v[i].name);
		printf(",\"time\":\"%s\",\"size\":%llu,\"xxh128\":", when,
		       (unsigned long long)v[i].st.st_size);
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
