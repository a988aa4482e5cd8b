// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "rules.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Choices the header leaves open:
 *
 * - A default follows the format the rules resulted in, not the one of
 *   the extension: "[*.dat] format = jsonl" gives invalid = reject and
 *   recover = salvage.
 * - mode defaults to log when the resulting format is jsonl, or when the
 *   name ends in ".log" (any case) and the resulting format has records
 *   (text, csv, tsv); json and opaque content has no records to append,
 *   so "[*.log] format = json" stays in file mode unless it says mode.
 * - Extension defaults ignore case (format_kind_for_name(), ".LOG").
 * - Globs are byte strings matched case-sensitively; a glob holding a '/'
 *   byte anywhere matches the whole path, else the last component.
 *   Leading '/'s of a glob (and of a path) are dropped.  A '**' that is
 *   a whole component before a '/' also matches no directory at all, so
 *   "a/<**>/b" matches "a/b" (<**> standing for the two stars); elsewhere
 *   '**' is any run, and three stars or more are a '**'.  "[...]" has no
 *   POSIX "[:alpha:]" names; an unterminated '[' is a parse error, and a
 *   literal '[' in rules_glob_match().
 * - Lines are at most 4096 bytes without their "\n" or "\r\n".
 * - A line holds no inline comment: "format = json # x" is an unknown
 *   format; only blanks may follow a section's ']'.
 */

/* Longest line, without its line end. */
#define RULES_LINE_MAX 4096

enum rule_key_bit {
	RULE_SET_FORMAT = 1 << 0,
	RULE_SET_INVALID = 1 << 1,
	RULE_SET_MODE = 1 << 2,
	RULE_SET_RECOVER = 1 << 3,
	RULE_SET_VERSIONS = 1 << 4,
};

struct rule_section {
	const char *glob;	/* NUL-terminated, inside the rules' block */
	unsigned int set;	/* RULE_SET_* of the keys the section sets */
	struct rule_policy policy;
};

/* One block: the header, the sections, then their globs. */
struct rules {
	size_t count;
	struct rule_section sections[];
};

struct rule_value {
	const char *name;
	int value;
};

static const struct rule_value invalid_values[] = {
	{ "reject", RULE_INVALID_REJECT },
	{ "accept", RULE_INVALID_ACCEPT },
	{ "quarantine-records", RULE_INVALID_QUARANTINE },
	{ NULL, 0 },
};

static const struct rule_value mode_values[] = {
	{ "file", RULE_MODE_FILE },
	{ "log", RULE_MODE_LOG },
	{ NULL, 0 },
};

static const struct rule_value recover_values[] = {
	{ "salvage", RULE_RECOVER_SALVAGE },
	{ "last-good", RULE_RECOVER_LAST_GOOD },
	{ "off", RULE_RECOVER_OFF },
	{ NULL, 0 },
};

static const struct rule_value versions_values[] = {
	{ "on", RULE_VERSIONS_ON },
	{ "off", RULE_VERSIONS_OFF },
	{ NULL, 0 },
};

struct rule_key {
	const char *name;
	unsigned int bit;
	const struct rule_value *values;	/* NULL: a format name */
	const char *bad_value;
};

static const struct rule_key keys[] = {
	{ "format", RULE_SET_FORMAT, NULL, "unknown format" },
	{ "invalid", RULE_SET_INVALID, invalid_values,
	  "unknown invalid policy" },
	{ "mode", RULE_SET_MODE, mode_values, "unknown mode" },
	{ "recover", RULE_SET_RECOVER, recover_values,
	  "unknown recover policy" },
	{ "versions", RULE_SET_VERSIONS, versions_values,
	  "unknown versions setting" },
};

/* Globs */

/*
 * The length of the class at @g[@i] == '[' (up to its ']'), or 0 when it
 * is unterminated.  A ']' right after "[", "[!" or "[^" is a member, and a
 * backslash escapes the next byte.
 */
static size_t class_len(const char *g, size_t m, size_t i)
{
	size_t j = i + 1;

	if (j < m && (g[j] == '!' || g[j] == '^'))
		j++;
	if (j < m && g[j] == ']')
		j++;
	for (; j < m && g[j] != ']'; j++)
		if (g[j] == '\\')
			j++;
	return j < m ? j + 1 - i : 0;
}

