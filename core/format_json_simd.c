// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * format_json_simd: the JSON machine's fast path, for x86-64 CPUs with AVX2
 * and PCLMUL (checked at run time; elsewhere format_json_simd_run() is never
 * called and the byte-wise machine does everything).
 *
 * It goes over the content 64 bytes at a time in two steps, as simdjson
 * does (Langdale and Lemire, "Parsing gigabytes of JSON per second"):
 *
 *  1. Classify the block's bytes into 64-bit masks: quotes not escaped, so
 *     what is inside strings (a carry-less multiply gives the prefix XOR);
 *     whitespace, the six structural characters, and the "scalar" bytes of
 *     numbers and literals outside strings.  In the same pass the block is
 *     checked for what a string may not hold: control characters, bad
 *     escapes (\u ones one at a time, surrogate pairs and all) and invalid
 *     UTF-8 (the lookup method of Keiser and Lemire, "Validating UTF-8 in
 *     less than one instruction per byte", which takes every byte of the
 *     block: outside strings a byte >= 0x80 is an error anyway).
 *  2. Walk the tokens (structural characters, opening quotes, first bytes
 *     of scalars, and in jsonl each '\n'), running the grammar on them with
 *     the machine's own states and a nesting stack of 64 levels in a word.
 *     A number or literal is checked where it stands (a run of digits in a
 *     mask, json_number_len(), json_literal_len()), with the byte after it,
 *     which must end it.
 *
 * It never reports an error itself.  Anything it cannot prove valid (an
 * error, nesting deeper than 64 levels, a string or number still open at
 * the end of what it looked at) makes it stop at the last point between tokens
 * before it, with the machine's state, depth, offset and line set there, and
 * the byte-wise machine goes over that stretch: the result, error offsets,
 * lines and reasons are the machine's to the byte.  To stay inside the
 * piece it looks at whole blocks followed by at least SLACK bytes (a token
 * in a block may be checked up to 16 bytes on).
 */
#include "config.h"

#include "core/format_json_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define JSON_SIMD 1
#include <immintrin.h>
#endif

/* 0: off, 1: on, -1: not decided yet (the first call looks at the CPU). */
static atomic_int simd_on = -1;

bool format_json_simd_supported(void)
{
#ifdef JSON_SIMD
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") &&
	       __builtin_cpu_supports("pclmul") &&
	       __builtin_cpu_supports("popcnt");
#else
	return false;
#endif
}

bool format_json_simd_enable(bool on)
{
	int v = on && format_json_simd_supported();

	atomic_store_explicit(&simd_on, v, memory_order_relaxed);
	return v;
}

bool format_json_simd_enabled(void)
{
	int v = atomic_load_explicit(&simd_on, memory_order_relaxed);
	const char *env;

	if (v >= 0)
		return v;
	env = getenv("HYDRAFS_JSON_SIMD");
	return format_json_simd_enable(!env || strcmp(env, "0"));
}

#ifdef JSON_SIMD

#define BLOCK 64
#define SLACK 16

/* Bytes that may follow a number or literal: whitespace, ",:[]{}" and '"'. */
static const unsigned char ends_scalar[256] = {
	[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [','] = 1, [':'] = 1,
	['['] = 1, [']'] = 1, ['{'] = 1, ['}'] = 1, ['"'] = 1,
};

/*
 * The length of the number at @p when it is valid and ends before @end
 * (the byte after it is there to see), else 0: for numbers too long for
 * json_number_len().
 */
static size_t number_len_long(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *s = p;

	if (*p == '-')
		p++;
	if (p == end)
		return 0;
	if (*p == '0')
		p++;
	else if (json_is_digit(*p))
		while (++p < end && json_is_digit(*p))
			;
	else
		return 0;
	if (p < end && *p == '.') {
		if (++p == end || !json_is_digit(*p))
			return 0;
		while (++p < end && json_is_digit(*p))
			;
	}
	if (p < end && (*p | 0x20) == 'e') {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !json_is_digit(*p))
			return 0;
		while (++p < end && json_is_digit(*p))
			;
	}
	return p < end ? (size_t)(p - s) : 0;
}

