// SPDX-License-Identifier: GPL-2.0-or-later
/* hydractl: the tools.  Parsing and dispatch; one file per subcommand. */
#include "config.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hydractl COMMAND [ARGS...]\n"
		"\n"
		"  -h, --help      print this help and exit\n"
		"  -V, --version   print the version and exit\n"
		"\n"
		"No commands yet: status, versions, restore, verify and recover\n"
		"come with the versioning work (see README).\n");
}

int main(int argc, char *argv[])
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("hydractl %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "hydractl: unknown command '%s' (see hydractl --help)\n",
		argv[1]);
	return 2;
}
