// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * format_json: the strict streaming JSON validator (RFC 8259, exactly one
 * value), and the machine behind it that format_jsonl.c also runs.
 *
 * The machine's state is small and resumable at any byte: a token (string,
 * number, literal, UTF-8 sequence, \u escape) may be split anywhere between
 * two feeds.  The nesting stack lives on the heap, one bit per level (object
 * or array), doubled by realloc() when full, so nesting is bounded by memory
 * only and never by the C stack.  The hot paths scan runs (string bytes 16
 * or 8 at a time, digits 8 at a time, whitespace); a feed switches on the
 * saved state once, then moves between tokens by direct jumps.  Numbers and
 * literals whole in the piece are checked first without branches on their
 * shape (bit masks of 16 bytes; a 4-byte compare), falling back to the
 * byte-wise scanners, which find any error, and tokens cut by a feed.
 *
 * Decisions beyond the RFC's grammar:
 *  - Strings must be valid UTF-8 (no overlong forms, no encoded surrogates,
 *    nothing above U+10FFFF); an invalid sequence is reported at its first
 *    byte, a truncated one too.
 *  - A \u escape of a surrogate must be a pair: a high one (\uD800-\uDBFF)
 *    immediately followed by a low one (\uDC00-\uDFFF).  A lone or reversed
 *    surrogate escape is rejected ("lone surrogate escape", at the backslash
 *    of the unpaired escape): such a string has no Unicode value and many
 *    readers replace or refuse it.
 *  - Empty content (0 bytes) is "empty content"; whitespace only is
 *    "unexpected end of content".  A UTF-8 byte order mark is rejected: any
 *    content starting with byte EF is "byte order mark" at offset 0.
 *  - Numbers are syntax only: huge exponents and integers are valid.
 *  - json has no record mode: init() with a callback returns -EINVAL.
 *  - After -ENOMEM the validator is spent: feed() and finish() return
 *    -ENOMEM again until it is released.
 */
#include "config.h"

#include "core/format_json_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


enum { TOK_DONE, TOK_MORE, TOK_FAIL };

static const char *const literals[] = { "true", "false", "null" };

/* Bytes that stand for themselves in a string. */
static const unsigned char plain[256] = {
	[0x20 ... 0x21] = 1,
	[0x23 ... 0x5b] = 1,
	[0x5d ... 0x7f] = 1,
};

/* Hex digits, their value plus one. */
const unsigned char format_json_hexval[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14,
	['E'] = 15, ['F'] = 16,
};