/* The length of the valid number at @p, or 0 (the byte after is not seen to). */
static size_t number_len(const unsigned char *p, const unsigned char *end)
{
	size_t n;

	if (!json_is_digit(*p) && *p != '-')
		return 0;
	n = json_number_len(p, end);
	return n ? n : number_len_long(p, end);
}

/* The value of the 4 hex digits at @p, or -1. */
static int hex4(const unsigned char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned int d = format_json_hexval[p[i]];

		if (!d)
			return -1;
		v = v << 4 | (int)(d - 1);
	}
	return v;
}

/*
 * What the classification carries from one block to the next, and what it
 * says of the block besides its tokens.
 */
struct carry {
	uint64_t in_str;	/* all ones: the block starts inside a string */
	uint64_t scalar;	/* 1: the last byte was a scalar byte */
	uint64_t escaped;	/* 1: the first byte is escaped */
	uint64_t low_u;		/* the 'u's of low surrogates already checked */
	__m256i prev;		/* the last 32 bytes, for UTF-8 */
	__m256i incomplete;	/* nonzero: they end inside a UTF-8 sequence */
	uint64_t nl;		/* the block's '\n's */
	uint64_t digits;	/* its digits */
	bool bad;		/* it holds something not proved valid */
};

#define TARGET __attribute__((target("avx2,pclmul,popcnt,bmi,bmi2")))

TARGET static inline uint64_t mask64(__m256i lo, __m256i hi)
{
	return (uint32_t)_mm256_movemask_epi8(lo) |
	       (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;
}

TARGET static inline uint64_t eq64(__m256i lo, __m256i hi, char c)
{
	__m256i v = _mm256_set1_epi8(c);

	return mask64(_mm256_cmpeq_epi8(lo, v), _mm256_cmpeq_epi8(hi, v));
}

/* Bit i: an odd number of bits of @x at or below i. */
TARGET static inline uint64_t prefix_xor(uint64_t x)
{
	__m128i r = _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)x),
					 _mm_set1_epi8((char)0xff), 0);

	return (uint64_t)_mm_cvtsi128_si64(r);
}

/* @cur shifted up by @n bytes, the last @n bytes of @prev shifted in. */
#define PREV_BYTES(cur, prev, n) \
	_mm256_alignr_epi8((cur), _mm256_permute2x128_si256((prev), (cur), 0x21), 16 - (n))

/*
 * UTF-8 errors of the 32 bytes @cur after @prev: the error classes a byte
 * and the one before it can show, looked up by nibble (a class survives the
 * AND of the three lookups only when both bytes have it), and whether a
 * continuation byte comes where the lead two or three bytes back wants one.
 * Nonzero bytes are errors.
 */
enum {
	TOO_SHORT = 1 << 0,	/* a lead not followed by a continuation */
	TOO_LONG = 1 << 1,	/* ASCII followed by a continuation */
	OVERLONG_3 = 1 << 2,	/* E0 80..9F */
	TOO_LARGE = 1 << 3,	/* F4 90..BF, F5..FF */
	SURROGATE = 1 << 4,	/* ED A0..BF */
	OVERLONG_2 = 1 << 5,	/* C0, C1 */
	OVERLONG_4 = 1 << 6,	/* F0 80..8F; also F5..FF 80..8F */
	TWO_CONTS = -128,	/* 0x80: a continuation after a continuation */
	CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS,
};

