// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "tests/unit/jsongen.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

void jsongen_init(struct jsongen *g, uint64_t seed)
{
	const char *series = getenv("HYDRAFS_TEST_SEED");

	memset(g, 0, sizeof(*g));
	g->rng = seed;
	if (series)
		g->rng ^= strtoull(series, NULL, 0) << 32;
}

void jsongen_release(struct jsongen *g)
{
	if (!g)
		return;
	free(g->buf);
	g->buf = NULL;
}

/* splitmix64 */
static uint64_t rnd(struct jsongen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

size_t jsongen_below(struct jsongen *g, size_t n)
{
	return n ? (size_t)(rnd(g) % n) : 0;
}

bool jsongen_chance(struct jsongen *g, unsigned int percent)
{
	return jsongen_below(g, 100) < percent;
}

void jsongen_put(struct jsongen *g, const void *p, size_t n)
{
	if (g->len + n > g->cap) {
		while (g->len + n > g->cap)
			g->cap = g->cap ? 2 * g->cap : 4096;
		g->buf = realloc(g->buf, g->cap);
		ck_assert_ptr_nonnull(g->buf);
	}
	memcpy(g->buf + g->len, p, n);
	g->len += n;
}

void jsongen_put_byte(struct jsongen *g, unsigned char c)
{
	jsongen_put(g, &c, 1);
}

void jsongen_put_str(struct jsongen *g, const char *s)
{
	jsongen_put(g, s, strlen(s));
}

void jsongen_put_spaces(struct jsongen *g, size_t n)
{
	while (n--)
		jsongen_put_byte(g, ' ');
}

/* Whitespace: mostly none or a little, at times a run over a block. */
static void gen_ws(struct jsongen *g)
{
	static const char ws[] = " \t\r\n";
	size_t kinds = g->one_line ? 3 : 4;
	size_t n;

	if (jsongen_chance(g, 2))
		n = 60 + jsongen_below(g, 100);
	else if (jsongen_chance(g, 50))
		n = 0;
	else
		n = 1 + jsongen_below(g, 3);
	while (n--)
		jsongen_put_byte(g, (unsigned char)ws[jsongen_below(g, kinds)]);
}

static void gen_hex4(struct jsongen *g, unsigned int v)
{
	static const char lower[] = "0123456789abcdef";
	static const char upper[] = "0123456789ABCDEF";

	for (int shift = 12; shift >= 0; shift -= 4) {
		const char *digits = jsongen_chance(g, 50) ? lower : upper;

		jsongen_put_byte(g, (unsigned char)digits[v >> shift & 0xf]);
	}
}

/* A code point as raw UTF-8, of 2, 3 or 4 bytes, often at an edge. */
static void gen_utf8(struct jsongen *g)
{
	static const uint32_t edges[] = {
		0x80, 0x7ff, 0x800, 0xfff, 0x1000, 0xd7ff, 0xe000, 0xfeff,
		0xfffd, 0xffff, 0x10000, 0x1f600, 0x3ffff, 0x40000, 0xfffff,
		0x100000, 0x10ffff,
	};
	uint32_t cp;
	unsigned char b[4];

	if (jsongen_chance(g, 30)) {
		cp = edges[jsongen_below(g, N_OF(edges))];
	} else {
		switch (jsongen_below(g, 3)) {
		case 0:
			cp = 0x80 + (uint32_t)jsongen_below(g, 0x800 - 0x80);
			break;
		case 1:
			cp = 0x800 +
			     (uint32_t)jsongen_below(g, 0x10000 - 0x800);
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp -= 0x800;
			break;
		default:
			cp = 0x10000 +
			     (uint32_t)jsongen_below(g, 0x110000 - 0x10000);
			break;
		}
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		jsongen_put(g, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		jsongen_put(g, b, 3);
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		jsongen_put(g, b, 4);
	}
}

/* One piece of a string's content. */
static void gen_string_part(struct jsongen *g)
{
	static const char simple[] = "\"\\/bfnrt";
	static const unsigned int u_edges[] = {
		0x0000, 0x0001, 0x001f, 0x0020, 0x0022, 0x005c, 0x007f,
		0x0080, 0x07ff, 0x0800, 0xd7ff, 0xe000, 0xfffe, 0xffff,
	};
	unsigned int v;
	size_t n;

	switch (jsongen_below(g, 12)) {
	case 0: case 1: case 2: case 3:
		for (n = 1 + jsongen_below(g, 10); n; n--) {
			unsigned char c =
				(unsigned char)(0x20 + jsongen_below(g, 95));

			jsongen_put_byte(g, c == '"' || c == '\\' ? 'x' : c);
		}
		break;
	case 4:
		jsongen_put_byte(g, '\\');
		jsongen_put_byte(g, (unsigned char)simple[jsongen_below(g, 8)]);
		break;
	case 5:
		v = jsongen_chance(g, 40)
			    ? u_edges[jsongen_below(g, N_OF(u_edges))]
			    : (unsigned int)jsongen_below(g, 0xd800);
		jsongen_put_str(g, "\\u");
		gen_hex4(g, v);
		break;
	case 6:
		jsongen_put_str(g, "\\u");
		v = jsongen_chance(g, 20)
			    ? 0xd83d
			    : 0xd800 + (unsigned int)jsongen_below(g, 0x400);
		gen_hex4(g, v);
		jsongen_put_str(g, "\\u");
		v = jsongen_chance(g, 20)
			    ? 0xde00
			    : 0xdc00 + (unsigned int)jsongen_below(g, 0x400);
		gen_hex4(g, v);
		break;
	case 7: case 8:
		gen_utf8(g);
		break;
	case 9:
		/* Runs of escaped backslashes, odd and even at block ends. */
		for (n = 1 + jsongen_below(g, 5); n; n--)
			jsongen_put_str(g, "\\\\");
		if (jsongen_chance(g, 30))
			jsongen_put_str(g, "\\\"");
		break;
	case 10:
		jsongen_put_byte(g, jsongen_chance(g, 50) ? 0x7f : '~');
		break;
	default:
		/* A stretch of plain bytes long enough to fill a block. */
		for (n = 40 + jsongen_below(g, 100); n; n--)
			jsongen_put_byte(g, (unsigned char)('a' +
						jsongen_below(g, 26)));
		break;
	}
}

static void gen_string(struct jsongen *g)
{
	size_t parts;

	if (jsongen_chance(g, 8))
		parts = 10 + jsongen_below(g, 60);
	else
		parts = jsongen_below(g, 6);
	jsongen_put_byte(g, '"');
	while (parts--)
		gen_string_part(g);
	jsongen_put_byte(g, '"');
}

static void gen_digits(struct jsongen *g, size_t n)
{
	while (n--)
		jsongen_put_byte(g,
				 (unsigned char)('0' + jsongen_below(g, 10)));
}

/* Numbers of every shape, short and longer than 16 bytes. */
static void gen_number(struct jsongen *g)
{
	static const char *const fixed[] = {
		"0", "-0", "1e5", "-1.25E+3", "0.5", "1E-2", "-0.0e+0",
		"0e0", "9", "-9", "10", "123456789012345",
		"1234567890123456", "12345678901234567",
		"123456789012345678901234567890", "0.1234567890123456789",
		"-9007199254740993e-300", "1.5e+308", "-1.0E-0005",
	};

	if (jsongen_chance(g, 25)) {
		jsongen_put_str(g, fixed[jsongen_below(g, N_OF(fixed))]);
		return;
	}
	if (jsongen_chance(g, 30))
		jsongen_put_byte(g, '-');
	if (jsongen_chance(g, 20)) {
		jsongen_put_byte(g, '0');
	} else if (jsongen_chance(g, 3)) {
		/* Digits filling a whole block. */
		jsongen_put_byte(g, (unsigned char)('1' + jsongen_below(g, 9)));
		gen_digits(g, 60 + jsongen_below(g, 80));
	} else {
		jsongen_put_byte(g, (unsigned char)('1' + jsongen_below(g, 9)));
		gen_digits(g, jsongen_below(g, jsongen_chance(g, 10) ? 25 : 6));
	}
	if (jsongen_chance(g, 40)) {
		jsongen_put_byte(g, '.');
		gen_digits(g, 1 + jsongen_below(g, jsongen_chance(g, 10) ? 25
									: 6));
	}
	if (jsongen_chance(g, 30)) {
		jsongen_put_byte(g, jsongen_chance(g, 50) ? 'e' : 'E');
		if (jsongen_chance(g, 60))
			jsongen_put_byte(g, jsongen_chance(g, 50) ? '+' : '-');
		gen_digits(g, 1 + jsongen_below(g, jsongen_chance(g, 10) ? 20
									: 3));
	}
}

static void gen_value(struct jsongen *g, size_t depth, size_t max_depth);

/* An array or object of @members values, each up to @max_depth deep. */
static void gen_container(struct jsongen *g, bool object, size_t members,
			  size_t depth, size_t max_depth)
{
	jsongen_put_byte(g, object ? '{' : '[');
	gen_ws(g);
	for (size_t i = 0; i < members; i++) {
		if (i) {
			gen_ws(g);
			jsongen_put_byte(g, ',');
			gen_ws(g);
		}
		if (object) {
			gen_string(g);
			gen_ws(g);
			jsongen_put_byte(g, ':');
			gen_ws(g);
		}
		gen_value(g, depth + 1, max_depth);
	}
	gen_ws(g);
	jsongen_put_byte(g, object ? '}' : ']');
}

static void gen_value(struct jsongen *g, size_t depth, size_t max_depth)
{
	static const char *const literals[] = { "true", "false", "null" };
	size_t k = jsongen_below(g, 16);

	if (depth < max_depth && k < 5) {
		gen_container(g, k & 1,
			      jsongen_chance(g, 15) ? 0 : jsongen_below(g, 7),
			      depth, max_depth);
		return;
	}
	if (k < 9)
		gen_string(g);
	else if (k < 13)
		gen_number(g);
	else
		jsongen_put_str(g, literals[jsongen_below(g, 3)]);
}

void jsongen_deep(struct jsongen *g, size_t levels)
{
	bool object = jsongen_chance(g, 50);
	size_t before = jsongen_below(g, 3), after = jsongen_below(g, 3);

	if (!levels) {
		gen_value(g, 0, 1);
		return;
	}
	jsongen_put_byte(g, object ? '{' : '[');
	gen_ws(g);
	for (size_t i = 0; i < before + 1 + after; i++) {
		if (i) {
			jsongen_put_byte(g, ',');
			gen_ws(g);
		}
		if (object) {
			gen_string(g);
			jsongen_put_byte(g, ':');
		}
		if (i == before)
			jsongen_deep(g, levels - 1);
		else
			gen_value(g, 0, jsongen_chance(g, 20) ? 2 : 0);
	}
	gen_ws(g);
	jsongen_put_byte(g, object ? '}' : ']');
}

/* Levels around the 64 the fast path keeps in a register. */
static size_t deep_levels(struct jsongen *g)
{
	return jsongen_chance(g, 10) ? 120 + jsongen_below(g, 20)
				     : 55 + jsongen_below(g, 20);
}

void jsongen_json_doc(struct jsongen *g, size_t target)
{
	bool object = jsongen_chance(g, 50);
	size_t i = 0;

	gen_ws(g);
	jsongen_put_byte(g, object ? '{' : '[');
	while (g->len < target) {
		if (i++)
			jsongen_put_byte(g, ',');
		gen_ws(g);
		if (object) {
			gen_string(g);
			gen_ws(g);
			jsongen_put_byte(g, ':');
			gen_ws(g);
		}
		if (jsongen_chance(g, 4))
			jsongen_deep(g, deep_levels(g) - 1);
		else
			gen_value(g, 1, 1 + jsongen_below(g, 8));
		gen_ws(g);
	}
	jsongen_put_byte(g, object ? '}' : ']');
	gen_ws(g);
}

void jsongen_jsonl_doc(struct jsongen *g, size_t target)
{
	g->one_line = true;
	while (g->len < target) {
		size_t k = jsongen_below(g, 20);

		gen_ws(g);
		if (k == 1)
			jsongen_deep(g, deep_levels(g));
		else if (k > 1 && k < 10) {
			/* Draws in order: the same document from any compiler. */
			size_t members = jsongen_below(g, 20);

			gen_container(g, k & 1, members, 0,
				      1 + jsongen_below(g, 6));
		}
		else if (k >= 10)
			gen_value(g, 0, 1 + jsongen_below(g, 4));
		gen_ws(g);
		jsongen_put_str(g, jsongen_chance(g, 30) ? "\r\n" : "\n");
	}
	/* A final line without its newline. */
	if (jsongen_chance(g, 50)) {
		gen_value(g, 0, 3);
		gen_ws(g);
	}
}