const unsigned char format_json_simple_escape[256] = {
	['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1,
	['f'] = 1, ['n'] = 1, ['r'] = 1, ['t'] = 1,
};

static const unsigned char is_ws[256] = {
	[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1,
};

/* jsonl's reason for a line cut by its '\n' between tokens. */
#define EOL "unexpected end of line"

#define ONES UINT64_C(0x0101010101010101)

/* The absolute offset of @p in the piece @buf being fed. */
#define AT(p) (m->offset + (uint64_t)((p) - buf))

static int machine_fail(struct json_machine *m, uint64_t offset,
			const char *reason)
{
	m->err.offset = offset;
	m->err.line = m->line;
	m->err.reason = reason;
	m->failed = -EINVAL;
	return TOK_FAIL;
}

/*
 * Fails at @p for @reason, or, when @p is the '\n' that ends a jsonl line,
 * for @eol_reason, the reason format_json_machine_end() gives there.
 */
static int token_fail(struct json_machine *m, const unsigned char *p,
		      const unsigned char *buf, const char *reason,
		      const char *eol_reason)
{
	if (*p == '\n' && m->lines)
		reason = eol_reason;
	return machine_fail(m, AT(p), reason);
}

void format_json_machine_init(struct json_machine *m)
{
	memset(m, 0, sizeof(*m));
	m->line = 1;
	m->state = S_VALUE;
}

void format_json_machine_restart(struct json_machine *m)
{
	m->depth = 0;
	m->failed = 0;
	m->state = S_VALUE;
	m->is_key = false;
	m->want_low = false;
}

void format_json_machine_release(struct json_machine *m)
{
	free(m->stack);
	m->stack = NULL;
	m->cap = 0;
}

int format_json_stack_grow(struct json_machine *m)
{
	size_t words = m->cap ? m->cap / 32 : 1;
	uint64_t *s;

	if (m->cap > SIZE_MAX / 4 / sizeof(*s))
		return -ENOMEM;
	s = realloc(m->stack, words * sizeof(*s));
	if (!s)
		return -ENOMEM;
	m->stack = s;
	m->cap = words * 64;
	return 0;
}

static inline bool stack_top_is_object(const struct json_machine *m,
				       size_t depth)
{
	return m->stack[(depth - 1) / 64] >> ((depth - 1) % 64) & 1;
}

static inline const unsigned char *skip_ws(struct json_machine *m,
					   const unsigned char *p,
					   const unsigned char *end)
{
	if (p < end && *p > ' ')
		return p;
	for (; p < end && is_ws[*p]; p++) {
		if (*p == '\n') {
			if (m->lines)
				break;
			m->line++;
		}
	}
	return p;
}

/*
 * Skips the bytes of a string that stand for themselves: 16 at a time with
 * SSE2 (x86-64's baseline), else 8 at a time in a 64-bit word, where the
 * lowest byte flagged is the first one that is < 0x20, '"', '\' or >= 0x80
 * (a borrow only spreads upwards from a flagged byte).
 */
static inline const unsigned char *skip_plain(const unsigned char *p,
					      const unsigned char *end)
{
#ifdef __SSE2__
	const __m128i space = _mm_set1_epi8(0x20);
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* Signed: bytes >= 0x80 are below 0x20 too. */
		__m128i special = _mm_or_si128(_mm_cmpeq_epi8(v, quote),
					       _mm_cmpeq_epi8(v, bslash));
		__m128i t = _mm_or_si128(_mm_cmplt_epi8(v, space), special);
		unsigned int mask = (unsigned int)_mm_movemask_epi8(t);

		if (mask)
			return p + __builtin_ctz(mask);
		p += 16;
	}
#endif
	while (end - p >= 8) {
		uint64_t x, t;

		memcpy(&x, p, sizeof(x));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		x = __builtin_bswap64(x);
#endif
		t = (x - ONES * 0x20) | ((x ^ (ONES * '"')) - ONES) |
		    ((x ^ (ONES * '\\')) - ONES) | x;
		t &= ONES * 0x80;
		if (t)
			return p + __builtin_ctzll(t) / 8;
		p += 8;
	}
	while (p < end && plain[*p])
		p++;
	return p;
}

/* The length of the valid UTF-8 sequence at @p (4 bytes readable), or 0. */
static inline size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0) {
		n = 2;
	} else if (c < 0xf0) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Starts the sequence led by @c, a byte at the end of a piece. */
static bool utf8_lead(struct json_machine *m, unsigned char c)
{
	if (c < 0xc2 || c > 0xf4)
		return false;
	m->u8_lo = 0x80;
	m->u8_hi = 0xbf;
	m->u8_have = 1;
	if (c < 0xe0) {
		m->u8_need = 1;
	} else if (c < 0xf0) {
		m->u8_need = 2;
		if (c == 0xe0)
			m->u8_lo = 0xa0;
		else if (c == 0xed)
			m->u8_hi = 0x9f;
	} else {
		m->u8_need = 3;
		if (c == 0xf0)
			m->u8_lo = 0x90;
		else if (c == 0xf4)
			m->u8_hi = 0x8f;
	}
	return true;
}

/* Checks one digit of a \u escape, the whole value once it has four. */
static int check_hex(struct json_machine *m, const unsigned char *p,
		     const unsigned char *buf)
{
	unsigned int d = format_json_hexval[*p];

	if (!d) {
		if (m->want_low)
			return machine_fail(m, m->esc_offset,
					    "lone surrogate escape");
		return token_fail(m, p, buf, "invalid escape",
				  "unterminated string");
	}
	m->uval = (uint16_t)(m->uval << 4 | (d - 1));
	m->sub++;
	if (m->want_low) {
		if ((m->sub == 1 && m->uval != 0xd) ||
		    (m->sub == 2 && (m->uval < 0xdc || m->uval > 0xdf)))
			return machine_fail(m, m->esc_offset,
					    "lone surrogate escape");
	} else if (m->sub == 2 && m->uval >= 0xdc && m->uval <= 0xdf) {
		return machine_fail(m, m->esc_offset, "lone surrogate escape");
	}
	return TOK_DONE;
}

