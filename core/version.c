// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "version.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Extensions longer than this are not extensions but part of the name. */
#define EXT_MAX 16

const char *version_ext(const char *file)
{
	const char *dot = strrchr(file, '.');

	if (!dot || dot == file || !dot[1] || strlen(dot) > EXT_MAX)
		return "";
	for (const char *p = dot + 1; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return "";
	return dot;
}

int version_name(char *buf, size_t size, const struct timespec *t,
		 const char *file, unsigned int seq)
{
	struct tm tm;
	char when[32], extra[16] = "";
	int n;

	if (seq > 999 || !gmtime_r(&t->tv_sec, &tm))
		return -EINVAL;
	strftime(when, sizeof(when), "%Y-%m-%dT%H-%M-%S", &tm);
	/* Three digits, so that ~010 sorts after ~002. */
	if (seq)
		snprintf(extra, sizeof(extra), "~%03u", seq);
	n = snprintf(buf, size, "%s.%03ldZ%s%s", when, t->tv_nsec / 1000000,
		     extra, version_ext(file));
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

bool version_name_is_valid(const char *name)
{
	/* 2026-11-23T11-05-09.123Z */
	static const char shape[] = "dddd-dd-ddTdd-dd-dd.dddZ";
	size_t i;

	for (i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)name[i])
				    : name[i] != shape[i])
			return false;
	}
	name += i;
	if (*name == '~') {
		/* ~001 to ~999, as version_name() writes them */
		if (!isdigit((unsigned char)name[1]) ||
		    !isdigit((unsigned char)name[2]) ||
		    !isdigit((unsigned char)name[3]) ||
		    !strncmp(name + 1, "000", 3))
			return false;
		name += 4;
	}
	if (!*name)
		return true;
	/* An extension version_ext() gives, and nothing else. */
	{
		char probe[EXT_MAX + 2] = "x";

		if (*name != '.' || strlen(name) > EXT_MAX)
			return false;
		strcpy(probe + 1, name);
		return !strcmp(version_ext(probe), name);
	}
}