TARGET static inline __m256i utf8_errors(__m256i cur, __m256i prev)
{
	const __m256i by_lead_high = _mm256_setr_epi8(
		TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
		TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
		TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
		TOO_SHORT | OVERLONG_2, TOO_SHORT,
		TOO_SHORT | OVERLONG_3 | SURROGATE,
		TOO_SHORT | TOO_LARGE | OVERLONG_4,
		TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
		TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
		TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
		TOO_SHORT | OVERLONG_2, TOO_SHORT,
		TOO_SHORT | OVERLONG_3 | SURROGATE,
		TOO_SHORT | TOO_LARGE | OVERLONG_4);
#define LOW_ROW                                                              \
	CARRY | OVERLONG_2 | OVERLONG_3 | OVERLONG_4, CARRY | OVERLONG_2,    \
	CARRY, CARRY, CARRY | TOO_LARGE, CARRY | TOO_LARGE | OVERLONG_4,     \
	CARRY | TOO_LARGE | OVERLONG_4, CARRY | TOO_LARGE | OVERLONG_4,      \
	CARRY | TOO_LARGE | OVERLONG_4, CARRY | TOO_LARGE | OVERLONG_4,      \
	CARRY | TOO_LARGE | OVERLONG_4, CARRY | TOO_LARGE | OVERLONG_4,      \
	CARRY | TOO_LARGE | OVERLONG_4,                                      \
	CARRY | TOO_LARGE | OVERLONG_4 | SURROGATE,                          \
	CARRY | TOO_LARGE | OVERLONG_4, CARRY | TOO_LARGE | OVERLONG_4
	const __m256i by_lead_low = _mm256_setr_epi8(LOW_ROW, LOW_ROW);
#undef LOW_ROW
#define NEXT_ROW                                                             \
	TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,                          \
	TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,                          \
	TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | OVERLONG_4,          \
	TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,           \
	TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,           \
	TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,           \
	TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT
	const __m256i by_next_high = _mm256_setr_epi8(NEXT_ROW, NEXT_ROW);
#undef NEXT_ROW
	const __m256i nib = _mm256_set1_epi8(0x0f);
	__m256i p1 = PREV_BYTES(cur, prev, 1);
	__m256i p2 = PREV_BYTES(cur, prev, 2);
	__m256i p3 = PREV_BYTES(cur, prev, 3);
	__m256i sc, third, fourth, must23;

	sc = _mm256_and_si256(
		_mm256_shuffle_epi8(by_lead_high,
				    _mm256_and_si256(_mm256_srli_epi16(p1, 4),
						     nib)),
		_mm256_shuffle_epi8(by_lead_low, _mm256_and_si256(p1, nib)));
	sc = _mm256_and_si256(
		sc, _mm256_shuffle_epi8(
			    by_next_high,
			    _mm256_and_si256(_mm256_srli_epi16(cur, 4), nib)));
	/* A byte 2 back >= E0, or 3 back >= F0: this one continues it. */
	third = _mm256_subs_epu8(p2, _mm256_set1_epi8((char)0xdf));
	fourth = _mm256_subs_epu8(p3, _mm256_set1_epi8((char)0xef));
	must23 = _mm256_cmpgt_epi8(_mm256_or_si256(third, fourth),
				   _mm256_setzero_si256());
	must23 = _mm256_and_si256(must23, _mm256_set1_epi8((char)0x80));
	return _mm256_xor_si256(sc, must23);
}

/* Nonzero when the 32 bytes @v end inside a UTF-8 sequence. */
TARGET static inline __m256i utf8_incomplete(__m256i v)
{
	const __m256i max = _mm256_setr_epi8(
		-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
		-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
		(char)0xef, (char)0xdf, (char)0xbf);

	return _mm256_subs_epu8(v, max);
}

/*
 * Checks the escapes of the block @q: the bytes after a backslash (bits of
 * @esc) must be one of "\"\\/bfnrt" or a 'u' with 4 hex digits; a high
 * surrogate must be followed by "\u" and a low one, whose 'u' is then
 * marked checked in c->low_u (for this block or the next); a low one alone
 * is not valid.  Only the escapes inside strings matter; any other makes
 * the block suspect too, which is harmless.  Reads up to 10 bytes past the
 * block.
 */
TARGET static bool escapes_bad(const unsigned char *q, uint64_t esc,
			       struct carry *c)
{
	uint64_t low_u = c->low_u;

	c->low_u = 0;
	while (esc) {
		unsigned int i = (unsigned int)__builtin_ctzll(esc);
		const unsigned char *e = q + i;
		int v;

		esc &= esc - 1;
		if (*e != 'u') {
			if (!format_json_simple_escape[*e])
				return true;
			continue;
		}
		if (low_u >> i & 1)
			continue;
		v = hex4(e + 1);
		if (v < 0 || (v >= 0xdc00 && v <= 0xdfff))
			return true;
		if (v < 0xd800 || v > 0xdbff)
			continue;
		v = e[5] == '\\' && e[6] == 'u' ? hex4(e + 7) : -1;
		if (v < 0xdc00 || v > 0xdfff)
			return true;
		if (i + 6 < BLOCK)
			low_u |= (uint64_t)1 << (i + 6);
		else
			c->low_u |= (uint64_t)1 << (i + 6 - BLOCK);
	}
	return false;
}