/* Scans a string from state @st up to its closing quote or the piece end. */
static int scan_string(struct json_machine *m, const unsigned char **pp,
		       const unsigned char *end, const unsigned char *buf,
		       int st)
{
	const unsigned char *p = *pp;
	unsigned char c;
	size_t n;

	if (st == S_STR)
		goto plain;
	switch (st) {
	case S_STR_ESC:
		goto esc;
	case S_STR_HEX:
		goto hex;
	case S_STR_LOW_BS:
		goto low_bs;
	case S_STR_LOW_U:
		goto low_u;
	case S_STR_UTF8:
		goto utf8;
	default:
		break;
	}
plain:
	p = skip_plain(p, end);
	if (p == end) {
		st = S_STR;
		goto more;
	}
	c = *p;
	if (c == '"') {
		*pp = p + 1;
		return TOK_DONE;
	}
	if (c == '\\') {
		m->esc_offset = AT(p);
		p++;
		goto esc;
	}
	if (c < 0x20)
		return token_fail(m, p, buf, "control character in string",
				  "unterminated string");
	if (end - p >= 4) {
		n = utf8_len(p);
		if (!n)
			return machine_fail(m, AT(p), "invalid utf-8");
		p += n;
		goto plain;
	}
	if (!utf8_lead(m, c))
		return machine_fail(m, AT(p), "invalid utf-8");
	p++;
utf8:
	for (; m->u8_need; m->u8_need--, m->u8_have++, p++) {
		if (p == end) {
			st = S_STR_UTF8;
			goto more;
		}
		if (*p < m->u8_lo || *p > m->u8_hi)
			return machine_fail(m, AT(p) - m->u8_have,
					    "invalid utf-8");
		m->u8_lo = 0x80;
		m->u8_hi = 0xbf;
	}
	goto plain;
esc:
	if (p == end) {
		st = S_STR_ESC;
		goto more;
	}
	c = *p++;
	if (c == 'u') {
		m->want_low = false;
		goto hex_start;
	}
	if (!format_json_simple_escape[c])
		return token_fail(m, p - 1, buf, "invalid escape",
				  "unterminated string");
	goto plain;
hex_start:
	m->sub = 0;
	m->uval = 0;
hex:
	for (; m->sub < 4; p++) {
		if (p == end) {
			st = S_STR_HEX;
			goto more;
		}
		if (check_hex(m, p, buf) == TOK_FAIL)
			return TOK_FAIL;
	}
	if (m->want_low || m->uval < 0xd800 || m->uval > 0xdbff) {
		m->want_low = false;
		goto plain;
	}
low_bs:
	if (p == end) {
		st = S_STR_LOW_BS;
		goto more;
	}
	if (*p != '\\')
		return machine_fail(m, m->esc_offset, "lone surrogate escape");
	p++;
low_u:
	if (p == end) {
		st = S_STR_LOW_U;
		goto more;
	}
	if (*p != 'u')
		return machine_fail(m, m->esc_offset, "lone surrogate escape");
	p++;
	m->want_low = true;
	goto hex_start;
more:
	m->state = (uint8_t)st;
	*pp = p;
	return TOK_MORE;
}

/*
 * Skips a run of digits, eight bytes at a time: a byte is flagged when
 * below '0' (borrow), above '9' (carry into its high bit) or >= 0x80, and
 * the lowest flagged byte is the first that is not a digit.
 */
