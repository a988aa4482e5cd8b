// SPDX-License-Identifier: GPL-2.0-or-later
/* Extended attributes, passed through to the backing file. */
#include "config.h"

#include "fs.h"

static int fs_setxattr(const char *path, const char *name, const char *value,
		       size_t size, int flags)
{
	return io_setxattr(fs_data()->io, fs_rel(path), name, value, size,
			   flags);
}

static int fs_getxattr(const char *path, const char *name, char *value,
		       size_t size)
{
	return (int)io_getxattr(fs_data()->io, fs_rel(path), name, value,
				size);
}

static int fs_listxattr(const char *path, char *list, size_t size)
{
	return (int)io_listxattr(fs_data()->io, fs_rel(path), list, size);
}

static int fs_removexattr(const char *path, const char *name)
{
	return io_removexattr(fs_data()->io, fs_rel(path), name);
}

void fs_init_ops_xattr(struct fuse_operations *ops)
{
	ops->setxattr = fs_setxattr;
	ops->getxattr = fs_getxattr;
	ops->listxattr = fs_listxattr;
	ops->removexattr = fs_removexattr;
}
