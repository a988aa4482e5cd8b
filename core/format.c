// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * format: the table of validators, the formats that validate nothing
 * (opaque, text) and the check (validator + XXH3-128 in one pass).
 */
#include "config.h"

#include "format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
/* The state's layout, to save a running hash beside its file. */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

static const struct format_ops *const format_table[FORMAT_COUNT] = {
	[FORMAT_OPAQUE] = &format_opaque_ops,
	[FORMAT_TEXT] = &format_text_ops,
	[FORMAT_JSON] = &format_json_ops,
	[FORMAT_JSONL] = &format_jsonl_ops,
	[FORMAT_CSV] = &format_csv_ops,
	[FORMAT_TSV] = &format_tsv_ops,
};

const struct format_ops *format_ops_of(enum format_kind kind)
{
	if ((unsigned int)kind >= FORMAT_COUNT)
		return NULL;
	return format_table[kind];
}

int format_kind_parse(const char *name)
{
	for (int k = 0; k < FORMAT_COUNT; k++)
		if (strcmp(format_table[k]->name, name) == 0)
			return k;
	return -EINVAL;
}

const char *format_kind_name(enum format_kind kind)
{
	const struct format_ops *ops = format_ops_of(kind);

	return ops ? ops->name : "unknown";
}

enum format_kind format_kind_for_name(const char *name)
{
	static const struct {
		const char *ext;
		enum format_kind kind;
	} by_ext[] = {
		{ "json", FORMAT_JSON },   { "jsonl", FORMAT_JSONL },
		{ "ndjson", FORMAT_JSONL }, { "csv", FORMAT_CSV },
		{ "tsv", FORMAT_TSV },     { "txt", FORMAT_TEXT },
		{ "log", FORMAT_TEXT },
	};
	const char *base = strrchr(name, '/');
	const char *dot;

	base = base ? base + 1 : name;
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		return FORMAT_OPAQUE;
	for (size_t i = 0; i < sizeof(by_ext) / sizeof(by_ext[0]); i++)
		if (strcasecmp(dot + 1, by_ext[i].ext) == 0)
			return by_ext[i].kind;
	return FORMAT_OPAQUE;
}

/* opaque: any bytes, no records. */

static int opaque_init(void *state, format_record_fn *on_record, void *ctx)
{
	(void)state;
	(void)ctx;
	return on_record ? -EINVAL : 0;
}

static int opaque_feed(void *state, const unsigned char *buf, size_t len)
{
	(void)state;
	(void)buf;
	(void)len;
	return 0;
}

static int opaque_finish(void *state, struct format_error *err)
{
	(void)state;
	(void)err;
	return 0;
}

static void opaque_release(void *state)
{
	(void)state;
}

const struct format_ops format_opaque_ops = {
	.name = "opaque",
	.kind = FORMAT_OPAQUE,
	.has_records = false,
	.state_size = 1,
	.init = opaque_init,
	.feed = opaque_feed,
	.finish = opaque_finish,
	.release = opaque_release,
};

/* text: any bytes; each line a valid record. */

struct text_state {
	format_record_fn *on_record;
	void *ctx;
	uint64_t start;		/* of the current line */
	uint64_t fed;
};

static int text_init(void *state, format_record_fn *on_record, void *ctx)
{
	struct text_state *t = state;

	*t = (struct text_state){ .on_record = on_record, .ctx = ctx };
	return 0;
}

static int text_feed(void *state, const unsigned char *buf, size_t len)
{
	struct text_state *t = state;
	const unsigned char *p = buf, *end = buf + len, *nl;

	if (!t->on_record) {
		t->fed += len;
		return 0;
	}
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		uint64_t stop = t->fed + (uint64_t)(nl + 1 - buf);

		t->on_record(t->ctx, t->start, stop, NULL);
		t->start = stop;
		p = nl + 1;
	}
	t->fed += len;
	return 0;
}

static int text_finish(void *state, struct format_error *err)
{
	struct text_state *t = state;

	(void)err;
	if (t->on_record && t->start < t->fed)
		t->on_record(t->ctx, t->start, t->fed, NULL);
	t->start = t->fed;
	return 0;
}

const struct format_ops format_text_ops = {
	.name = "text",
	.kind = FORMAT_TEXT,
	.has_records = true,
	.state_size = sizeof(struct text_state),
	.init = text_init,
	.feed = text_feed,
	.finish = text_finish,
	.release = opaque_release,
};

/* The check. */

struct format_check {
	const struct format_ops *ops;
	XXH3_state_t *hash;
	uint64_t fed;
	bool invalid;		/* feed() said so; finish() says where */
	bool finished;
	_Alignas(max_align_t) unsigned char state[];
};

int format_check_new(enum format_kind kind, struct format_check **out)
{
	const struct format_ops *ops = format_ops_of(kind);
	struct format_check *c;
	int ret;

	if (!ops)
		return -EINVAL;
	c = calloc(1, sizeof(*c) + ops->state_size);
	if (!c)
		return -ENOMEM;
	c->ops = ops;
	c->hash = XXH3_createState();
	if (!c->hash) {
		free(c);
		return -ENOMEM;
	}
	ret = ops->init(c->state, NULL, NULL);
	if (ret < 0) {
		XXH3_freeState(c->hash);
		free(c);
		return ret;
	}
	XXH3_128bits_reset(c->hash);
	*out = c;
	return 0;
}