static inline const unsigned char *skip_digits(const unsigned char *p,
					       const unsigned char *end)
{
	while (end - p >= 8) {
		uint64_t x, t;

		memcpy(&x, p, sizeof(x));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		x = __builtin_bswap64(x);
#endif
		t = ((x - ONES * '0') | (x + ONES * (0x80 - 10 - '0')) | x) &
		    (ONES * 0x80);
		if (t)
			return p + __builtin_ctzll(t) / 8;
		p += 8;
	}
	while (p < end && json_is_digit(*p))
		p++;
	return p;
}

/*
 * Scans a number up to the byte after it or the piece end: a new one from
 * its first byte when @st is S_VALUE, else from the saved state @st.  The
 * switch is behind a test that new numbers predict well.
 */
static int scan_number(struct json_machine *m, const unsigned char **pp,
		       const unsigned char *end, const unsigned char *buf,
		       int st)
{
	const unsigned char *p = *pp;

	if (st == S_VALUE) {
		if (*p != '-')
			goto first_digit;
		p++;
		goto minus;
	}
	switch (st) {
	case S_NUM_ZERO:
		goto zero;
	case S_NUM_INT:
		goto int_digits;
	case S_NUM_DOT:
		goto dot;
	case S_NUM_FRAC:
		goto frac;
	case S_NUM_E:
		goto exp_sign;
	case S_NUM_ESIGN:
		goto exp_first;
	case S_NUM_EXP:
		goto exp_digits;
	default:
		break;
	}
minus:
	if (p == end) {
		st = S_NUM_MINUS;
		goto more;
	}
first_digit:
	if (*p == '0') {
		p++;
		goto zero;
	}
	if (!json_is_digit(*p))
		return token_fail(m, p, buf, "invalid number", EOL);
	p++;
int_digits:
	p = skip_digits(p, end);
	if (p == end) {
		st = S_NUM_INT;
		goto more;
	}
	goto frac_or_exp;
zero:
	if (p == end) {
		st = S_NUM_ZERO;
		goto more;
	}
	if (json_is_digit(*p))
		return machine_fail(m, AT(p), "leading zero");
frac_or_exp:
	if (*p == '.') {
		p++;
		goto dot;
	}
	if ((*p | 0x20) == 'e') {
		p++;
		goto exp_sign;
	}
	goto done;
dot:
	if (p == end) {
		st = S_NUM_DOT;
		goto more;
	}
	if (!json_is_digit(*p))
		return token_fail(m, p, buf, "invalid number", EOL);
	p++;
frac:
	p = skip_digits(p, end);
	if (p == end) {
		st = S_NUM_FRAC;
		goto more;
	}
	if ((*p | 0x20) == 'e') {
		p++;
		goto exp_sign;
	}
	goto done;
exp_sign:
	if (p == end) {
		st = S_NUM_E;
		goto more;
	}
	if (*p == '+' || *p == '-')
		p++;
exp_first:
	if (p == end) {
		st = S_NUM_ESIGN;
		goto more;
	}
	if (!json_is_digit(*p))
		return token_fail(m, p, buf, "invalid number", EOL);
	p++;
exp_digits:
	p = skip_digits(p, end);
	if (p == end) {
		st = S_NUM_EXP;
		goto more;
	}
done:
	*pp = p;
	return TOK_DONE;
more:
	m->state = (uint8_t)st;
	*pp = p;
	return TOK_MORE;
}

static int scan_literal(struct json_machine *m, const unsigned char **pp,
			const unsigned char *end, const unsigned char *buf)
{
	const char *lit = literals[m->lit];
	const unsigned char *p = *pp;
	unsigned int i = m->sub;

	/* The usual case: the whole literal is in the piece. */
	if (i == 1 && end - p >= 4) {
		if (lit[0] == 'f' && !memcmp(p, "alse", 4)) {
			*pp = p + 4;
			return TOK_DONE;
		}
		if (lit[0] != 'f' && !memcmp(p, lit + 1, 3)) {
			*pp = p + 3;
			return TOK_DONE;
		}
	}
	for (; lit[i]; i++, p++) {
		if (p == end) {
			m->sub = (uint8_t)i;
			m->state = S_LIT;
			*pp = p;
			return TOK_MORE;
		}
		if (*p != (unsigned char)lit[i])
			return token_fail(m, p, buf, "invalid literal", EOL);
	}
	*pp = p;
	return TOK_DONE;
}

