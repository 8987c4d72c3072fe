// SPDX-License-Identifier: GPL-2.0-only
/*
 * irq_routes_sint - a Hyper-V SINT route set up before its vCPU's SynIC is
 * enabled is connected by the next KVM_SET_GSI_ROUTING, whatever that call
 * changes (Documentation/irq-routing.rst).
 *
 * KVM ties a SINT to the GSI routed to it (so that the guest's EOI of the
 * SINT acks the GSI: irqfd resamplers) only when the vCPU's SynIC is active;
 * every KVM_SET_GSI_ROUTING re-does it for all SINT routes.  The test routes
 * GSI 30 to SINT 2 of vCPU 0, puts an irqfd with a resampler on GSI 30,
 * enables the SynIC, then adds an unrelated MSI route with the whole-table
 * ABI.  A host write of HV_X64_MSR_EOM then acks every SINT of vCPU 0, which
 * must signal the resampler's eventfd.  Before the MSI route is added it must
 * not (the SINT is not tied yet, as on any kernel).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"

#ifndef HV_X64_MSR_EOM
#define HV_X64_MSR_EOM		0x40000084
#endif

#define NR_IOAPIC_GSIS	24
#define SINT_GSI	30
#define SINT		2
#define MSI_GSI		40

static void guest_code(void)
{
	GUEST_DONE();
}

static int set_table(struct kvm_vm *vm, bool with_msi)
{
	struct kvm_irq_routing *rt;
	unsigned int i, n = 0;
	int r;

	rt = calloc(1, sizeof(*rt) + 32 * sizeof(rt->entries[0]));
	TEST_ASSERT(rt, "calloc");
	for (i = 0; i < NR_IOAPIC_GSIS; i++, n++) {
		rt->entries[n].gsi = i;
		rt->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		rt->entries[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		rt->entries[n].u.irqchip.pin = i;
	}
	rt->entries[n].gsi = SINT_GSI;
	rt->entries[n].type = KVM_IRQ_ROUTING_HV_SINT;
	rt->entries[n].u.hv_sint.vcpu = 0;
	rt->entries[n].u.hv_sint.sint = SINT;
	n++;
	if (with_msi) {
		rt->entries[n].gsi = MSI_GSI;
		rt->entries[n].type = KVM_IRQ_ROUTING_MSI;
		rt->entries[n].u.msi.address_lo = 0xfee00000;
		rt->entries[n].u.msi.data = 0x40;
		n++;
	}
	rt->nr = n;
	r = ioctl(vm->fd, KVM_SET_GSI_ROUTING, rt) ? -errno : 0;
	free(rt);
	return r;
}

/* Ack every SINT of @vcpu from the host; did the resampler fire? */
static bool eom_signals(struct kvm_vcpu *vcpu, int resample_fd)
{
	uint64_t cnt;

	vcpu_set_msr(vcpu, HV_X64_MSR_EOM, 0);
	return read(resample_fd, &cnt, sizeof(cnt)) == sizeof(cnt) && cnt;
}

int main(int argc, char *argv[])
{
	struct kvm_irqfd irqfd = {};
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	bool before, after;
	int opt, efd, rfd, r;

	while ((opt = getopt(argc, argv, "h")) != -1) {
		printf("usage: %s\n", argv[0]);
		exit(opt == 'h' ? KSFT_SKIP : KSFT_FAIL);
	}

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_HYPERV_SYNIC));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IRQFD_RESAMPLE));

	ksft_print_header();
	ksft_set_plan(1);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	r = set_table(vm, false);
	TEST_ASSERT(!r, "KVM_SET_GSI_ROUTING: %s", strerror(-r));

	efd = eventfd(0, EFD_CLOEXEC);
	rfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	TEST_ASSERT(efd >= 0 && rfd >= 0, "eventfd");
	irqfd.fd = efd;
	irqfd.gsi = SINT_GSI;
	irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
	irqfd.resamplefd = rfd;
	TEST_ASSERT(!ioctl(vm->fd, KVM_IRQFD, &irqfd), "KVM_IRQFD: %s",
		    strerror(errno));

	vcpu_enable_cap(vcpu, KVM_CAP_HYPERV_SYNIC, 0);
	before = eom_signals(vcpu, rfd);

	/* An unrelated change: one MSI route more. */
	r = set_table(vm, true);
	TEST_ASSERT(!r, "KVM_SET_GSI_ROUTING: %s", strerror(-r));
	after = eom_signals(vcpu, rfd);

	ksft_print_msg("EOM acks GSI %u: before the routing call %s, after it %s\n",
		       SINT_GSI, before ? "yes" : "no", after ? "yes" : "no");
	ksft_test_result(!before && after,
			 "a SINT route set before SynIC is tied to its GSI by a later unrelated KVM_SET_GSI_ROUTING\n");

	close(efd);
	close(rfd);
	kvm_vm_free(vm);
	ksft_finished();
}
