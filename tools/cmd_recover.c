// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hydractl recover: replaces a damaged file's content with its recovered
 * view (core/salvage.h): its valid records, or its newest version that
 * verifies.  Through a mount the view is written like any rewrite (O_TRUNC,
 * write, fsync, close), so that the commit keeps the damaged bytes as a
 * version and the recovery can be undone with hydractl restore.  In a
 * backing dir that no daemon has mounted, the same commit is made with the
 * core library (stage_begin(), stage_commit()), as the daemon would.
 */
#include "config.h"

#include "hydractl.h"

#include "core/record.h"
#include "core/salvage.h"
#include "core/store.h"
#include "core/verify.h"
#include "core/version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUF_SIZE (1024 * 1024)

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hydractl recover [--json] [--to PATH] FILE\n"
		"\n"
		"Replaces the content of FILE, when it is damaged, with its recovered\n"
		"view: for jsonl, csv, tsv and text its valid records in order (a text\n"
		"line with a NUL byte or invalid UTF-8 is damaged), for json and opaque\n"
		"files (or as the rules say) its newest version that verifies.  Through\n"
		"a mount the view is a commit: the damaged content is kept as a version\n"
		"(see hydractl versions), so the recovery can be undone with hydractl\n"
		"restore.  FILE may also be in a backing dir that is not mounted; the\n"
		"same commit is then made without a daemon.  A file that is not\n"
		"damaged is left alone.\n"
		"\n"
		"  --to PATH   write the view to PATH (a file, or a dir to write FILE's\n"
		"              name in) and leave FILE alone\n"
		"  --json      one JSON object on stdout\n"
		"  -h, --help  print this help and exit\n"
		"\n"
		"Exit: 0 recovered, or not damaged; 1 damaged but no view (recover = off,\n"
		"nothing valid and no version that verifies, or damage in no record), or\n"
		"hydrafs refused the view; 2 usage error; 3 FILE not in a hydrafs, its\n"
		"backing dir unreadable or mounted elsewhere, or an I/O error.\n");
}

struct recover {
	const char *to;		/* --to */
	bool json;
};

/* What one recovery found and did. */
struct outcome {
	const char *file;	/* as given */
	struct verify_result v;
	struct salvage_stats stats;
	const char *no_view;	/* static: why there is no view, or NULL */
	char *dest;		/* where the view went */
	uint64_t size;
	struct format_sum sum;
	char kept_as[VERSION_NAME_MAX];	/* the damaged content's version */
};

/* The file to recover, in its backing dir. */
struct source {
	struct io *io;
	int fd;			/* O_RDONLY */
	struct stat st;
	int versionsfd;		/* O_PATH: .hydrafs/versions */
	struct rules *rules;
	struct rule_policy pol;
};

static void source_release(struct source *src)
{
	if (src->fd >= 0)
		close(src->fd);
	if (src->versionsfd >= 0)
		close(src->versionsfd);
	rules_free(src->rules);
	io_free(src->io);
}

static int source_open(const struct target *t, const char *file,
		       struct source *src)
{
	int ret;

	*src = (struct source){ .fd = -1, .versionsfd = -1 };
	if (!t->backing) {
		fprintf(stderr, "hydractl: the backing dir of '%s' is not known\n",
			file);
		return -ENODEV;
	}
	ret = io_new(t->backing, &src->io);
	if (ret == 0)
		src->fd = ret = io_open(src->io, t->rel, O_RDONLY | O_NOFOLLOW, 0);
	if (ret >= 0)
		ret = io_fstat(src->io, src->fd, &src->st);
	if (ret >= 0 && !S_ISREG(src->st.st_mode))
		ret = -EINVAL;
	if (ret >= 0)
		src->versionsfd = ret = io_open(src->io, STATE_DIR "/" STATE_VERSIONS,
						O_PATH | O_DIRECTORY, 0);
	if (ret < 0) {
		fprintf(stderr, "hydractl: cannot read '%s' in the backing dir '%s': %s\n",
			t->rel, t->backing,
			ret == -EINVAL ? "not a regular file" : strerror(-ret));
		source_release(src);
		return ret;
	}
	src->rules = target_rules(t);
	salvage_policy(src->io, src->fd, src->rules, t->rel, &src->pol);
	return 0;
}

static bool is_scratch(const char *rel)
{
	const char *base = strrchr(rel, '/');

	return store_is_scratch(base ? base + 1 : rel);
}

