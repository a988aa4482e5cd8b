// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A thin shim between libfuse and /dev/fuse, for what libfuse 3.14 cannot
 * express.
 *
 * The kernel asks a filesystem that answers GETXATTR for
 * "security.capability" before every write(2), one more round trip per write.
 * With FUSE_HANDLE_KILLPRIV_V2 the kernel marks the superblock SB_NOSEC and
 * stops asking; the filesystem then clears set-user-ID and set-group-ID bits
 * itself when the kernel flags a write, truncate or open as coming from a
 * caller without CAP_FSETID.  libfuse 3.14 knows neither the flag nor those
 * request flags, so this shim:
 *  - adds FUSE_HANDLE_KILLPRIV_V2 to the INIT reply when the kernel offers it;
 *  - notes, per thread, whether the request being served asks for the kill
 *    (libfuse reads and serves each request on the same thread).
 */
#include "config.h"

#include "kernel.h"

#include <errno.h>
#include <linux/fuse.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_uint_fast64_t init_unique;
static atomic_bool init_offers_killpriv;
static __thread bool kill_requested;

static void note_request(const void *buf, size_t len)
{
	const struct fuse_in_header *in = buf;
	const char *arg = (const char *)buf + sizeof(*in);
	size_t arglen = len - sizeof(*in);

	kill_requested = false;
	switch (in->opcode) {
	case FUSE_INIT: {
		struct fuse_init_in init;

		if (arglen < offsetof(struct fuse_init_in, flags) +
				     sizeof(init.flags))
			break;
		memcpy(&init.flags, arg + offsetof(struct fuse_init_in, flags),
		       sizeof(init.flags));
		atomic_store(&init_offers_killpriv,
			     init.flags & FUSE_HANDLE_KILLPRIV_V2);
		atomic_store(&init_unique, in->unique);
		break;
	}
	case FUSE_WRITE: {
		struct fuse_write_in w;

		if (arglen < sizeof(w))
			break;
		memcpy(&w, arg, sizeof(w));
		kill_requested = w.write_flags & FUSE_WRITE_KILL_SUIDGID;
		break;
	}
	case FUSE_SETATTR: {
		struct fuse_setattr_in a;

		if (arglen < sizeof(a))
			break;
		memcpy(&a, arg, sizeof(a));
		kill_requested = a.valid & FATTR_KILL_SUIDGID;
		break;
	}
	case FUSE_OPEN:
	case FUSE_CREATE: {
		struct fuse_open_in o;

		if (arglen < sizeof(o))
			break;
		memcpy(&o, arg, sizeof(o));
		kill_requested = o.open_flags & FUSE_OPEN_KILL_SUIDGID;
		break;
	}
	}
}

static ssize_t shim_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n = read(fd, buf, len);

	if (n >= (ssize_t)sizeof(struct fuse_in_header))
		note_request(buf, (size_t)n);
	return n;
}

static ssize_t shim_writev(int fd, struct iovec *iov, int count,
			   void *userdata)
{
	uint64_t want = atomic_load(&init_unique);

	if (want && count >= 2 &&
	    iov[0].iov_len >= sizeof(struct fuse_out_header) &&
	    iov[1].iov_len >= offsetof(struct fuse_init_out, flags) +
				      sizeof(uint32_t)) {
		const struct fuse_out_header *out = iov[0].iov_base;

		if (out->unique == want && out->error == 0 &&
		    atomic_exchange(&init_unique, 0) == want &&
		    atomic_load(&init_offers_killpriv)) {
			struct fuse_init_out *init = iov[1].iov_base;

			init->flags |= FUSE_HANDLE_KILLPRIV_V2;
		}
	}
	return writev(fd, iov, count);
}

int fs_kernel_install(struct fuse_session *se)
{
	static const struct fuse_custom_io io = {
		.read = shim_read,
		.writev = shim_writev,
	};

	if (fuse_session_custom_io(se, &io, fuse_session_fd(se)) < 0)
		return -EINVAL;
	return 0;
}

bool fs_kernel_kill_suidgid(void)
{
	return kill_requested;
}
