// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hydractl restore: puts an earlier version back, through the mount, so
 * that the restore is itself a commit (validated, the current content kept
 * as a version) and can be undone the same way.
 */
#include "config.h"

#include "hydractl.h"

#include "core/record.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hydractl restore [--json] FILE [--version NAME | --at TIME] [--to PATH]\n"
		"\n"
		"Puts an earlier version of FILE back, through its hydrafs mount: the\n"
		"restore is a commit, validated like any write, and the content it\n"
		"replaces is kept as a version (so a restore can be undone).\n"
		"\n"
		"  --version NAME  the version named NAME (as hydractl versions lists it)\n"
		"  --at TIME       the newest version kept at or before TIME: a version\n"
		"                  name's time (2026-11-24T03-11-49.601Z) or ISO 8601\n"
		"                  (2026-11-24T03:11:49Z, 2026-11-24 03:11+01:00); UTC\n"
		"                  when no zone is given\n"
		"                  (default: the newest version)\n"
		"  --to PATH       write the version's content to PATH (a file, or a dir\n"
		"                  to write FILE's name in) and leave FILE alone; FILE\n"
		"                  may then be in a backing dir\n"
		"  --json          one JSON object on stdout\n"
		"  -h, --help      print this help and exit\n"
		"\n"
		"Exit: 0 restored, 1 the content was refused (a rule, see hydrafs(8)),\n"
		"2 usage error, 3 no such version, FILE not in a mount, or an I/O error.\n");
}

struct restore {
	const char *version;	/* --version */
	const char *at;		/* --at */
	const char *to;		/* --to */
	bool json;
};

/* Picks the version; its index or -1 (said why). */
static long pick(const struct restore *o, const struct vlist_entry *v,
		 size_t n, const char *file)
{
	int64_t at;
	long best = -1;

	if (!n) {
		fprintf(stderr, "hydractl: '%s' has no versions\n", file);
		return -1;
	}
	if (o->version) {
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(v[i].name, o->version))
				return (long)i;
		}
		fprintf(stderr, "hydractl: '%s' has no version '%s' (see hydractl versions)\n",
			file, o->version);
		return -1;
	}
	if (!o->at)
		return (long)n - 1;
	vlist_parse_time(o->at, &at);
	for (size_t i = 0; i < n; i++) {
		if (v[i].ms <= at)
			best = (long)i;
	}
	if (best < 0)
		fprintf(stderr, "hydractl: '%s' has no version at or before %s\n",
			file, o->at);
	return best;
}

static void print_result(const struct restore *o, const char *file,
			 const char *dest, const struct vlist_entry *e,
			 uint64_t size, const struct format_sum *sum)
{
	char hex[33];

	format_sum_hex(sum, hex);
	if (!o->json) {
		if (o->to)
			printf("wrote version %s of '%s' to '%s' (%llu bytes, xxh128 %s)\n",
			       e->name, file, dest, (unsigned long long)size, hex);
		else
			printf("restored '%s' to version %s (%llu bytes, xxh128 %s); "
			       "its previous content is kept as a version\n",
			       file, e->name, (unsigned long long)size, hex);
		return;
	}
	printf("{\"file\":");
	out_json_str(stdout, file);
	printf(",\"version\":");
	out_json_str(stdout, e->name);
	printf(",\"to\":");
	out_json_str(stdout, dest);
	printf(",\"size\":%llu,\"xxh128\":\"%s\"}\n", (unsigned long long)size,
	       hex);
}

static int run(const struct restore *o, const struct target *t,
	       const char *file)
{
	struct vlist_entry *v;
	struct format_sum sum;
	const char *stage;
	char *vdir, *src_path = NULL, *dest;
	uint64_t size;
	size_t n;
	long i;
	int src, dst, ret, rc = EXIT_FAILURE_OP;

	vdir = target_versions_dir(t, false);
	if (!vdir)
		return EXIT_FAILURE_OP;
	ret = vlist_load(vdir, t->rel, &v, &n);
	if (ret < 0) {
		fprintf(stderr, "hydractl: cannot list the versions of '%s': %s\n",
			file, strerror(-ret));
		free(vdir);
		return EXIT_FAILURE_OP;
	}
	dest = o->to ? copy_destination(o->to, t->rel) : target_join(t->root, t->rel);
	i = pick(o, v, n, file);
	if (i < 0 || !dest)
		goto out_free;
	src_path = target_join(vdir, t->rel);
	free(vdir);
	vdir = src_path ? target_join(src_path, v[i].name) : NULL;
	if (!vdir)
		goto out_free;
	src = open(vdir, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0) {
		fprintf(stderr, "hydractl: cannot open '%s': %s\n", vdir,
			strerror(errno));
		goto out_free;
	}
	/* A file deleted since gets the version's mode back. */
	dst = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		   v[i].st.st_mode & 07777);
	if (dst < 0) {
		fprintf(stderr, "hydractl: cannot open '%s' for writing: %s\n",
			dest, strerror(errno));
		close(src);
		goto out_free;
	}
	ret = copy_commit(src, dst, &sum, &size, &stage);
	close(src);
	if (copy_refused(ret, stage)) {
		copy_explain_refusal(dest, "content");
		rc = EXIT_FOUND;
	} else if (ret < 0) {
		fprintf(stderr, "hydractl: cannot %s '%s': %s\n", stage,
			!strcmp(stage, "read") ? vdir : dest, strerror(-ret));
	} else {
		print_result(o, file, dest, &v[i], size, &sum);
		rc = EXIT_OK;
	}
out_free:
	free(src_path);
	free(vdir);
	free(dest);
	vlist_free(v, n);
	return rc;
}

int cmd_restore(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "version", required_argument, NULL, 'v' },
		{ "at", required_argument, NULL, 'a' },
		{ "to", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct restore o = { 0 };
	struct target t;
	int64_t ms;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'v':
			o.version = optarg;
			break;
		case 'a':
			o.at = optarg;
			break;
		case 't':
			o.to = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		default:
			return out_usage_error("restore");
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "hydractl restore: %s\n",
			optind < argc ? "one FILE at a time" : "FILE is missing");
		return out_usage_error("restore");
	}
	if (o.version && o.at) {
		fprintf(stderr, "hydractl restore: --version and --at exclude each other\n");
		return out_usage_error("restore");
	}
	if (o.at && vlist_parse_time(o.at, &ms) < 0) {
		fprintf(stderr, "hydractl restore: '%s' is not a time\n", o.at);
		return out_usage_error("restore");
	}
	if (target_resolve(argv[optind], &t) < 0)
		return EXIT_FAILURE_OP;
	if (!t.is_mount && !o.to) {
		fprintf(stderr,
			"hydractl: '%s' is in a backing dir: restore through the mount, so\n"
			"that the restore is a commit that can be undone (or use --to)\n",
			argv[optind]);
		rc = EXIT_FAILURE_OP;
	} else if (!*t.rel) {
		fprintf(stderr, "hydractl restore: '%s' is the root, not a file\n",
			argv[optind]);
		rc = EXIT_USAGE;
	} else {
		rc = run(&o, &t, argv[optind]);
	}
	target_release(&t);
	return rc;
}
