/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the kvm-scale selftests: numeric parameters from the
 * environment, a monotonic clock in seconds and the open-files limit.
 */
#ifndef KVM_SCALE_UTIL_H
#define KVM_SCALE_UTIL_H

#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "kselftest.h"

/* $name as a number (0x.. and 0.. accepted), @def if unset or empty. */
static inline unsigned long scale_env_ulong(const char *name, unsigned long def)
{
	const char *e = getenv(name);
	unsigned long v;
	char *end;

	if (!e || !*e)
		return def;
	v = strtoul(e, &end, 0);
	if (*end)
		ksft_exit_fail_msg("%s=%s is not a number\n", name, e);
	return v;
}

static inline double scale_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Raise RLIMIT_NOFILE to @want, or as far as the hard limit allows. */
static inline void scale_raise_nofile(unsigned long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

#endif
