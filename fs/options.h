/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * options: hydrafs's command line.  The two paths, -f/-d/-s, --help and
 * --version, and the -o options hydrafs itself reads; every other -o option
 * is left in the args for libfuse (which refuses unknown ones).
 * Not thread-safe (used once, at start).
 */
#ifndef HYDRAFS_OPTIONS_H
#define HYDRAFS_OPTIONS_H

#define FUSE_USE_VERSION 314
#include <fuse_opt.h>

#define EXIT_USAGE 2

struct fs_options {
	char *backing;
	char *mountpoint;
	int foreground;
	int debug;
	int single_thread;
	int nonempty;
	int allow_other;
	int default_permissions;
	double entry_timeout;
	double attr_timeout;
	char *rules;		/* -o rules=FILE, or NULL; caller frees */
	char *commit_interval;	/* -o commit_interval=MS, or NULL; caller frees */
	int show_help;
	int show_version;
	int bad_arg;
};

/*
 * Parses @args into @o (zeroed by the caller, defaults set), leaving the
 * options for libfuse in @args; prints a one-line error for bad usage and
 * sets o->bad_arg.  0, or -EINVAL when libfuse's parser failed.
 * @o->backing and @o->mountpoint: caller frees.
 */
int fs_options_parse(struct fuse_args *args, struct fs_options *o);

#endif
