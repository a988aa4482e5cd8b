// SPDX-License-Identifier: GPL-2.0-or-later
/* hydrafs: options, the checks before mounting, and the FUSE loop. */
#include "config.h"

#include "fs.h"
#include "options.h"

#include "core/version.h"
#include "kernel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>


static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hydrafs BACKING MOUNTPOINT [-f] [-d] [-s] [-o OPTION[,OPTION...]]\n"
		"\n"
		"Mounts the directory BACKING at MOUNTPOINT.\n"
		"\n"
		"  -f                      stay in the foreground\n"
		"  -d, -o debug            print every FUSE request (implies -f)\n"
		"  -s                      serve requests on one thread\n"
		"  -h, --help              print this help and exit\n"
		"  -V, --version           print the version and exit\n"
		"\n"
		"Options (-o):\n"
		"  allow_other             let other users use the mount (implies\n"
		"                          default_permissions; a non-root user needs\n"
		"                          user_allow_other in /etc/fuse.conf)\n"
		"  default_permissions     the kernel checks permissions by file mode\n"
		"  nonempty                allow a mount point that is not empty\n"
		"  entry_timeout=SECONDS   how long the kernel caches names (default 1)\n"
		"  attr_timeout=SECONDS    how long the kernel caches attributes (default 1)\n"
		"  rules=FILE              the rules file: formats and policies by glob\n"
		"                          (default: BACKING/.hydrafs/rules when present)\n"
		"  commit_interval=MS      how often appended records are committed to\n"
		"                          files in append mode (default 100; 0: only on\n"
		"                          fsync and close)\n"
		"  ro, rw, noatime, nosuid, nodev, noexec, fsname=NAME, ...\n"
		"                          the usual FUSE mount options\n"
		"\n"
		"Unmount with: fusermount3 -u MOUNTPOINT (or umount MOUNTPOINT as root).\n"
		"See hydrafs(8).\n");
}

/*
 * libfuse's messages, as one line each starting with "hydrafs: "; libfuse
 * sometimes builds a line from several calls, so collect until a newline.
 */
static void __attribute__((format(printf, 2, 0)))
log_to_stderr(enum fuse_log_level level, const char *fmt, va_list ap)
{
	static __thread char line[1024];
	static __thread size_t len;
	const char *p = line;

	if (level >= FUSE_LOG_DEBUG) {
		vfprintf(stderr, fmt, ap);
		return;
	}
	if (len < sizeof(line) - 1)
		vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	len = strlen(line);
	if (!len || line[len - 1] != '\n')
		return;
	line[--len] = '\0';
	for (char *c = line; *c; c++)
		if (*c == '`')
			*c = '\'';
	if (!strncmp(p, "fuse: ", 6))
		p += 6;
	fprintf(stderr, "hydrafs: %s\n", p);
	len = 0;
	line[0] = '\0';
}

static void __attribute__((format(printf, 2, 3), noreturn))
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("hydrafs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* Exits with a one-line message when @path is not a usable directory. */
static void check_dir(const char *what, const char *path, bool must_be_empty)
{
	struct stat st;
	struct dirent *de;
	DIR *d;

	if (stat(path, &st) < 0)
		die(1, "%s '%s': %s", what, path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die(1, "%s '%s' is not a directory", what, path);
	if (!must_be_empty)
		return;
	d = opendir(path);
	if (!d)
		die(1, "%s '%s': %s", what, path, strerror(errno));
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			closedir(d);
			die(1, "%s '%s' is not empty (-o nonempty mounts over it)",
			    what, path);
		}
	}
	closedir(d);
}

static bool is_inside(const char *inner, const char *outer)
{
	size_t n = strlen(outer);

	if (strcmp(outer, "/") == 0)
		return true;
	return !strncmp(inner, outer, n) && inner[n] == '/';
}

