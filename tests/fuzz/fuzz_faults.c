// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: io_fault_parse() on arbitrary bytes (HYDRAFS_FAULTS). */
#include "config.h"

#include "core/io.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct io *io;
	char *spec;

	if (!io && io_new("/", &io) < 0)
		abort();
	spec = malloc(size + 1);
	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (io_fault_parse(io, spec) == 0) {
		/* Whatever was armed must be clearable. */
		for (int k = 0; k < IO_KIND_COUNT; k++)
			io_fault_set(io, (enum io_kind)k, 0, 0);
	}
	free(spec);
	return 0;
}
