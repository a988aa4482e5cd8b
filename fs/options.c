// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "options.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	KEY_HELP,
	KEY_VERSION,
	KEY_FOREGROUND,
	KEY_DEBUG,
	KEY_SINGLE,
	KEY_ALLOW_OTHER,
	KEY_DEFAULT_PERMISSIONS,
};

#define OPT(t, f, v) { t, offsetof(struct fs_options, f), v }
static const struct fuse_opt opt_spec[] = {
	OPT("nonempty", nonempty, 1),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_KEY("default_permissions", KEY_DEFAULT_PERMISSIONS),
	OPT("entry_timeout=%lf", entry_timeout, 0),
	OPT("attr_timeout=%lf", attr_timeout, 0),
	OPT("rules=%s", rules, 0),
	OPT("commit_interval=%s", commit_interval, 0),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("-f", KEY_FOREGROUND),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_KEY("-s", KEY_SINGLE),
	FUSE_OPT_END
};

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct fs_options *o = data;

	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (!o->backing)
			o->backing = strdup(arg);
		else if (!o->mountpoint)
			o->mountpoint = strdup(arg);
		else if (!o->bad_arg)
			o->bad_arg = 1, fprintf(stderr,
				"hydrafs: unexpected argument '%s'\n", arg);
		return 0;
	case FUSE_OPT_KEY_OPT:
		if (arg[0] == '-' && strcmp(arg, "-o")) {
			if (!o->bad_arg)
				fprintf(stderr,
					"hydrafs: unknown option '%s' (see hydrafs --help)\n",
					arg);
			o->bad_arg = 1;
			return 0;
		}
		return 1;
	case KEY_HELP:
		o->show_help = 1;
		return 0;
	case KEY_VERSION:
		o->show_version = 1;
		return 0;
	case KEY_FOREGROUND:
		o->foreground = 1;
		return 0;
	case KEY_DEBUG:
		o->debug = o->foreground = 1;
		return 1;
	case KEY_SINGLE:
		o->single_thread = 1;
		return 0;
	/* Noted, and kept for libfuse. */
	case KEY_ALLOW_OTHER:
		o->allow_other = 1;
		return 1;
	case KEY_DEFAULT_PERMISSIONS:
		o->default_permissions = 1;
		return 1;
	}
	return 1;
}

int fs_options_parse(struct fuse_args *args, struct fs_options *o)
{
	if (fuse_opt_parse(args, o, opt_spec, opt_proc) < 0)
		return -EINVAL;
	return 0;
}