/*
 * Stops the machine, between tokens in state @s, once it is at @limit or
 * past it (with no limit, a constant NULL, the test is compiled out).
 */
#define STOP_AT(s)                      \
	do {                            \
		if (limit && p >= limit) { \
			st = (s);       \
			goto stop;      \
		}                       \
	} while (0)

/*
 * Runs the machine over the piece @buf: 0, -EINVAL (m->err filled) or
 * -ENOMEM.  Each label is a state; the machine leaves through "more" at the
 * end of the piece, saving the state to resume from.  With a @limit it also
 * stops at the first point between tokens at @limit or past it, m->offset
 * then moved only as far as it went.
 */
static inline __attribute__((always_inline)) int
machine_run_to(struct json_machine *m, const unsigned char *buf, size_t len,
	       const unsigned char *limit)
{
	const unsigned char *p = buf, *end = buf + len;
	size_t depth = m->depth;
	int st = m->state, r;
	bool obj, key = m->is_key;
	unsigned char c;
	size_t n;

	if (m->failed)
		return m->failed;
	if (m->offset == 0 && len && buf[0] == 0xef && st == S_VALUE) {
		r = machine_fail(m, 0, "byte order mark");
		goto out;
	}
	switch (st) {
	case S_VALUE:
		goto value;
	case S_ARR_FIRST:
		goto arr_first;
	case S_ARR_NEXT:
		goto arr_next;
	case S_OBJ_FIRST:
		goto obj_first;
	case S_OBJ_NEXT:
		goto obj_next;
	case S_COLON:
		goto colon;
	case S_AFTER:
		goto after;
	case S_DONE:
		goto done;
	case S_LIT:
		goto literal;
	default:
		if (st >= S_NUM_MINUS)
			goto number;
		goto string;
	}
arr_first:
	STOP_AT(S_ARR_FIRST);
	p = skip_ws(m, p, end);
	if (p == end) {
		st = S_ARR_FIRST;
		goto more;
	}
	if (*p == ']') {
		p++;
		depth--;
		goto after_value;
	}
	goto value_byte;
arr_next:
	STOP_AT(S_ARR_NEXT);
	p = skip_ws(m, p, end);
	if (p == end) {
		st = S_ARR_NEXT;
		goto more;
	}
	if (*p == ']') {
		r = machine_fail(m, AT(p), "trailing comma");
		goto out;
	}
	goto value_byte;
value:
	STOP_AT(S_VALUE);
	p = skip_ws(m, p, end);
	if (p == end) {
		st = S_VALUE;
		goto more;
	}
value_byte:
	/* Tests in order of frequency: each branch stays well predicted. */
	c = *p;
	if (c == '"') {
		p++;
		key = false;
		st = S_STR;
		goto string;
	}
	if (json_is_digit(c) || c == '-') {
		n = json_number_len(p, end);
		if (n) {
			p += n;
			goto after_value;
		}
		st = S_VALUE;
		goto number;
	}
	p++;
	if (c == '{' || c == '[') {
		obj = c == '{';
		goto push;
	}
	if (c == 't' || c == 'f' || c == 'n') {
		n = json_literal_len(p - 1, end, c);
		if (n) {
			p += n - 1;
			goto after_value;
		}
		m->lit = c == 't' ? 0 : c == 'f' ? 1 : 2;
		goto literal_start;
	}
	if (c == '\n') {
		p--;
		st = S_VALUE;
		goto line_end;
	}
	r = machine_fail(m, AT(p - 1), "expected value");
	goto out;
push:
	if (depth == m->cap && format_json_stack_grow(m)) {
		m->failed = -ENOMEM;
		r = TOK_FAIL;
		goto out;
	}
	if (obj)
		m->stack[depth / 64] |= (uint64_t)1 << (depth % 64);
	else
		m->stack[depth / 64] &= ~((uint64_t)1 << (depth % 64));
	depth++;
	if (!obj)
		goto arr_first;
obj_first:
	STOP_AT(S_OBJ_FIRST);
	p = skip_ws(m, p, end);
	if (p == end) {
		st = S_OBJ_FIRST;
		goto more;
	}
	if (*p == '}') {
		p++;
		depth--;
		goto after_value;
	}
	goto key_byte;
obj_next:
	STOP_AT(S_OBJ_NEXT);
	p = skip_ws(m, p, end);
	if (p == end) {
		st = S_OBJ_NEXT;
		goto more;
	}
	if (*p == '}') {
		r = machine_fail(m, AT(p), "trailing comma");
		goto out;
	}
key_byte:
	if (*p == '\n')
		goto line_end;
	if (*p != '"') {
		r = machine_fail(m, AT(p), "expected key");
		goto out;
	}
	p++;
	key = true;
	st = S_STR;
string:
	r = scan_string(m, &p, end, buf, st);
	if (r != TOK_DONE)
		goto out;
	if (key)
		goto colon;
	goto after_value;
number:
	r = scan_number(m, &p, end, buf, st);
	if (r != TOK_DONE)
		goto out;
	goto after_value;
literal_start:
	m->sub = 1;
literal:
	r = scan_literal(m, &p, end, buf);
	if (r != TOK_DONE)
		goto out;
	goto after_value;
colon:
	STOP_AT(S_COLON);
	p = skip_ws(m, p, end);
	if (p == end) {
		st = S_COLON;
		goto more;
	}
	if (*p == '\n')
		goto line_end;
	if (*p != ':') {
		r = machine_fail(m, AT(p), "expected ':'");
		goto out;
	}
	p++;
	goto value;
after_value:
	if (depth == 0)
		goto done;
after:
	STOP_AT(S_AFTER);
	p = skip_ws(m, p, end);
	if (p == end) {
		st = S_AFTER;
		goto more;
	}
	obj = stack_top_is_object(m, depth);
	if (*p == ',') {
		p++;
		if (obj)
			goto obj_next;
		goto arr_next;
	}
	if (*p == (obj ? '}' : ']')) {
		p++;
		depth--;
		goto after_value;
	}
	if (*p == '\n')
		goto line_end;
	r = machine_fail(m, AT(p),
			 obj ? "expected ',' or '}'" : "expected ',' or ']'");
	goto out;
done:
	STOP_AT(S_DONE);
	p = skip_ws(m, p, end);
	if (p == end) {
		st = S_DONE;
		goto more;
	}
	st = S_DONE;
	if (*p == '\n')
		goto line_end;
	r = machine_fail(m, AT(p), "content after the value");
	goto out;
line_end:
	/*
	 * jsonl only (json's whitespace takes every '\n'): p is at the '\n'
	 * of a line; at depth 0, st is S_VALUE (blank line) or S_DONE.
	 */
	if (depth) {
		r = machine_fail(m, AT(p), EOL);
		goto out;
	}
	if (m->lines == JSON_LINES_STOP) {
		m->state = (uint8_t)st;
		m->is_key = key;
		m->depth = depth;
		m->offset = AT(p);
		return 0;
	}
	p++;
	m->line++;
	key = false;
	m->want_low = false;
	goto value;
more:
	m->state = (uint8_t)st;
	r = TOK_MORE;
out:
	m->is_key = key;
	m->depth = depth;
	m->offset += len;
	return r == TOK_FAIL ? m->failed : 0;
stop:
	m->state = (uint8_t)st;
	m->is_key = key;
	m->depth = depth;
	m->offset = AT(p);
	return 0;
}

