// SPDX-License-Identifier: GPL-2.0-only
/*
 * irqfd_scale - KVM_IRQFD at scale (Documentation/irq-routing.rst).
 *
 * A VMM gives each MSI vector of each device an irqfd, so a VM with
 * thousands of devices has thousands of irqfds.  Stock KVM keeps them on one
 * list: every KVM_IRQFD assign walks it for a duplicate eventfd, every
 * deassign walks it, and every KVM_SET_GSI_ROUTING walks it for the irqfds
 * of the GSIs that changed, each time with interrupts off.
 *
 * 1. IRQFD_N irqfds (default 16384, one eventfd each, on GSIs 24..) are
 *    assigned in a VM with an in-kernel irqchip, N/4 in another VM first, so
 *    the two times show how the cost grows:
 *      # metric irqfd.assign_<N>_s, irqfd.assign_<N/4>_s, irqfd.growth_4x
 * 2. Before and after the N irqfds exist, IRQFD_UPDATES (default 1000)
 *    whole-table KVM_SET_GSI_ROUTING calls, each retargeting the MSI route
 *    of one GSI that has an irqfd, in a 24 + 64 route table.  The difference
 *    is what the N irqfds add to one routing change:
 *      # metric irqfd.route_change_0_us, irqfd.route_change_<N>_us
 * 3. The rules the lookups must keep, with all N irqfds in place: an
 *    eventfd in use gives EBUSY on any GSI and in any other VM (the rule of
 *    mainline since 2cdd64cbf990); a deassign naming the wrong GSI
 *    leaves the irqfd alone; the right one removes it and the eventfd can
 *    be assigned again.  Then all of them are deassigned:
 *      # metric irqfd.deassign_<N>_s
 *
 * Delivery through irqfds whose routes change is checked by irq_routes.
 * Needs N + ~64 file descriptors; raises RLIMIT_NOFILE to the hard limit and
 * lowers N to fit (reported) if that is not enough.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_util.h"
#include "kselftest.h"
#include "scale_util.h"

#define GSI_BASE	24
#define TABLE_MSI	64

static int kvm_fd;
static struct kvm_irq_routing *rt;

static int irqfd(int vm_fd, int efd, unsigned int gsi, unsigned int flags)
{
	struct kvm_irqfd a = { .fd = efd, .gsi = gsi, .flags = flags };

	return ioctl(vm_fd, KVM_IRQFD, &a) ? -errno : 0;
}

static int *open_eventfds(unsigned int n)
{
	int *efd = calloc(n, sizeof(*efd));
	unsigned int i;

	TEST_ASSERT(efd, "calloc");
	for (i = 0; i < n; i++) {
		efd[i] = eventfd(0, EFD_CLOEXEC);
		TEST_ASSERT(efd[i] >= 0, "eventfd %u: %s", i, strerror(errno));
	}
	return efd;
}

static void close_eventfds(int *efd, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		close(efd[i]);
	free(efd);
}

/* Assign irqfd i on GSI GSI_BASE + i for each of @n eventfds; seconds. */
static double assign_all(int vm_fd, int *efd, unsigned int n)
{
	double t0 = scale_now_s();
	unsigned int i;
	int r;

	for (i = 0; i < n; i++) {
		r = irqfd(vm_fd, efd[i], GSI_BASE + i, 0);
		TEST_ASSERT(!r, "KVM_IRQFD %u: %s", i, strerror(-r));
	}
	return scale_now_s() - t0;
}

/* Table of 24 IOAPIC routes and TABLE_MSI MSI routes on GSI_BASE... */
static void set_entry(unsigned int i, unsigned int salt)
{
	struct kvm_irq_routing_entry *e = &rt->entries[i];

	memset(e, 0, sizeof(*e));
	if (i < GSI_BASE) {
		e->gsi = i;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = i;
		return;
	}
	e->gsi = i;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = 0xfee00000;
	e->u.msi.data = 0x40 + (i + salt) % 64;
}

/* @calls whole-table calls, each retargeting one MSI route; us per call. */
static double route_changes(int vm_fd, unsigned int calls)
{
	unsigned int i, nr = GSI_BASE + TABLE_MSI;
	double t0;

	for (i = 0; i < nr; i++)
		set_entry(i, 0);
	rt->nr = nr;
	rt->flags = 0;
	TEST_ASSERT(!ioctl(vm_fd, KVM_SET_GSI_ROUTING, rt),
		    "KVM_SET_GSI_ROUTING: %s", strerror(errno));
	t0 = scale_now_s();
	for (i = 0; i < calls; i++) {
		set_entry(GSI_BASE + i % TABLE_MSI, i / TABLE_MSI + 1);
		TEST_ASSERT(!ioctl(vm_fd, KVM_SET_GSI_ROUTING, rt),
			    "KVM_SET_GSI_ROUTING: %s", strerror(errno));
	}
	return (scale_now_s() - t0) * 1e6 / calls;
}

#define CHECK(cond, what) do {					\
	if (!(cond)) {						\
		ksft_print_msg("wrong: %s\n", what);		\
		wrong++;					\
	}							\
} while (0)