static unsigned char class_char(const char *g, size_t *j)
{
	if (g[*j] == '\\')
		(*j)++;
	return (unsigned char)g[(*j)++];
}

/* Whether the class g[@i, @i + @len) holds @c ('/' never). */
static bool class_has(const char *g, size_t i, size_t len, unsigned char c)
{
	size_t j = i + 1, end = i + len - 1;
	bool negate = false, hit = false;

	if (g[j] == '!' || g[j] == '^') {
		negate = true;
		j++;
	}
	while (j < end) {
		unsigned char lo = class_char(g, &j), hi = lo;

		if (j + 1 < end && g[j] == '-') {
			j++;
			hi = class_char(g, &j);
		}
		if (lo <= c && c <= hi)
			hit = true;
	}
	return c != '/' && hit != negate;
}

enum glob_tok_kind {
	TOK_BYTE,	/* one given byte */
	TOK_ONE,	/* '?' */
	TOK_CLASS,	/* "[...]" */
	TOK_STAR,	/* '*': a run without '/' */
	TOK_STARSTAR,	/* "**": any run */
	TOK_DIRSTAR,	/* "**" before a '/', at the start or after a '/' */
};

struct glob_tok {
	enum glob_tok_kind kind;
	size_t len;
	unsigned char byte;
};

static void glob_tok_at(const char *g, size_t m, size_t i,
			struct glob_tok *t)
{
	size_t n;

	t->kind = TOK_BYTE;
	t->len = 1;
	t->byte = (unsigned char)g[i];
	switch (g[i]) {
	case '?':
		t->kind = TOK_ONE;
		break;
	case '[':
		n = class_len(g, m, i);
		if (n) {
			t->kind = TOK_CLASS;
			t->len = n;
		}
		break;
	case '\\':
		if (i + 1 < m) {
			t->len = 2;
			t->byte = (unsigned char)g[i + 1];
		}
		break;
	case '*':
		for (n = 1; i + n < m && g[i + n] == '*'; n++)
			;
		t->len = n;
		if (n == 1)
			t->kind = TOK_STAR;
		else if (i + n < m && g[i + n] == '/' &&
			 (!i || g[i - 1] == '/'))
			t->kind = TOK_DIRSTAR;
		else
			t->kind = TOK_STARSTAR;
		break;
	}
}

/* Whether the token @t at @g[@i] consumes @c. */
static bool glob_tok_eats(const char *g, size_t i, const struct glob_tok *t,
			  unsigned char c)
{
	switch (t->kind) {
	case TOK_BYTE:
		return c == t->byte;
	case TOK_ONE:
	case TOK_STAR:
		return c != '/';
	case TOK_CLASS:
		return class_has(g, i, t->len, c);
	case TOK_STARSTAR:
	case TOK_DIRSTAR:
		return true;
	}
	return false;
}

/*
 * The glob runs as an automaton with two states per offset in the glob:
 * state 2 * i is "at the token starting at i" (2 * m: matched), state
 * 2 * i + 1 is "inside the directory star at i (TOK_DIRSTAR), some bytes
 * eaten": those must end with its '/', while state 2 * i may skip both
 * the star and its '/'.
 */
#define GLOB_STACK_WORDS ((2 * RULES_LINE_MAX + 2) / 64 + 1)

static inline void bit_set(uint64_t *set, size_t i)
{
	set[i / 64] |= UINT64_C(1) << (i % 64);
}

static inline bool bit_test(const uint64_t *set, size_t i)
{
	return set[i / 64] >> (i % 64) & 1;
}

/* Where state @b goes without eating a byte. */
static void glob_skip(const char *g, size_t m, size_t b, uint64_t *set)
{
	struct glob_tok t;
	size_t i = b / 2;

	if (i >= m)
		return;
	glob_tok_at(g, m, i, &t);
	if (b % 2) {
		bit_set(set, 2 * (i + t.len));	/* on to the '/' */
	} else if (t.kind == TOK_DIRSTAR) {
		bit_set(set, b + 1);
		bit_set(set, 2 * (i + t.len + 1));	/* no directory */
	} else if (t.kind == TOK_STAR || t.kind == TOK_STARSTAR) {
		bit_set(set, 2 * (i + t.len));
	}
}

