// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the rules file (core/rules.c).  The whole input is
 * parsed as a rules file, and a parsed one answers lookups of paths taken
 * from the input.  The input is also split at its first NUL into a glob
 * and a path for rules_glob_match(), checked against a plain recursive
 * matcher when both are short.
 */
#include "config.h"

#include "core/rules.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REF_GLOB_MAX 48
#define REF_PATH_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ref {
	const char *g, *s;
	size_t m, n;
	signed char memo[REF_GLOB_MAX + 1][REF_PATH_MAX + 1];
};

/*
 * The class at @gi ('['): -1 when unterminated, else whether it holds
 * @c, with its length in *@len.  Written apart from rules.c on purpose.
 */
static int ref_class(const struct ref *x, size_t gi, unsigned char c,
		     size_t *len)
{
	const char *g = x->g;
	size_t j = gi + 1, m = x->m;
	bool negate = false, hit = false, first = true;

	if (j < m && (g[j] == '!' || g[j] == '^')) {
		negate = true;
		j++;
	}
	for (;;) {
		unsigned char lo, hi;

		if (j >= m)
			return -1;
		if (g[j] == ']' && !first)
			break;
		first = false;
		if (g[j] == '\\') {
			if (j + 1 >= m)
				return -1;
			j++;
		}
		lo = hi = (unsigned char)g[j++];
		if (j + 1 < m && g[j] == '-' && g[j + 1] != ']') {
			j++;
			if (g[j] == '\\') {
				if (j + 1 >= m)
					return -1;
				j++;
			}
			hi = (unsigned char)g[j++];
		}
		if (lo <= c && c <= hi)
			hit = true;
	}
	*len = j + 1 - gi;
	return c != '/' && hit != negate;
}

static bool ref_match(struct ref *x, size_t gi, size_t si)
{
	const char *g = x->g, *s = x->s;
	size_t m = x->m, n = x->n, run, len, k;
	bool ret = false, dir;
	int in;

	if (gi == m)
		return si == n;
	if (x->memo[gi][si] >= 0)
		return x->memo[gi][si];
	switch (g[gi]) {
	case '*':
		for (run = 1; gi + run < m && g[gi + run] == '*'; run++)
			;
		if (run == 1) {
			for (k = si; !ret; k++) {
				ret = ref_match(x, gi + 1, k);
				if (k == n || s[k] == '/')
					break;
			}
			break;
		}
		dir = (gi == 0 || g[gi - 1] == '/') && gi + run < m &&
		      g[gi + run] == '/';
		if (dir) {
			ret = ref_match(x, gi + run + 1, si);
			for (k = si; k < n && !ret; k++)
				if (s[k] == '/')
					ret = ref_match(x, gi + run + 1, k + 1);
			break;
		}
		for (k = si; k <= n && !ret; k++)
			ret = ref_match(x, gi + run, k);
		break;
	case '?':
		ret = si < n && s[si] != '/' && ref_match(x, gi + 1, si + 1);
		break;
	case '[':
		in = ref_class(x, gi, si < n ? (unsigned char)s[si] : 0, &len);
		if (in >= 0) {
			ret = si < n && in && ref_match(x, gi + len, si + 1);
			break;
		}
		ret = si < n && s[si] == '[' && ref_match(x, gi + 1, si + 1);
		break;
	case '\\':
		if (gi + 1 < m) {
			ret = si < n && s[si] == g[gi + 1] &&
			      ref_match(x, gi + 2, si + 1);
			break;
		}
		/* A final backslash is itself. */
		/* fallthrough */
	default:
		ret = si < n && s[si] == g[gi] && ref_match(x, gi + 1, si + 1);
		break;
	}
	x->memo[gi][si] = ret;
	return ret;
}

static void check_glob(const char *glob, const char *path)
{
	bool got = rules_glob_match(glob, path);
	const char *g = glob, *s = path, *slash;
	struct ref *x;

	while (*g == '/')
		g++;
	while (*s == '/')
		s++;
	slash = strrchr(s, '/');
	if (!strchr(glob, '/') && slash)
		s = slash + 1;
	if (strlen(g) > REF_GLOB_MAX || strlen(s) > REF_PATH_MAX)
		return;
	x = malloc(sizeof(*x));
	if (!x)
		return;
	x->g = g;
	x->s = s;
	x->m = strlen(g);
	x->n = strlen(s);
	memset(x->memo, -1, sizeof(x->memo));
	if (ref_match(x, 0, 0) != got)
		abort();
	free(x);
}

static void check_policy(const struct rules *r, const char *path)
{
	struct rule_policy p;

	rules_lookup(r, path, &p);
	if ((unsigned int)p.format >= FORMAT_COUNT ||
	    (unsigned int)p.invalid > RULE_INVALID_QUARANTINE ||
	    (unsigned int)p.mode > RULE_MODE_LOG ||
	    (unsigned int)p.recover > RULE_RECOVER_OFF ||
	    (unsigned int)p.versions > RULE_VERSIONS_OFF)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *path, *nl;
	struct rules_error err;
	struct rules *r = NULL;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	if (rules_parse(copy, size, &r, &err) == 0) {
		check_policy(r, "a.json");
		check_policy(r, "logs/x/y.log");
		/* The input's lines as paths: a section's glob may match. */
		for (char *line = copy; line < copy + size; line = nl + 1) {
			nl = memchr(line, '\n', (size_t)(copy + size - line));
			if (!nl)
				nl = copy + size;
			*nl = '\0';
			check_policy(r, line);
			if (nl - line > 2 && line[0] == '[')
				check_policy(r, line + 1);
		}
		rules_free(r);
	} else if (!err.reason || !err.line) {
		abort();
	}

	/* glob NUL path: copy still holds both, whatever the lines did. */
	memcpy(copy, data, size);
	path = memchr(copy, '\0', size);
	if (path) {
		check_glob(copy, path + 1);
	} else {
		check_glob(copy, "a/b.json");
		check_glob("**/*.json", copy);
	}
	free(copy);
	return 0;
}
