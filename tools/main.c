// SPDX-License-Identifier: GPL-2.0-or-later
/* hydractl: the tools.  Parsing and dispatch; one file per subcommand. */
#include "config.h"

#include "hydractl.h"

#include <stdio.h>
#include <string.h>

static const struct command {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const char *summary;
} commands[] = {
	{ "verify", cmd_verify, "check every file and version against its record" },
	{ "versions", cmd_versions, "list the versions of a file" },
	{ "restore", cmd_restore, "put an earlier version back, through the mount" },
	{ "recover", cmd_recover, "replace a damaged file by its recovered view" },
	{ "status", cmd_status, "the mounts and what their versions tree holds" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hydractl COMMAND [OPTIONS] [ARGS...]\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out,
		"\n"
		"  -h, --help      print this help and exit\n"
		"  -V, --version   print the version and exit\n"
		"\n"
		"'hydractl COMMAND --help' describes a command; every command takes\n"
		"--json.  Exit: 0 ok, 1 the command found something (see its help),\n"
		"2 usage error, 3 operational error.  See hydractl(1).\n");
}

int main(int argc, char *argv[])
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("hydractl %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "hydractl: unknown command '%s' (see hydractl --help)\n",
		argv[1]);
	return EXIT_USAGE;
}