/* Where state @b goes on eating @c. */
static void glob_eat(const char *g, size_t m, size_t b, unsigned char c,
		     uint64_t *set, bool *alive)
{
	struct glob_tok t;
	size_t i = b / 2;

	if (i >= m)
		return;
	if (b % 2) {
		bit_set(set, b);
		*alive = true;
		return;
	}
	glob_tok_at(g, m, i, &t);
	if (t.kind == TOK_DIRSTAR || !glob_tok_eats(g, i, &t, c))
		return;
	*alive = true;
	if (t.kind == TOK_STAR || t.kind == TOK_STARSTAR)
		bit_set(set, b);
	else
		bit_set(set, 2 * (i + t.len));
}

/*
 * Adds to @set what its states reach without eating a byte.  Those moves
 * only go forward, so one pass in ascending order suffices.
 */
static void glob_closure(const char *g, size_t m, uint64_t *set, size_t words)
{
	for (size_t w = 0; w < words; w++) {
		uint64_t done = 0, bits;

		while ((bits = set[w] & ~done)) {
			unsigned int b = (unsigned int)__builtin_ctzll(bits);

			done |= UINT64_C(1) << b;
			glob_skip(g, m, w * 64 + b, set);
		}
	}
}

/*
 * Every byte of @s costs O(@m), whatever the stars: no backtracking, no
 * blow-up on "**a**a**a**b".
 */
static bool glob_run(const char *g, size_t m, const char *s, size_t n,
		     uint64_t *cur, uint64_t *next, size_t words)
{
	memset(cur, 0, words * sizeof(*cur));
	bit_set(cur, 0);
	glob_closure(g, m, cur, words);
	for (size_t k = 0; k < n; k++) {
		bool alive = false;
		uint64_t *swap;

		memset(next, 0, words * sizeof(*next));
		for (size_t w = 0; w < words; w++) {
			for (uint64_t bits = cur[w]; bits; bits &= bits - 1) {
				size_t b = (size_t)__builtin_ctzll(bits);

				glob_eat(g, m, w * 64 + b, (unsigned char)s[k],
					 next, &alive);
			}
		}
		if (!alive)
			return false;
		glob_closure(g, m, next, words);
		swap = cur;
		cur = next;
		next = swap;
	}
	return bit_test(cur, 2 * m);
}

static bool glob_match(const char *g, size_t m, const char *s, size_t n)
{
	size_t words = (2 * m + 1) / 64 + 1;
	uint64_t *heap;
	bool ret;

	if (words <= GLOB_STACK_WORDS) {
		uint64_t stack[2][GLOB_STACK_WORDS];

		return glob_run(g, m, s, n, stack[0], stack[1], words);
	}
	/*
	 * Only a caller's own glob gets here (the parser's are shorter);
	 * without the memory to match it, it does not match.
	 */
	heap = calloc(2 * words, sizeof(*heap));
	if (!heap)
		return false;
	ret = glob_run(g, m, s, n, heap, heap + words, words);
	free(heap);
	return ret;
}

static const char *last_component(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

bool rules_glob_match(const char *glob, const char *relpath)
{
	bool whole = strchr(glob, '/') != NULL;

	while (*glob == '/')
		glob++;
	while (*relpath == '/')
		relpath++;
	if (!whole)
		relpath = last_component(relpath);
	return glob_match(glob, strlen(glob), relpath, strlen(relpath));
}

/* Parsing */

struct rules_parser {
	struct rules *fill;	/* NULL: count only */
	size_t count;		/* sections so far */
	size_t glob_bytes;	/* their globs' bytes with the NULs */
	char *pool;		/* where the next glob goes (fill only) */
	struct rule_section *cur;	/* NULL before the first section */
	struct rule_section scratch;	/* cur when counting */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_blank((*s)[*n - 1]))
		(*n)--;
}

static bool slice_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

/*
 * The offset of the ']' closing a section header in @s (what follows the
 * '['), skipping classes and escapes; @n when there is none.
 */
static size_t header_end(const char *s, size_t n)
{
	size_t j, len;

	for (j = 0; j < n; j++) {
		if (s[j] == '\\') {
			j++;
		} else if (s[j] == '[') {
			len = class_len(s, n, j);
			if (!len)
				return n;
			j += len - 1;
		} else if (s[j] == ']') {
			return j;
		}
	}
	return n;
}

