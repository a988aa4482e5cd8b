// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: hydrafs's command line (fs/options.c on top of
 * libfuse's fuse_opt_parse), from NUL-separated arguments.
 * fuzz-sources: fs/options.c
 * fuzz-pkg: fuse3
 */
#include "config.h"

#include "fs/options.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 2];
	struct fs_options o = { .entry_timeout = 1.0, .attr_timeout = 1.0 };
	struct fuse_args args;
	int argc = 1;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = (char *)"hydrafs";
	for (size_t i = 0; i < size && argc <= MAX_ARGS; argc++) {
		argv[argc] = copy + i;
		i += strlen(copy + i) + 1;
	}
	argv[argc] = NULL;
	args = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);
	fs_options_parse(&args, &o);
	fuse_opt_free_args(&args);
	free(o.backing);
	free(o.rules);
	free(o.commit_interval);
	free(o.mountpoint);
	free(copy);
	return 0;
}
