/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the kvm-scale selftests: numeric parameters from the
 * environment, a monotonic clock in seconds, the open-files limit and a
 * bare VM with an in-kernel irqchip.
 */
#ifndef KVM_SCALE_UTIL_H
#define KVM_SCALE_UTIL_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>

#include "kvm_util.h"
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

/*
 * Raise RLIMIT_NOFILE to the hard limit; how many of @want file descriptors
 * fit with @spare more for everything else (0 if none).
 */
static inline unsigned long scale_nofile_fit(unsigned long want,
					     unsigned long spare)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want + spare)
		return want;
	return rl.rlim_cur > spare ? rl.rlim_cur - spare : 0;
}

/*
 * Report a cost measured for N/4 and then N objects: metrics
 * <@metric>_<n4>_s, <@metric>_<n>_s and <@growth> (time(N) / time(N/4), 4
 * is linear), and a passing test line about @n @what.
 */
static inline void scale_report_growth(const char *metric, const char *growth,
				       const char *what, unsigned int n4,
				       double t4, unsigned int n, double t)
{
	ksft_print_msg("metric %s_%u_s %.3f s\n", metric, n4, t4);
	ksft_print_msg("metric %s_%u_s %.3f s\n", metric, n, t);
	ksft_print_msg("metric %s %.2f x\n", growth, t / t4);
	ksft_test_result_pass("%u %s in %.3f s (%u in %.3f s: %.2fx for 4x)\n",
			      n, what, t, n4, t4, t / t4);
}

/* A VM fd, without a struct kvm_vm, with an in-kernel irqchip. */
static inline int scale_create_vm_irqchip(int kvm_fd)
{
	int vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);

	TEST_ASSERT(vm_fd >= 0, "KVM_CREATE_VM: %s", strerror(errno));
	TEST_ASSERT(!ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0),
		    "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	return vm_fd;
}

/* A route of GSI @gsi to the pin of the same number of the IOAPIC. */
static inline void scale_route_ioapic(struct kvm_irq_routing_entry *e,
				      unsigned int gsi)
{
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
	e->u.irqchip.pin = gsi;
}

#endif