/* Replaces the paths by absolute ones: the daemon leaves its cwd. */
static void check_paths(struct fs_options *o)
{
	char b[PATH_MAX], m[PATH_MAX];
	struct stat st;
	int fd;

	check_dir("backing dir", o->backing, false);
	check_dir("mount point", o->mountpoint, false);
	if (!realpath(o->backing, b))
		die(1, "backing dir '%s': %s", o->backing, strerror(errno));
	if (!realpath(o->mountpoint, m))
		die(1, "mount point '%s': %s", o->mountpoint, strerror(errno));
	if (!strcmp(b, m))
		die(1, "mount point '%s' is the backing dir itself",
		    o->mountpoint);
	if (is_inside(m, b))
		die(1, "mount point '%s' is inside the backing dir '%s'",
		    o->mountpoint, o->backing);
	if (is_inside(b, m))
		die(1, "backing dir '%s' is inside the mount point '%s'",
		    o->backing, o->mountpoint);
	if (!o->nonempty)
		check_dir("mount point", o->mountpoint, true);
	free(o->backing);
	free(o->mountpoint);
	o->backing = strdup(b);
	o->mountpoint = strdup(m);
	if (!o->backing || !o->mountpoint)
		die(1, "out of memory");
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(1, "cannot use /dev/fuse: %s (is the fuse module loaded?)",
		    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(10, 229))
		die(1, "cannot use /dev/fuse: it is not the FUSE device");
	close(fd);
}

/* "0" to "3600000": milliseconds, nothing else. */
static int parse_interval(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 3600000)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
	/* An O_TRUNC open arrives as one OPEN, not SETATTR then OPEN. */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Locks stay in the kernel: consistent for every user of the mount. */
	conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
}

static void fs_destroy(void *userdata)
{
	struct hydrafs *h = userdata;

	atomic_store(&h->exiting, true);
	fs_files_release(h);
	fs_inodes_release(&h->inodes);
}

static struct fuse_lowlevel_ops fs_ops;

/*
 * The daemon holds O_PATH handles of the inodes the kernel knows (up to
 * fd_cache_size(), the rest reopened from file handles when used), and
 * the files open through it: raise the open-file limit as far as allowed,
 * as passthrough daemons do.
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	unsigned long max = 0;
	FILE *f;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	f = fopen("/proc/sys/fs/nr_open", "r");
	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 0;
		fclose(f);
	}
	if (max > rl.rlim_max) {
		struct rlimit want = { max, max };

		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/*
 * How many O_PATH handles of inodes may stay open: half the open-file
 * limit, the rest being for open files and commits.  HYDRAFS_FD_CACHE
 * sets it (tests use a small one).
 */