/* Part 3 on a VM whose irqfd i sits on GSI_BASE + i, i < @n. */
static int check_rules(int vm_fd, int *efd, unsigned int n)
{
	unsigned int last = n - 1;
	int wrong = 0, vm2_fd;

	CHECK(irqfd(vm_fd, efd[0], GSI_BASE, 0) == -EBUSY,
	      "an eventfd in use, same GSI: EBUSY");
	CHECK(irqfd(vm_fd, efd[last], GSI_BASE + 3, 0) == -EBUSY,
	      "an eventfd in use, other GSI: EBUSY");
	CHECK(!irqfd(vm_fd, efd[last], GSI_BASE + last - 1,
		     KVM_IRQFD_FLAG_DEASSIGN),
	      "deassign with the wrong GSI returns 0");
	CHECK(irqfd(vm_fd, efd[last], GSI_BASE + last, 0) == -EBUSY,
	      "deassign with the wrong GSI leaves the irqfd");
	CHECK(!irqfd(vm_fd, efd[last], GSI_BASE + last,
		     KVM_IRQFD_FLAG_DEASSIGN),
	      "deassign with the right GSI");
	CHECK(!irqfd(vm_fd, efd[last], GSI_BASE + 5, 0),
	      "assign a deassigned eventfd on another GSI");
	CHECK(!irqfd(vm_fd, efd[last], GSI_BASE + 5, KVM_IRQFD_FLAG_DEASSIGN),
	      "and deassign it");
	CHECK(!irqfd(vm_fd, efd[last], GSI_BASE + last, 0),
	      "assign it back");

	/*
	 * One eventfd signals one irqfd, in any VM: KVM's waiter on the
	 * eventfd is exclusive, a second one would never be signalled.
	 */
	vm2_fd = scale_create_vm_irqchip(kvm_fd);
	CHECK(irqfd(vm2_fd, efd[0], GSI_BASE, 0) == -EBUSY,
	      "an eventfd in use by another VM: EBUSY");
	CHECK(!irqfd(vm_fd, efd[0], GSI_BASE, KVM_IRQFD_FLAG_DEASSIGN),
	      "deassign it in its VM");
	CHECK(!irqfd(vm2_fd, efd[0], GSI_BASE, 0),
	      "then the other VM can assign it");
	CHECK(!irqfd(vm2_fd, efd[0], GSI_BASE, KVM_IRQFD_FLAG_DEASSIGN),
	      "and deassign it");
	close(vm2_fd);
	CHECK(!irqfd(vm_fd, efd[0], GSI_BASE, 0),
	      "assign it back in its VM");
	return wrong;
}

int main(void)
{
	unsigned int want, n, n4, updates, i;
	double t4, tn, rc0, rcn, td;
	int vm_fd, *efd, wrong, r;
	ksft_print_header();
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		ksft_exit_skip("/dev/kvm: %s\n", strerror(errno));
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) <= 0)
		ksft_exit_skip("KVM_CAP_IRQFD not supported\n");

	want = scale_env_ulong("IRQFD_N", 16384);
	updates = scale_env_ulong("IRQFD_UPDATES", 1000);
	TEST_ASSERT(want >= 64 && updates, "IRQFD_N >= 64 and IRQFD_UPDATES > 0");
	n = scale_nofile_fit(want, 64);
	if (n < 64)
		ksft_exit_skip("RLIMIT_NOFILE too low for 64 irqfds\n");
	if (n != want)
		ksft_print_msg("RLIMIT_NOFILE: %u irqfds instead of %u\n", n, want);
	n4 = n / 4;
	ksft_set_plan(3);

	rt = calloc(1, sizeof(*rt) + (GSI_BASE + TABLE_MSI) *
		    sizeof(struct kvm_irq_routing_entry));
	TEST_ASSERT(rt, "calloc");

	/* 1: N/4, then N. */
	vm_fd = scale_create_vm_irqchip(kvm_fd);
	efd = open_eventfds(n4);
	t4 = assign_all(vm_fd, efd, n4);
	close(vm_fd);
	close_eventfds(efd, n4);

	vm_fd = scale_create_vm_irqchip(kvm_fd);
	rc0 = route_changes(vm_fd, updates);
	efd = open_eventfds(n);
	tn = assign_all(vm_fd, efd, n);
	scale_report_growth("irqfd.assign", "irqfd.growth_4x", "irqfds assigned",
			    n4, t4, n, tn);

	/* 2: a routing change with and without the irqfds. */
	rcn = route_changes(vm_fd, updates);
	ksft_print_msg("metric irqfd.route_change_0_us %.1f us\n", rc0);
	ksft_print_msg("metric irqfd.route_change_%u_us %.1f us\n", n, rcn);
	ksft_test_result_pass("one route change: %.1f us without irqfds, %.1f us with %u\n",
			      rc0, rcn, n);

	/* 3: rules, then deassign everything. */
	wrong = check_rules(vm_fd, efd, n);
	td = scale_now_s();
	for (i = 0; i < n; i++) {
		r = irqfd(vm_fd, efd[i], GSI_BASE + i, KVM_IRQFD_FLAG_DEASSIGN);
		if (r) {
			ksft_print_msg("deassign %u: %s\n", i, strerror(-r));
			wrong++;
		}
	}
	td = scale_now_s() - td;
	/* All gone: every eventfd can be assigned again. */
	for (i = 0; i < n; i += n / 16)
		if (irqfd(vm_fd, efd[i], GSI_BASE + i, 0)) {
			ksft_print_msg("reassign %u after deassign failed\n", i);
			wrong++;
		}
	ksft_print_msg("metric irqfd.deassign_%u_s %.3f s\n", n, td);
	close(vm_fd);
	close_eventfds(efd, n);
	ksft_test_result(!wrong, "EBUSY and deassign rules hold (%d wrong); %u deassigned in %.3f s\n",
			 wrong, n, td);

	close(kvm_fd);
	ksft_finished();
}