/* The bytes escaped by backslashes in @bs: bit i when byte i-1 escapes. */
static inline uint64_t escaped_bytes(uint64_t bs, struct carry *c)
{
	uint64_t esc = c->escaped;

	bs &= ~esc;
	c->escaped = 0;
	while (bs) {
		unsigned int i = (unsigned int)__builtin_ctzll(bs);

		if (i == BLOCK - 1) {
			c->escaped = 1;
			break;
		}
		esc |= (uint64_t)2 << i;
		bs &= ~((uint64_t)3 << i);
	}
	return esc;
}

/*
 * Bytes of @v that are the entry of @table at their low nibble (a table
 * lookup: no byte >= 0x80 is).  ws_table holds the four whitespace bytes;
 * op_table ",:{}" as seen in v | 0x20, where '[' and ']' become '{' and
 * '}' (and control bytes 0x0c and 0x1a become ',' and ':', which do no
 * harm: in a string they are errors anyway, outside one they fail the
 * walk's test of what a token must be).  Other entries are 0, a byte that
 * never has their low nibble (0x00 itself is not in v | 0x20 and not
 * whitespace).
 */
#define TABLE16(...) _mm256_setr_epi8(__VA_ARGS__, __VA_ARGS__)
#define ws_table TABLE16(' ', 0, 0, 0, 0, 0, 0, 0, 0, '\t', '\n', 0, 0, '\r', 0, 0)
#define op_table TABLE16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ':', '{', ',', '}', 0, 0)

TARGET static inline __m256i in_table(__m256i table, __m256i v)
{
	return _mm256_cmpeq_epi8(_mm256_shuffle_epi8(table, v), v);
}

/*
 * Classifies the block @q (BLOCK bytes and SLACK more readable): returns
 * where its tokens start, and fills c->nl, c->digits and c->bad.
 */
TARGET static uint64_t classify(const unsigned char *q, bool lines,
				struct carry *c)
{
	__m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)q);
	__m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(q + 32));
	__m256i lo20 = _mm256_or_si256(lo, _mm256_set1_epi8(0x20));
	__m256i hi20 = _mm256_or_si256(hi, _mm256_set1_epi8(0x20));
	__m256i ctrl_max = _mm256_set1_epi8(0x1f), dl, dh;
	uint64_t quote, bs, esc = 0, in_str, ws, op, ctrl, scalar, high, tokens;

	c->bad = false;
	quote = eq64(lo, hi, '"');
	bs = eq64(lo, hi, '\\');
	if (bs | c->escaped | c->low_u) {
		esc = escaped_bytes(bs, c);
		quote &= ~esc;
		if (escapes_bad(q, esc, c))
			c->bad = true;
	}
	in_str = prefix_xor(quote) ^ c->in_str;
	c->in_str = (uint64_t)((int64_t)in_str >> 63);

	c->nl = eq64(lo, hi, '\n');
	ws = mask64(in_table(ws_table, lo), in_table(ws_table, hi));
	op = mask64(in_table(op_table, lo20), in_table(op_table, hi20));
	ctrl = mask64(_mm256_cmpeq_epi8(_mm256_max_epu8(lo, ctrl_max), ctrl_max),
		      _mm256_cmpeq_epi8(_mm256_max_epu8(hi, ctrl_max), ctrl_max));
	if (ctrl & in_str)
		c->bad = true;
	dl = _mm256_sub_epi8(lo, _mm256_set1_epi8('0'));
	dh = _mm256_sub_epi8(hi, _mm256_set1_epi8('0'));
	c->digits = mask64(
		_mm256_cmpeq_epi8(_mm256_min_epu8(dl, _mm256_set1_epi8(9)), dl),
		_mm256_cmpeq_epi8(_mm256_min_epu8(dh, _mm256_set1_epi8(9)), dh));

	scalar = ~(in_str | quote | ws | op);
	tokens = (op & ~in_str) | (quote & in_str) |
		 (scalar & ~(scalar << 1 | c->scalar));
	if (lines)
		tokens |= c->nl & ~in_str;
	c->scalar = scalar >> 63;

	high = mask64(lo, hi);
	if (high) {
		__m256i err = _mm256_or_si256(utf8_errors(lo, c->prev),
					      utf8_errors(hi, lo));

		if (!_mm256_testz_si256(err, err))
			c->bad = true;
		c->incomplete = utf8_incomplete(hi);
	} else {
		if (!_mm256_testz_si256(c->incomplete, c->incomplete))
			c->bad = true;
		c->incomplete = _mm256_setzero_si256();
	}
	c->prev = hi;
	return tokens;
}

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