/* The mount point of @backing when a hydrafs has it mounted, else NULL. */
static char *mounted_at(const char *backing)
{
	struct mount_entry *m;
	struct stat a, b;
	char *point = NULL;
	size_t n;

	if (stat(backing, &a) < 0 || mounts_list(&m, &n) < 0)
		return NULL;
	for (size_t i = 0; i < n && !point; i++) {
		if (stat(m[i].source, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			point = strdup(m[i].point);
	}
	mounts_free(m, n);
	return point;
}

/* An anonymous temporary file for the view (never seen by anyone else). */
static int temp_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd < 0 ? -errno : fd;
	snprintf(path, sizeof(path), "%s/hydractl-recover.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	unlink(path);
	return fd;
}

/* Writes the view to out->dest (a path: --to, or FILE through the mount). */
static int write_path(int view, bool create, mode_t mode, struct outcome *out)
{
	const char *stage;
	int dst, ret;

	dst = open(out->dest, O_WRONLY | O_TRUNC | O_CLOEXEC |
				      (create ? O_CREAT : 0), mode);
	if (dst < 0) {
		fprintf(stderr, "hydractl: cannot open '%s' for writing: %s\n",
			out->dest, strerror(errno));
		return EXIT_FAILURE_OP;
	}
	ret = copy_commit(view, dst, &out->sum, &out->size, &stage);
	if (!create && copy_refused(ret, stage)) {
		copy_explain_refusal(out->dest, "view");
		return EXIT_FOUND;
	}
	if (ret < 0) {
		fprintf(stderr, "hydractl: cannot %s '%s': %s\n", stage,
			out->dest, strerror(-ret));
		return EXIT_FAILURE_OP;
	}
	return EXIT_OK;
}

/* Feeds the view into @st, the stage of the file, and hashes it. */
static int stage_view(struct store *s, struct stage *st, int view,
		      struct outcome *out)
{
	struct format_check *c;
	struct format_error err;
	char *buf = malloc(BUF_SIZE);
	ssize_t n, w = 0;
	int ret;

	ret = format_check_new(FORMAT_OPAQUE, &c);
	if (ret < 0 || !buf) {
		free(buf);
		return ret < 0 ? ret : -ENOMEM;
	}
	out->size = 0;
	while ((n = pread(view, buf, BUF_SIZE, (off_t)out->size)) > 0) {
		w = stage_pwrite(s, st, buf, (size_t)n, (off_t)out->size);
		if (w <= 0) {
			w = w < 0 ? w : -EIO;
			break;
		}
		format_check_feed(c, buf, (size_t)w);
		out->size += (uint64_t)w;
	}
	ret = n < 0 ? -errno : w < 0 ? (int)w : 0;
	format_check_finish(c, &out->sum, &err);
	format_check_free(c);
	free(buf);
	return ret;
}

/*
 * Whether the file behind @fd is one the daemon stages and commits (one
 * link, no scratch name): 0, else -EPERM (said why) or -errno.
 */
static int protected(struct store *s, struct io *io, int fd,
		     const struct outcome *out)
{
	char relpath[4096];
	struct stat st;
	int ret;

	ret = io_fstatat_empty(io, fd, &st);
	ret = ret < 0 ? ret
		      : store_is_protected(s, fd, &st, relpath, sizeof(relpath));
	if (ret == 0) {
		fprintf(stderr,
			"hydractl: '%s' has several links: a commit would split\n"
			"them (use --to)\n", out->file);
		return -EPERM;
	}
	return ret < 0 ? ret : 0;
}

/*
 * No daemon: the commit a rewrite through a mount would make, with the
 * core library (validated, the damaged content kept as a version, the
 * journal told).
 */
static int commit_offline(const struct target *t, struct source *src,
			  int view, struct outcome *out)
{
	struct who who = { .uid = getuid(), .pid = getpid(), .comm = "hydractl" };
	struct stage *stage = NULL;
	struct store *s;
	struct stat nst;
	int fd, nfd, ret, rc = EXIT_FAILURE_OP;

	ret = store_open(src->io, &s);
	if (ret < 0) {
		fprintf(stderr, "hydractl: cannot open the state dir of '%s': %s\n",
			t->backing, strerror(-ret));
		return rc;
	}
	store_set_rules(s, src->rules);
	fd = io_open(src->io, t->rel, O_PATH | O_NOFOLLOW, 0);
	ret = fd < 0 ? fd : protected(s, src->io, fd, out);
	if (ret == 0)
		ret = stage_begin(s, fd, true, &stage);
	if (ret == 0)
		ret = stage_view(s, stage, view, out);
	if (ret == 0)
		ret = stage_commit(s, stage, fd, &who, true, &nfd, &nst);
	if (ret == 0) {
		stage = NULL;
		if (nfd >= 0)
			close(nfd);
		rc = EXIT_OK;
	} else if (ret == 1) {
		stage = NULL;
		copy_explain_refusal(out->dest, "view");
		rc = EXIT_FOUND;
	} else if (ret != -EPERM) {
		fprintf(stderr, "hydractl: cannot commit the view of '%s': %s\n",
			out->file, strerror(-ret));
	}
	/* A stage never committed is kept as an orphan: nothing is lost. */
	stage_free(s, stage);
	if (fd >= 0)
		close(fd);
	store_close(s);
	return rc;
}

/* The version that now holds the damaged content (the same inode). */
static void find_kept_as(const struct target *t, const struct stat *damaged,
			 struct outcome *out)
{
	struct vlist_entry *v;
	char *vdir = target_versions_dir(t, true);
	size_t n = 0;

	if (vdir && vlist_load(vdir, t->rel, &v, &n) == 0) {
		for (size_t i = n; i-- > 0;) {
			if (v[i].st.st_ino == damaged->st_ino &&
			    v[i].st.st_dev == damaged->st_dev) {
				strcpy(out->kept_as, v[i].name);
				break;
			}
		}
		vlist_free(v, n);
	}
	free(vdir);
}

static void json_str_or_null(const char *s)
{
	if (s)
		out_json_str(stdout, s);
	else
		printf("null");
}

static void print_json(const struct outcome *out, bool recovered)
{
	const struct salvage_stats *st = &out->stats;
	bool damaged = out->v.state == VERIFY_DAMAGED;
	char hex[33];

	printf("{\"file\":");
	out_json_str(stdout, out->file);
	printf(",\"state\":\"%s\",\"damaged\":%s,\"reason\":",
	       verify_state_name(out->v.state), damaged ? "true" : "false");
	json_str_or_null(out->v.why);
	printf(",\"recovered\":%s", recovered ? "true" : "false");
	if (damaged) {
		printf(",\"format\":\"%s\",\"how\":", format_kind_name(st->format));
		json_str_or_null(!recovered ? NULL
				 : st->how == RULE_RECOVER_LAST_GOOD ? "last-good"
								     : "salvage");
		printf(",\"why\":");
		json_str_or_null(out->no_view ? out->no_view : st->why);
	}
	if (recovered) {
		format_sum_hex(&out->sum, hex);
		printf(",\"kept\":%llu,\"dropped\":%llu,\"dropped_bytes\":%llu,"
		       "\"first_dropped\":",
		       (unsigned long long)st->kept,
		       (unsigned long long)st->dropped,
		       (unsigned long long)st->dropped_bytes);
		if (st->dropped)
			printf("{\"offset\":%llu,\"reason\":",
			       (unsigned long long)st->first_offset);
		json_str_or_null(st->dropped ? st->first_reason : NULL);
		printf("%s,\"version\":", st->dropped ? "}" : "");
		json_str_or_null(st->how == RULE_RECOVER_LAST_GOOD ? st->version
								   : NULL);
		printf(",\"to\":");
		out_json_str(stdout, out->dest);
		printf(",\"size\":%llu,\"xxh128\":\"%s\",\"kept_as\":",
		       (unsigned long long)out->size, hex);
		json_str_or_null(out->kept_as[0] ? out->kept_as : NULL);
	}
	printf("}\n");
}

static void print_human(const struct recover *o, const struct outcome *out)
{
	const struct salvage_stats *st = &out->stats;

	if (o->to)
		printf("wrote the recovered view of '%s' to '%s'", out->file,
		       out->dest);
	else
		printf("recovered '%s'", out->file);
	if (st->how == RULE_RECOVER_LAST_GOOD)
		printf(" from version %s, the newest that verifies%s%s%s",
		       st->version, st->why ? " (" : "", st->why ? st->why : "",
		       st->why ? ")" : "");
	else
		printf(": kept %llu records of %s, dropped %llu (%llu bytes; "
		       "the first at byte %llu: %s)",
		       (unsigned long long)st->kept, format_kind_name(st->format),
		       (unsigned long long)st->dropped,
		       (unsigned long long)st->dropped_bytes,
		       (unsigned long long)st->first_offset,
		       st->first_reason ? st->first_reason : "invalid");
	printf(", %llu bytes\n", (unsigned long long)out->size);
	if (out->kept_as[0])
		printf("the damaged content is kept as version %s\n",
		       out->kept_as);
	else if (!o->to)
		printf("the damaged content is kept as a version (see hydractl versions)\n");
}

/* Builds the view into a temporary file; the fd, or -1 when there is none. */
static int build_view(const struct target *t, struct source *src,
		      struct outcome *out, int *rc)
{
	int view, ret;

	view = temp_file();
	if (view < 0) {
		fprintf(stderr, "hydractl: cannot make a temporary file: %s\n",
			strerror(-view));
		*rc = EXIT_FAILURE_OP;
		return -1;
	}
	ret = salvage_build(src->io, src->versionsfd, t->rel, src->fd,
			    &src->pol, view, &out->stats);
	/* Every record valid: dropping none would only hide the damage. */
	if (ret == 0 && out->stats.how == RULE_RECOVER_SALVAGE &&
	    !out->stats.dropped) {
		out->no_view = "every record is valid: the damage is in no record "
			       "that can be dropped (see hydractl versions, restore)";
		ret = -ENOENT;
	}
	if (ret == -ENOENT && !out->no_view)
		out->no_view = out->stats.why;
	if (ret < 0) {
		if (ret == -ENOENT)
			fprintf(stderr, "hydractl: no recovered view of '%s': %s\n",
				out->file, out->no_view);
		else
			fprintf(stderr, "hydractl: cannot salvage '%s': %s\n",
				out->file, strerror(-ret));
		*rc = ret == -ENOENT ? EXIT_FOUND : EXIT_FAILURE_OP;
		close(view);
		return -1;
	}
	return view;
}

static int run(const struct recover *o, const struct target *t,
	       const char *file)
{
	struct outcome out = { .file = file };
	struct source src;
	char *mount = NULL;
	int view, ret, rc = EXIT_FAILURE_OP;

	if (!t->is_mount && !o->to && t->backing &&
	    (mount = mounted_at(t->backing))) {
		fprintf(stderr,
			"hydractl: '%s' is in a backing dir mounted at '%s': recover\n"
			"through the mount (or use --to)\n", file, mount);
		free(mount);
		return EXIT_FAILURE_OP;
	}
	if (source_open(t, file, &src) < 0)
		return EXIT_FAILURE_OP;
	ret = verify_fd(src.io, src.fd, &src.st, src.pol.format, NULL, NULL,
			&out.v);
	if (ret < 0) {
		fprintf(stderr, "hydractl: cannot read '%s': %s\n", file,
			strerror(-ret));
		goto out_release;
	}
	rc = EXIT_OK;
	if (out.v.state != VERIFY_DAMAGED) {
		if (o->json)
			print_json(&out, false);
		else
			printf("'%s' is not damaged (%s): nothing to recover\n",
			       file, verify_state_name(out.v.state));
		goto out_release;
	}
	if (!o->to && is_scratch(t->rel)) {
		fprintf(stderr,
			"hydractl: '%s' is a scratch file: hydrafs keeps no versions of\n"
			"it, so the damaged content would be lost (use --to)\n",
			file);
		rc = EXIT_FAILURE_OP;
		goto out_release;
	}
	view = build_view(t, &src, &out, &rc);
	if (view < 0) {
		if (o->json && rc == EXIT_FOUND)
			print_json(&out, false);
		goto out_release;
	}
	out.dest = o->to ? copy_destination(o->to, t->rel)
			 : target_join(t->root, t->rel);
	if (!out.dest)
		rc = EXIT_FAILURE_OP;
	else if (o->to)
		rc = write_path(view, true, src.st.st_mode & 0666, &out);
	else if (t->is_mount)
		rc = write_path(view, false, 0, &out);
	else
		rc = commit_offline(t, &src, view, &out);
	close(view);
	if (rc == EXIT_OK && !o->to)
		find_kept_as(t, &src.st, &out);
	if (rc == EXIT_OK && o->json)
		print_json(&out, true);
	else if (rc == EXIT_OK)
		print_human(o, &out);
	free(out.dest);
out_release:
	source_release(&src);
	return rc;
}

int cmd_recover(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct recover o = { 0 };
	struct target t;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 't':
			o.to = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		default:
			return out_usage_error("recover");
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "hydractl recover: %s\n",
			optind < argc ? "one FILE at a time" : "FILE is missing");
		return out_usage_error("recover");
	}
	if (target_resolve(argv[optind], &t) < 0)
		return EXIT_FAILURE_OP;
	if (!*t.rel) {
		fprintf(stderr, "hydractl recover: '%s' is the root, not a file\n",
			argv[optind]);
		rc = EXIT_USAGE;
	} else {
		rc = run(&o, &t, argv[optind]);
	}
	target_release(&t);
	return rc;
}
