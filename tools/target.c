// SPDX-License-Identifier: GPL-2.0-or-later
/* Where a path lives: a hydrafs mount or a backing dir. */
#include "config.h"

#include "hydractl.h"

#include "core/version.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RULES_MAX (1024 * 1024)

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
					(s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* Fills @m from one mountinfo line when it is a hydrafs mount; 1, 0, -errno. */
static int parse_line(char *line, struct mount_entry *m)
{
	char *field[5], *save = NULL, *tok, *type, *source;
	int i;

	tok = strtok_r(line, " \n", &save);
	for (i = 0; tok && i < 5; i++) {
		field[i] = tok;
		tok = strtok_r(NULL, " \n", &save);
	}
	if (i < 5)
		return 0;
	/* Optional fields up to "-", then type and source. */
	while (tok && strcmp(tok, "-"))
		tok = strtok_r(NULL, " \n", &save);
	type = strtok_r(NULL, " \n", &save);
	source = strtok_r(NULL, " \n", &save);
	if (!type || !source || strcmp(type, "fuse.hydrafs"))
		return 0;
	unescape(field[4]);
	unescape(source);
	m->point = strdup(field[4]);
	m->source = strdup(source);
	if (!m->point || !m->source) {
		free(m->point);
		free(m->source);
		return -ENOMEM;
	}
	return 1;
}

int mounts_list(struct mount_entry **out, size_t *n)
{
	struct mount_entry *v = NULL, *grown;
	size_t count = 0;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int ret = 0;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		struct mount_entry m;

		ret = parse_line(line, &m);
		if (ret <= 0)
			continue;
		grown = realloc(v, (count + 1) * sizeof(*v));
		if (!grown) {
			free(m.point);
			free(m.source);
			ret = -ENOMEM;
			break;
		}
		v = grown;
		v[count++] = m;
		ret = 0;
	}
	free(line);
	fclose(f);
	if (ret < 0) {
		mounts_free(v, count);
		return ret;
	}
	*out = v;
	*n = count;
	return 0;
}

void mounts_free(struct mount_entry *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++) {
		free(m[i].point);
		free(m[i].source);
	}
	free(m);
}

char *target_join(const char *dir, const char *rel)
{
	char *s;

	if (!*rel)
		return strdup(dir);
	if (!*dir)
		return strdup(rel);
	if (asprintf(&s, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", rel) < 0)
		return NULL;
	return s;
}

/* The absolute path of @path, which need not exist (its parent must). */
static char *absolute(const char *path)
{
	char *abs = realpath(path, NULL), *copy, *dir, *full;
	const char *base;

	if (abs || errno != ENOENT)
		return abs;
	copy = strdup(path);
	if (!copy)
		return NULL;
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		free(copy);
		errno = ENOENT;
		return NULL;
	}
	dir = realpath(dirname(copy), NULL);
	free(copy);
	if (!dir)
		return NULL;
	full = target_join(dir, base);
	free(dir);
	return full;
}

/* Whether @path is @top or below it; sets *@rest to what follows. */
static bool is_under(const char *path, const char *top, const char **rest)
{
	size_t n = strlen(top);

	if (!strcmp(top, "/")) {
		*rest = path + 1;
		return true;
	}
	if (strncmp(path, top, n) || (path[n] && path[n] != '/'))
		return false;
	*rest = path[n] ? path + n + 1 : path + n;
	return true;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The mount holding @abs (the deepest one). */
static int find_mount(const char *abs, struct target *t)
{
	struct mount_entry *m;
	const char *rest, *best_rest = NULL;
	size_t n, best = 0, i;
	int ret;

	ret = mounts_list(&m, &n);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		if (!is_under(abs, m[i].point, &rest))
			continue;
		if (!best_rest || strlen(m[i].point) > strlen(m[best].point)) {
			best = i;
			best_rest = rest;
		}
	}
	if (best_rest) {
		t->is_mount = true;
		t->root = strdup(m[best].point);
		t->rel = strdup(best_rest);
		if (m[best].source[0] == '/' && is_dir(m[best].source))
			t->backing = strdup(m[best].source);
		ret = t->root && t->rel ? 1 : -ENOMEM;
	}
	mounts_free(m, n);
	return ret;
}

/* The backing dir holding @abs: the nearest dir with .hydrafs/versions. */
static int find_backing(const char *abs, struct target *t)
{
	char *dir = strdup(abs), *probe, *slash;

	if (!dir)
		return -ENOMEM;
	for (;;) {
		probe = target_join(dir, STATE_DIR "/" STATE_VERSIONS);
		if (!probe)
			break;
		if (is_dir(probe)) {
			free(probe);
			t->root = dir;
			t->backing = strdup(dir);
			t->rel = strdup(abs + strlen(dir) + (strcmp(dir, "/") &&
							     abs[strlen(dir)]));
			return t->backing && t->rel ? 1 : -ENOMEM;
		}
		free(probe);
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			break;
		*slash = '\0';
	}
	free(dir);
	return 0;
}

static bool first_is(const char *rel, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(rel, name, n) && (rel[n] == '/' || !rel[n]);
}

int target_resolve(const char *path, struct target *t)
{
	struct target r = { 0 };
	char *abs = absolute(path);
	int ret;

	if (!abs) {
		ret = -errno;
		fprintf(stderr, "hydractl: cannot resolve '%s': %s\n", path,
			strerror(errno));
		return ret;
	}
	ret = find_mount(abs, &r);
	if (ret == 0)
		ret = find_backing(abs, &r);
	free(abs);
	if (ret == 0) {
		fprintf(stderr,
			"hydractl: '%s' is neither in a hydrafs mount nor in a backing dir\n",
			path);
		ret = -ENODEV;
	} else if (ret > 0 && first_is(r.rel, r.is_mount ? BACKUPS_NAME
							   : STATE_DIR)) {
		fprintf(stderr, "hydractl: '%s' is inside %s: name the file itself\n",
			path, r.is_mount ? BACKUPS_NAME : "the state dir");
		ret = -EINVAL;
	} else if (ret < 0) {
		fprintf(stderr, "hydractl: cannot resolve '%s': %s\n", path,
			strerror(-ret));
	}
	if (ret < 0) {
		target_release(&r);
		return ret;
	}
	*t = r;
	return 0;
}

void target_release(struct target *t)
{
	if (!t)
		return;
	free(t->root);
	free(t->backing);
	free(t->rel);
	t->root = t->backing = t->rel = NULL;
}

char *target_versions_dir(const struct target *t, bool prefer_backing)
{
	char *dir;

	if (t->backing && (!t->is_mount || prefer_backing)) {
		dir = target_join(t->backing, STATE_DIR "/" STATE_VERSIONS);
		if (!t->is_mount || (dir && access(dir, R_OK | X_OK) == 0))
			return dir;
		free(dir);
	}
	return target_join(t->root, BACKUPS_NAME);
}

struct rules *target_rules(const struct target *t)
{
	struct rules_error err;
	struct rules *r = NULL;
	char *path, *text;
	ssize_t n;
	int fd;

	if (!t->backing)
		return NULL;
	path = target_join(t->backing, STATE_DIR "/" RULES_NAME);
	if (!path)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0)
		return NULL;
	text = malloc(RULES_MAX);
	n = text ? read(fd, text, RULES_MAX) : -1;
	if (n >= 0 && rules_parse(text, (size_t)n, &r, &err) < 0)
		r = NULL;
	free(text);
	close(fd);
	return r;
}