/*
 * Moves to the next token, in state @state: t points at it.  When the
 * block has no token left, "refill" classifies the next one and comes back
 * (to a label of this line's own); past the last block, or at a suspect
 * one, the walk ends, the machine to resume in st.
 */
#define NEXT(state) NEXT_AT(state, CAT(next_, __LINE__))
#define NEXT_AT(state, label)                             \
	do {                                              \
		if (__builtin_expect(!tokens, 0)) {       \
			st = (state);                     \
			back = &&label;                   \
			goto refill;                      \
		}                                         \
label:                                                    \
		t = q + __builtin_ctzll(tokens);          \
		tokens &= tokens - 1;                     \
	} while (0)

/* Hands the token at t to the machine, in state @state. */
#define BAIL(state)               \
	do {                      \
		st = (state);     \
		goto bail_token;  \
	} while (0)

/*
 * The value at t, in state @state: a string or a number or literal goes on
 * at @after; '{' and '[' open a level.  The nesting stack of up to 64 levels
 * is the word stk (bit d: level d + 1 is an object).  An integer is a run
 * of digits in the block's mask (tzcnt: 64 for a block of digits) without
 * a leading zero; a literal is checked whole; any other number by
 * number_len(); then the byte after it must end it.
 */
#define VALUE(state, after)                                           \
	do {                                                          \
		if (*t == '"') {                                      \
			str_at = t;                                   \
			str_st = (state);                             \
			goto after;                                   \
		}                                                     \
		if (*t == '{' || *t == '[') {                         \
			if (depth == 64)                              \
				BAIL(state);                          \
			stk &= ~((uint64_t)1 << depth);               \
			stk |= (uint64_t)(*t == '{') << depth;        \
			depth++;                                      \
			if (*t == '{')                                \
				goto obj_first;                       \
			goto arr_first;                               \
		}                                                     \
		n = (size_t)_tzcnt_u64(~(digits >> (t - q)));          \
		if (!n && *t >= 'f')                                  \
			n = json_literal_len(t, end, *t);             \
		else if (!n || (*t == '0' && n > 1) || !ends_scalar[t[n]]) \
			n = number_len(t, end);                       \
		if (!n || !ends_scalar[t[n]])                         \
			BAIL(state);                                  \
		scalar_end = t + n;                                   \
		goto after;                                           \
	} while (0)