static int machine_run(struct json_machine *m, const unsigned char *buf,
		       size_t len)
{
	return machine_run_to(m, buf, len, NULL);
}

/*
 * Runs the machine up to the first point between tokens at @buf + @limit
 * or past it (or the end of the piece, or an error): how many bytes of
 * @buf it went over, all of them on an error.
 */
static size_t machine_run_until(struct json_machine *m,
				const unsigned char *buf, size_t len,
				size_t limit)
{
	uint64_t at = m->offset;

	machine_run_to(m, buf, len, buf + limit);
	return (size_t)(m->offset - at);
}

/* Pieces shorter than this are not worth the fast path's setup. */
#define SIMD_MIN 256

static bool is_between_tokens(const struct json_machine *m)
{
	return m->state <= S_DONE;
}

/*
 * Feeds the piece to the fast path and the byte-wise machine in turn: the
 * fast path goes over what it proves valid; the machine takes the rest of
 * a token the fast path found cut by the piece or suspect, and the end of
 * the piece, and gives the fast path back the next point between tokens.
 */
static int machine_feed(struct json_machine *m, const unsigned char *buf,
			size_t len)
{
	size_t off = 0, n, exact_to;

	if (m->failed || len < SIMD_MIN || m->lines == JSON_LINES_STOP ||
	    !format_json_simd_enabled() || (m->offset == 0 && buf[0] == 0xef))
		return machine_run(m, buf, len);
	while (off < len && !m->failed) {
		exact_to = 1;
		if (is_between_tokens(m)) {
			n = format_json_simd_run(m, buf + off, len - off,
						 &exact_to);
			off += n;
			exact_to -= n;
		}
		off += machine_run_until(m, buf + off, len - off, exact_to);
	}
	return m->failed;
}