static bool glob_has_open_class(const char *g, size_t m)
{
	size_t len;

	for (size_t j = 0; j < m; j++) {
		if (g[j] == '\\') {
			j++;
		} else if (g[j] == '[') {
			len = class_len(g, m, j);
			if (!len)
				return true;
			j += len - 1;
		}
	}
	return false;
}

/* @s is the trimmed line, from its '['; a static reason or NULL. */
static const char *parse_header(struct rules_parser *p, const char *s,
				size_t n)
{
	const char *glob = s + 1;
	size_t end = header_end(glob, n - 1), len, lead;

	if (end == n - 1) {
		if (s[n - 1] == ']' && glob_has_open_class(glob, n - 2))
			return "unterminated '[' in glob";
		return "missing ']'";
	}
	if (end != n - 2)
		return "text after ']'";
	len = end;
	while (len && is_blank(*glob)) {
		glob++;
		len--;
	}
	/* A blank after an odd run of backslashes is escaped: it stays. */
	while (len && is_blank(glob[len - 1])) {
		size_t esc = 0;

		while (esc < len - 1 && glob[len - 2 - esc] == '\\')
			esc++;
		if (esc % 2)
			break;
		len--;
	}
	for (lead = 0; lead < len && glob[lead] == '/'; lead++)
		;
	if (lead == len)
		return "empty glob";

	if (p->fill) {
		p->cur = &p->fill->sections[p->count];
		memcpy(p->pool, glob, len);
		p->pool[len] = '\0';
		p->cur->glob = p->pool;
		p->pool += len + 1;
	} else {
		p->cur = &p->scratch;
	}
	p->cur->set = 0;
	memset(&p->cur->policy, 0, sizeof(p->cur->policy));
	p->count++;
	p->glob_bytes += len + 1;
	return NULL;
}

static const char *parse_value(const struct rule_key *key, const char *v,
			       size_t n, int *out)
{
	const struct rule_value *rv;
	char name[16];
	int kind;

	if (key->values) {
		for (rv = key->values; rv->name; rv++) {
			if (slice_is(v, n, rv->name)) {
				*out = rv->value;
				return NULL;
			}
		}
		return key->bad_value;
	}
	/* Format names are lower case, whatever format_kind_parse() takes. */
	if (n >= sizeof(name))
		return key->bad_value;
	for (size_t i = 0; i < n; i++)
		if (v[i] >= 'A' && v[i] <= 'Z')
			return key->bad_value;
	memcpy(name, v, n);
	name[n] = '\0';
	kind = format_kind_parse(name);
	if (kind < 0 || kind >= FORMAT_COUNT)
		return key->bad_value;
	*out = kind;
	return NULL;
}

static void policy_set(struct rule_policy *pol, unsigned int bit, int value)
{
	switch (bit) {
	case RULE_SET_FORMAT:
		pol->format = (enum format_kind)value;
		break;
	case RULE_SET_INVALID:
		pol->invalid = (enum rule_invalid)value;
		break;
	case RULE_SET_MODE:
		pol->mode = (enum rule_mode)value;
		break;
	case RULE_SET_RECOVER:
		pol->recover = (enum rule_recover)value;
		break;
	case RULE_SET_VERSIONS:
		pol->versions = (enum rule_versions)value;
		break;
	}
}

/* @s is the trimmed line; a static reason or NULL. */
static const char *parse_pair(struct rules_parser *p, const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n), *k = s, *v, *reason;
	size_t kn, vn;
	const struct rule_key *key = NULL;
	int value = 0;

	if (!eq)
		return "expected key = value";
	kn = (size_t)(eq - s);
	v = eq + 1;
	vn = n - kn - 1;
	trim(&k, &kn);
	trim(&v, &vn);
	if (!kn)
		return "expected key = value";
	if (!p->cur)
		return "key outside a section";
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (slice_is(k, kn, keys[i].name))
			key = &keys[i];
	if (!key)
		return "unknown key";
	if (p->cur->set & key->bit)
		return "duplicate key";
	if (!vn)
		return "missing value";
	reason = parse_value(key, v, vn, &value);
	if (reason)
		return reason;
	p->cur->set |= key->bit;
	policy_set(&p->cur->policy, key->bit, value);
	return NULL;
}

static const char *parse_line(struct rules_parser *p, const char *s, size_t n)
{
	if (n > RULES_LINE_MAX)
		return "line too long";
	if (memchr(s, '\0', n))
		return "nul byte";
	trim(&s, &n);
	if (!n || *s == '#' || *s == ';')
		return NULL;
	if (*s == '[')
		return parse_header(p, s, n);
	return parse_pair(p, s, n);
}