TARGET static size_t simd_run(struct json_machine *m, const unsigned char *buf,
			      size_t len, size_t *exact_to)
{
	const unsigned char *end = buf + len, *last, *q, *t = buf;
	const unsigned char *str_at = NULL, *scalar_end = buf, *at;
	bool lines = m->lines != JSON_LINES_OFF;
	size_t depth = m->depth, n;
	uint64_t nl_before = 0, in_str_before = 0, below, stk, tokens, digits;
	struct carry c = { 0 };
	int st = m->state, str_st = st;
	void *back;

	*exact_to = len;
	if (len < BLOCK + SLACK || depth > 64)
		return 0;
	if (!m->cap && format_json_stack_grow(m))
		return 0;
	stk = m->stack[0];
	last = end - BLOCK - SLACK;
	q = buf;
	c.prev = _mm256_setzero_si256();
	c.incomplete = _mm256_setzero_si256();
	tokens = classify(q, lines, &c);
	digits = c.digits;
	if (c.bad)
		goto bad_block;

	switch (st) {
	case S_VALUE:
		if (depth)
			goto obj_value;
		goto top_value;
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
		goto after_value;
	default:
		goto done;
	}

top_value:
	NEXT(S_VALUE);
	/* jsonl: a blank line. */
	if (*t == '\n' && lines)
		goto top_value;
	VALUE(S_VALUE, done);
obj_first:
	NEXT(S_OBJ_FIRST);
	if (*t == '}')
		goto close;
	if (*t != '"')
		BAIL(S_OBJ_FIRST);
	goto key;
obj_next:
	NEXT(S_OBJ_NEXT);
	if (*t != '"')
		BAIL(S_OBJ_NEXT);
	str_st = S_OBJ_NEXT;
	goto key_at;
key:
	str_st = S_OBJ_FIRST;
key_at:
	str_at = t;
colon:
	NEXT(S_COLON);
	if (*t != ':')
		BAIL(S_COLON);
obj_value:
	NEXT(S_VALUE);
	VALUE(S_VALUE, obj_after);
obj_after:
	NEXT(S_AFTER);
	if (*t == ',')
		goto obj_next;
	if (*t == '}')
		goto close;
	BAIL(S_AFTER);
arr_first:
	NEXT(S_ARR_FIRST);
	if (*t == ']')
		goto close;
	VALUE(S_ARR_FIRST, arr_after);
arr_next:
	NEXT(S_ARR_NEXT);
	VALUE(S_ARR_NEXT, arr_after);
arr_after:
	NEXT(S_AFTER);
	if (*t == ',')
		goto arr_next;
	if (*t == ']')
		goto close;
	BAIL(S_AFTER);
close:
	depth--;
after_value:
	if (!depth)
		goto done;
	if (stk >> (depth - 1) & 1)
		goto obj_after;
	goto arr_after;
done:
	NEXT(S_DONE);
	/* jsonl: the end of a line holding a value. */
	if (*t == '\n' && lines)
		goto top_value;
	BAIL(S_DONE);

refill:
	do {
		nl_before += (uint64_t)__builtin_popcountll(c.nl);
		c.nl = 0;
		in_str_before = c.in_str;
		q += BLOCK;
		if (q > last)
			goto end_of_blocks;
		tokens = classify(q, lines, &c);
		if (c.bad)
			goto bad_block;
	} while (!tokens);
	digits = c.digits;
	goto *back;

bail_token:
	/* The machine takes the token at t from the state before it. */
	at = t;
	*exact_to = (size_t)(t - buf) + 1;
	goto out;
bad_block:
	/* From before the string still open at the block, or the block. */
	*exact_to = (size_t)(q - buf) + BLOCK;
	goto resume;
end_of_blocks:
	/* q is past the last block: the machine takes the rest. */
	*exact_to = len;
resume:
	if (in_str_before) {
		at = str_at;
		st = str_st;
	} else {
		at = scalar_end > q ? scalar_end : q;
	}
out:
	/*
	 * Lines before @at: the blocks before q, and the '\n's of block q
	 * before @at (past the end of the walk c.nl is 0).  A string or
	 * scalar going back from q to @at has no '\n' (it was proved).
	 */
	below = at > q ? (size_t)(at - q) : 0;
	if (below < BLOCK)
		nl_before += (uint64_t)__builtin_popcountll(
			c.nl & (((uint64_t)1 << below) - 1));
	else
		nl_before += (uint64_t)__builtin_popcountll(c.nl);
	m->stack[0] = stk;
	m->state = (uint8_t)st;
	m->depth = depth;
	m->is_key = false;
	m->want_low = false;
	m->line += nl_before;
	m->offset += (uint64_t)(at - buf);
	return (size_t)(at - buf);
}

size_t format_json_simd_run(struct json_machine *m, const unsigned char *buf,
			    size_t len, size_t *exact_to)
{
	return simd_run(m, buf, len, exact_to);
}

#else

size_t format_json_simd_run(struct json_machine *m, const unsigned char *buf,
			    size_t len, size_t *exact_to)
{
	(void)m;
	(void)buf;
	*exact_to = len;
	return 0;
}

#endif