int format_json_machine_run(struct json_machine *m, const unsigned char *buf,
			    size_t len)
{
	m->lines = JSON_LINES_OFF;
	return machine_feed(m, buf, len);
}

int format_json_machine_run_lines(struct json_machine *m,
				  const unsigned char *buf, size_t len,
				  enum json_lines mode)
{
	m->lines = (uint8_t)mode;
	return machine_feed(m, buf, len);
}

int format_json_machine_end(struct json_machine *m, const char *reason)
{
	uint64_t at = m->offset;

	if (m->failed)
		return m->failed;
	switch (m->state) {
	case S_DONE:
		return 0;
	case S_NUM_ZERO:
	case S_NUM_INT:
	case S_NUM_FRAC:
	case S_NUM_EXP:
		if (m->depth == 0)
			return 0;
		break;
	case S_STR_HEX:
	case S_STR_LOW_BS:
	case S_STR_LOW_U:
		if (m->state != S_STR_HEX || m->want_low) {
			machine_fail(m, m->esc_offset, "lone surrogate escape");
			return -EINVAL;
		}
		machine_fail(m, at, "unterminated string");
		return -EINVAL;
	case S_STR:
	case S_STR_ESC:
		machine_fail(m, at, "unterminated string");
		return -EINVAL;
	case S_STR_UTF8:
		machine_fail(m, at - m->u8_have, "invalid utf-8");
		return -EINVAL;
	default:
		break;
	}
	machine_fail(m, at, reason);
	return -EINVAL;
}

bool format_json_machine_is_blank(const struct json_machine *m)
{
	return !m->failed && m->state == S_VALUE && m->depth == 0;
}

/* json */

static int json_init(void *state, format_record_fn *on_record, void *ctx)
{
	(void)ctx;
	if (on_record)
		return -EINVAL;
	format_json_machine_init(state);
	return 0;
}

static int json_feed(void *state, const unsigned char *buf, size_t len)
{
	return format_json_machine_run(state, buf, len);
}

static int json_finish(void *state, struct format_error *err)
{
	struct json_machine *m = state;
	int ret;

	if (m->failed == -ENOMEM)
		return -ENOMEM;
	if (!m->failed && m->offset == 0) {
		m->err.offset = 0;
		m->err.line = 1;
		m->err.reason = "empty content";
		m->failed = -EINVAL;
	}
	ret = format_json_machine_end(m, "unexpected end of content");
	if (ret && err)
		*err = m->err;
	return ret;
}

static void json_release(void *state)
{
	if (state)
		format_json_machine_release(state);
}

const struct format_ops format_json_ops = {
	.name = "json",
	.kind = FORMAT_JSON,
	.has_records = false,
	.state_size = sizeof(struct json_machine),
	.init = json_init,
	.feed = json_feed,
	.finish = json_finish,
	.release = json_release,
};