static int parse_text(struct rules_parser *p, const char *text, size_t len,
		      struct rules_error *err)
{
	unsigned int line = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		const char *end = nl ? nl : text + len, *reason;

		pos = (size_t)(end - text) + 1;
		line++;
		/* CRLF, or a final CR whose LF was cut off */
		if (end > s && end[-1] == '\r')
			end--;
		reason = parse_line(p, s, (size_t)(end - s));
		if (reason) {
			err->line = line;
			err->reason = reason;
			return -EINVAL;
		}
	}
	return 0;
}

int rules_parse(const char *text, size_t len, struct rules **out,
		struct rules_error *err)
{
	struct rules_parser p = { 0 };
	struct rules *r;
	size_t head;
	int ret;

	/* The first pass checks and counts, the second fills one block. */
	ret = parse_text(&p, text, len, err);
	if (ret < 0)
		return ret;
	if (p.count > (SIZE_MAX - sizeof(*r) - p.glob_bytes) /
			      sizeof(r->sections[0]))
		return -ENOMEM;
	head = sizeof(*r) + p.count * sizeof(r->sections[0]);
	r = malloc(head + p.glob_bytes);
	if (!r)
		return -ENOMEM;
	r->count = p.count;
	p = (struct rules_parser){ .fill = r, .pool = (char *)r + head };
	ret = parse_text(&p, text, len, err);
	if (ret < 0) {
		free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void rules_free(struct rules *r)
{
	free(r);
}

/* Lookup */

static bool has_log_name(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && !strcasecmp(name + n - 4, ".log");
}

static enum rule_invalid default_invalid(enum format_kind f)
{
	switch (f) {
	case FORMAT_JSON:
	case FORMAT_JSONL:
	case FORMAT_CSV:
	case FORMAT_TSV:
		return RULE_INVALID_REJECT;
	default:
		return RULE_INVALID_ACCEPT;
	}
}

static enum rule_recover default_recover(enum format_kind f)
{
	switch (f) {
	case FORMAT_JSONL:
	case FORMAT_CSV:
	case FORMAT_TSV:
	case FORMAT_TEXT:
		return RULE_RECOVER_SALVAGE;
	default:
		return RULE_RECOVER_LAST_GOOD;
	}
}

static enum rule_mode default_mode(enum format_kind f, const char *name)
{
	switch (f) {
	case FORMAT_JSONL:
		return RULE_MODE_LOG;
	case FORMAT_TEXT:
	case FORMAT_CSV:
	case FORMAT_TSV:
		return has_log_name(name) ? RULE_MODE_LOG : RULE_MODE_FILE;
	default:
		return RULE_MODE_FILE;
	}
}

void rules_lookup(const struct rules *r, const char *relpath,
		  struct rule_policy *out)
{
	const char *name = last_component(relpath);
	struct rule_policy pol = { 0 };
	unsigned int set = 0;

	for (size_t i = 0; r && i < r->count; i++) {
		const struct rule_section *sec = &r->sections[i];
		const struct rule_policy *from;

		if (!sec->set || !rules_glob_match(sec->glob, relpath))
			continue;
		from = &sec->policy;
		if (sec->set & RULE_SET_FORMAT)
			pol.format = from->format;
		if (sec->set & RULE_SET_INVALID)
			pol.invalid = from->invalid;
		if (sec->set & RULE_SET_MODE)
			pol.mode = from->mode;
		if (sec->set & RULE_SET_RECOVER)
			pol.recover = from->recover;
		if (sec->set & RULE_SET_VERSIONS)
			pol.versions = from->versions;
		set |= sec->set;
	}
	if (!(set & RULE_SET_FORMAT))
		pol.format = format_kind_for_name(name);
	if (!(set & RULE_SET_INVALID))
		pol.invalid = default_invalid(pol.format);
	if (!(set & RULE_SET_MODE))
		pol.mode = default_mode(pol.format, name);
	if (!(set & RULE_SET_RECOVER))
		pol.recover = default_recover(pol.format);
	if (!(set & RULE_SET_VERSIONS))
		pol.versions = RULE_VERSIONS_DEFAULT;
	*out = pol;
}