static unsigned long fd_cache_size(void)
{
	const char *env = getenv("HYDRAFS_FD_CACHE");
	struct rlimit rl;
	char *end;

	if (env) {
		unsigned long n = strtoul(env, &end, 10);

		if (*env && !*end && n >= 16)
			return n;
		die(EXIT_USAGE, "bad HYDRAFS_FD_CACHE '%s' (a number from 16)", env);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 1UL << 20;
	return rl.rlim_cur / 2 < 64 ? 64 : rl.rlim_cur / 2;
}

#define RULES_MAX (1 << 20)

/* Reads all of @fd (at most RULES_MAX bytes) into *@out; caller frees. */
static ssize_t read_all(int fd, char **out)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	while ((n = read(fd, buf + len, cap - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			free(buf);
			return n;
		}
		len += (size_t)n;
		if (len == cap) {
			char *p = cap < RULES_MAX ? realloc(buf, cap * 2) : NULL;

			if (!p) {
				free(buf);
				return cap < RULES_MAX ? -ENOMEM : -EFBIG;
			}
			buf = p;
			cap *= 2;
		}
	}
	*out = buf;
	return (ssize_t)len;
}

/*
 * The rules: -o rules=FILE, else the state dir's rules file when there is
 * one, else none (the defaults).  A bad file stops the mount.
 */
static struct rules *load_rules(struct io *io, const char *path)
{
	struct rules_error err = { 0 };
	struct rules *r = NULL;
	const char *shown = path ? path : STATE_DIR "/" RULES_NAME;
	char *text = NULL;
	ssize_t len;
	int fd, ret;

	fd = path ? open(path, O_RDONLY | O_CLOEXEC)
		  : io_open(io, STATE_DIR "/" RULES_NAME, O_RDONLY, 0);
	if (path && fd < 0)
		fd = -errno;
	if (fd == -ENOENT && !path)
		return NULL;
	if (fd < 0)
		die(EXIT_USAGE, "rules file '%s': %s", shown, strerror(-fd));
	len = read_all(fd, &text);
	close(fd);
	if (len < 0)
		die(EXIT_USAGE, "rules file '%s': %s", shown, strerror((int)-len));
	ret = rules_parse(text, (size_t)len, &r, &err);
	free(text);
	if (ret == -EINVAL)
		die(EXIT_USAGE, "rules file '%s' line %u: %s", shown, err.line,
		    err.reason);
	if (ret < 0)
		die(1, "rules file '%s': %s", shown, strerror(-ret));
	return r;
}

/*
 * The mount shows as type fuse.hydrafs with the backing dir as its source
 * (in /proc/mounts, df, findmnt), so that hydractl finds one from the
 * other; an fsname or subtype given with -o wins.
 */
static void name_mount(struct fuse_args *args, const char *backing)
{
	char *abs = realpath(backing, NULL), *opt;
	bool has_fsname = false, has_subtype = false;

	for (int i = 0; i < args->argc; i++) {
		has_fsname |= strstr(args->argv[i], "fsname=") != NULL;
		has_subtype |= strstr(args->argv[i], "subtype=") != NULL;
	}
	if (!has_subtype)
		fuse_opt_add_arg(args, "-osubtype=hydrafs");
	/* fuse_opt splits at commas and eats backslashes: such paths go unnamed. */
	if (!has_fsname && abs && !strpbrk(abs, ",\\ \t\n") &&
	    asprintf(&opt, "-ofsname=%s", abs) > 0) {
		fuse_opt_add_arg(args, opt);
		free(opt);
	}
	free(abs);
}

static bool valid_timeout(double t)
{
	return t >= 0 && t <= 86400 * 365;
}

int main(int argc, char *argv[])
{
	/*
	 * Static: what they own stays reachable when an error exits early,
	 * so the sanitizer build's leak check holds for the daemon's own work.
	 */
	static struct fuse_args args;
	static struct fs_options o = { .entry_timeout = 1.0, .attr_timeout = 1.0 };
	static struct hydrafs h;
	struct fuse_loop_config *loop_cfg;
	struct fuse_session *se;
	struct stat st;
	const char *faults;
	unsigned int interval;
	int ret;

	args = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);
	h.files.next = h.files.prev = &h.files;
	pthread_mutex_init(&h.files_lock, NULL);
	umask(0);
	fuse_set_log_func(log_to_stderr);
	if (fs_options_parse(&args, &o) < 0)
		return EXIT_USAGE;
	if (o.show_help || o.show_version) {
		if (o.show_help)
			usage(stdout);
		else
			printf("hydrafs %s (libfuse %s)\n", PACKAGE_VERSION,
			       fuse_pkgversion());
		fuse_opt_free_args(&args);
		free(o.backing);
		free(o.mountpoint);
		free(o.rules);
		free(o.commit_interval);
		return 0;
	}
	if (o.bad_arg)
		return EXIT_USAGE;
	if (!o.backing || !o.mountpoint) {
		fprintf(stderr, "hydrafs: missing %s (usage: hydrafs BACKING MOUNTPOINT [-o OPTIONS], see --help)\n",
			o.backing ? "mount point" : "backing dir");
		return EXIT_USAGE;
	}
	if (!valid_timeout(o.entry_timeout) || !valid_timeout(o.attr_timeout))
		die(EXIT_USAGE, "entry_timeout and attr_timeout take seconds from 0 to one year");
	interval = APPEND_INTERVAL_MS;
	if (o.commit_interval && parse_interval(o.commit_interval, &interval) < 0)
		die(EXIT_USAGE, "commit_interval takes milliseconds from 0 to 3600000, not '%s'",
		    o.commit_interval);
	check_paths(&o);
	name_mount(&args, o.backing);
	raise_fd_limit();
	/* Other users only ever get the kernel's permission checks. */
	if (o.allow_other && !o.default_permissions)
		fuse_opt_add_arg(&args, "-odefault_permissions");
	h.entry_timeout = o.entry_timeout;
	h.attr_timeout = o.attr_timeout;
	h.is_root = geteuid() == 0;
	ret = io_new(o.backing, &h.io);
	if (ret < 0)
		die(1, "backing dir '%s': %s", o.backing, strerror(-ret));
	faults = getenv("HYDRAFS_FAULTS");
	if (faults && io_fault_parse(h.io, faults) < 0)
		die(EXIT_USAGE, "bad HYDRAFS_FAULTS '%s'", faults);
	h.root.fd = io_rootfd(h.io);
	if (fstat(h.root.fd, &st) < 0)
		die(1, "backing dir '%s': %s", o.backing, strerror(errno));
	h.root.dev = st.st_dev;
	h.root.ino = st.st_ino;
	h.root.type = S_IFDIR;
	h.root.nlookup = 2;
	if (fs_inodes_init(&h.inodes, h.io, fd_cache_size()) < 0)
		die(1, "out of memory");
	h.root.table = &h.inodes;
	pthread_mutex_init(&h.root.lock, NULL);
	pthread_mutex_init(&h.root.fd_lock, NULL);
	h.root.data_fd = -1;
	ret = store_open(h.io, &h.store);
	if (ret < 0)
		die(1, "cannot open the state dir '%s/%s': %s", o.backing,
		    STATE_DIR, strerror(-ret));
	h.inodes.store = h.store;
	h.rules = load_rules(h.io, o.rules);
	store_set_rules(h.store, h.rules);
	ret = append_set_new(h.store, interval, &h.appends);
	if (ret < 0)
		die(1, "cannot start the committer: %s", strerror(-ret));

	fs_init_ops_entry(&fs_ops);
	fs_init_ops_file(&fs_ops);
	fs_init_ops_dir(&fs_ops);
	fs_init_ops_xattr(&fs_ops);
	fs_ops.init = fs_init;
	fs_ops.destroy = fs_destroy;

	ret = 1;
	se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), &h);
	if (!se) {
		ret = EXIT_USAGE;
		goto out_free;
	}
	h.se = se;
	if (fuse_session_mount(se, o.mountpoint) < 0)
		goto out_destroy;
	if (fs_kernel_install(se) < 0)
		goto out_unmount;
	if (fuse_set_signal_handlers(se) < 0)
		goto out_unmount;
	if (fuse_daemonize(o.foreground) < 0)
		goto out_signals;
	if (o.single_thread) {
		ret = fuse_session_loop(se);
	} else {
		loop_cfg = fuse_loop_cfg_create();
		if (!loop_cfg)
			goto out_signals;
		fuse_loop_cfg_set_max_threads(loop_cfg, 16);
		ret = fuse_session_loop_mt(se, loop_cfg);
		fuse_loop_cfg_destroy(loop_cfg);
	}
	/* A stop by SIGTERM, SIGINT or SIGHUP unmounts cleanly: success. */
	ret = (ret == 0 || ret == SIGTERM || ret == SIGINT || ret == SIGHUP) ? 0 : 1;
out_signals:
	fuse_remove_signal_handlers(se);
out_unmount:
	fuse_session_unmount(se);
out_destroy:
	fuse_session_destroy(se);
out_free:
	fs_files_release(&h);
	fs_inodes_release(&h.inodes);
	append_set_free(h.appends);
	store_close(h.store);
	rules_free(h.rules);
	io_free(h.io);
	fuse_opt_free_args(&args);
	free(o.backing);
	free(o.mountpoint);
	free(o.rules);
	free(o.commit_interval);
	return ret;
}