void format_check_free(struct format_check *c)
{
	if (!c)
		return;
	c->ops->release(c->state);
	XXH3_freeState(c->hash);
	free(c);
}

void format_check_reset(struct format_check *c)
{
	c->ops->release(c->state);
	/* init() of whole-content mode only fails on memory; feed says so. */
	if (c->ops->init(c->state, NULL, NULL) < 0)
		c->ops->release(c->state);
	XXH3_128bits_reset(c->hash);
	c->fed = 0;
	c->invalid = false;
	c->finished = false;
}

int format_check_feed(struct format_check *c, const void *buf, size_t len)
{
	int ret = 0;

	if (!len)
		return c->invalid ? -EINVAL : 0;
	XXH3_128bits_update(c->hash, buf, len);
	c->fed += len;
	if (!c->invalid) {
		ret = c->ops->feed(c->state, buf, len);
		if (ret == -EINVAL)
			c->invalid = true;
	}
	return ret == -ENOMEM ? ret : c->invalid ? -EINVAL : 0;
}

uint64_t format_check_fed(const struct format_check *c)
{
	return c->fed;
}

int format_check_finish(struct format_check *c, struct format_sum *sum,
			struct format_error *err)
{
	XXH128_hash_t h = XXH3_128bits_digest(c->hash);
	struct format_error e = { 0 };
	int ret;

	c->finished = true;
	ret = c->ops->finish(c->state, &e);
	sum->high = h.high64;
	sum->low = h.low64;
	if (ret < 0) {
		*err = e;
		return ret;
	}
	return 0;
}

/* The running hash. */

struct format_hasher {
	XXH3_state_t state;
};

/* "HXH3", the library's version and the state's size, then the state. */
struct hasher_saved {
	char magic[4];
	uint32_t version;
	uint32_t size;
	uint32_t pad;
};

int format_hasher_new(struct format_hasher **out)
{
	struct format_hasher *h = aligned_alloc(64, sizeof(*h));

	if (!h)
		return -ENOMEM;
	XXH3_128bits_reset(&h->state);
	*out = h;
	return 0;
}

void format_hasher_free(struct format_hasher *h)
{
	free(h);
}

void format_hasher_update(struct format_hasher *h, const void *buf,
			  size_t len)
{
	XXH3_128bits_update(&h->state, buf, len);
}

void format_hasher_sum(const struct format_hasher *h, struct format_sum *sum)
{
	XXH128_hash_t d = XXH3_128bits_digest(&h->state);

	sum->high = d.high64;
	sum->low = d.low64;
}

uint64_t format_hasher_len(const struct format_hasher *h)
{
	return h->state.totalLen;
}

void format_hasher_copy(struct format_hasher *dst,
			const struct format_hasher *src)
{
	XXH3_copyState(&dst->state, &src->state);
}

size_t format_hasher_save(const struct format_hasher *h, void *buf,
			  size_t size)
{
	struct hasher_saved head = {
		.magic = "HXH3", .version = XXH_VERSION_NUMBER,
		.size = sizeof(h->state),
	};

	if (size < sizeof(head) + sizeof(h->state))
		return 0;
	memcpy(buf, &head, sizeof(head));
	memcpy((char *)buf + sizeof(head), &h->state, sizeof(h->state));
	return sizeof(head) + sizeof(h->state);
}

int format_hasher_load(struct format_hasher *h, const void *buf, size_t len)
{
	struct hasher_saved head;
	const unsigned char *secret;

	/* The default secret lives in the library: its address is this run's. */
	XXH3_128bits_reset(&h->state);
	secret = h->state.extSecret;
	if (len != sizeof(head) + sizeof(h->state))
		return -EINVAL;
	memcpy(&head, buf, sizeof(head));
	if (memcmp(head.magic, "HXH3", 4) || head.version != XXH_VERSION_NUMBER ||
	    head.size != sizeof(h->state))
		return -EINVAL;
	memcpy(&h->state, (const char *)buf + sizeof(head), sizeof(h->state));
	h->state.extSecret = secret;
	if (h->state.bufferedSize > sizeof(h->state.buffer) ||
	    h->state.seed != 0 || h->state.useSeed != 0 ||
	    h->state.secretLimit != XXH3_SECRET_DEFAULT_SIZE - 64 ||
	    h->state.nbStripesPerBlock != h->state.secretLimit / 8 ||
	    h->state.nbStripesSoFar > h->state.nbStripesPerBlock) {
		XXH3_128bits_reset(&h->state);
		return -EINVAL;
	}
	return 0;
}

size_t format_check_save_hash(const struct format_check *c, void *buf,
			      size_t size)
{
	return format_hasher_save((const struct format_hasher *)c->hash, buf,
				  size);
}

void format_sum_hex(const struct format_sum *sum, char out[33])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[i] = digits[(sum->high >> (60 - 4 * i)) & 0xf];
		out[16 + i] = digits[(sum->low >> (60 - 4 * i)) & 0xf];
	}
	out[32] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int format_sum_parse(const char *hex, struct format_sum *sum)
{
	uint64_t half[2] = { 0, 0 };

	for (int i = 0; i < 32; i++) {
		int d = hex_digit(hex[i]);

		if (d < 0)
			return -EINVAL;
		half[i / 16] = half[i / 16] << 4 | (uint64_t)d;
	}
	if (hex[32] != '\0')
		return -EINVAL;
	sum->high = half[0];
	sum->low = half[1];
	return 0;
}
