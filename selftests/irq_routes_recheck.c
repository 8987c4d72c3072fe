// SPDX-License-Identifier: GPL-2.0-only
/*
 * irq_routes_recheck - a KVM_SET_GSI_ROUTING table that was valid becomes
 * invalid when the VM's state changes, and resubmitting it must fail as it
 * does on 6.12 (Documentation/irq-routing.rst, v1 -> v2).
 *
 * x86 refuses MSI routes with bits in address_hi[7:0] once the VM uses
 * 32-bit x2APIC IDs (KVM_CAP_X2APIC_API with KVM_X2APIC_API_USE_32BIT_IDS).
 * The test installs a table with such a route twice (so that a kernel that
 * keeps a copy of the last table has one), enables the capability and
 * submits the same table again: EINVAL on 6.12, which checks every entry of
 * every table.  A kernel that compares the new table with its copy and only
 * sets up the entries that differ must still check that route.
 *
 * Test 2: a route that is the same as an installed one except for invalid
 * flags.  After KVM_CREATE_IRQCHIP the default routes are installed by the
 * kernel, so no copy of a userspace table exists; a table whose IOAPIC
 * route for GSI 20 sets flags = 1 (no flag is defined for irqchip routes)
 * must get EINVAL, as on 6.12, even though that route sets up to exactly
 * the installed one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_util.h"
#include "kselftest.h"
#include "scale_util.h"

#define NR_IOAPIC_GSIS	24
#define MSI_GSI		40

int main(void)
{
	struct kvm_irq_routing *rt;
	struct kvm_vm *vm;
	unsigned int i;
	int r;

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IRQ_ROUTING));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_X2APIC_API));

	ksft_print_header();
	ksft_set_plan(2);

	vm = vm_create_barebones();
	vm_create_irqchip(vm);

	rt = calloc(1, sizeof(*rt) + (NR_IOAPIC_GSIS + 1) * sizeof(rt->entries[0]));
	TEST_ASSERT(rt, "calloc");
	for (i = 0; i < NR_IOAPIC_GSIS; i++)
		scale_route_ioapic(&rt->entries[i], i);
	rt->entries[i].gsi = MSI_GSI;
	rt->entries[i].type = KVM_IRQ_ROUTING_MSI;
	rt->entries[i].u.msi.address_lo = 0xfee00000;
	rt->entries[i].u.msi.address_hi = 0x1;
	rt->entries[i].u.msi.data = 0x30;
	rt->nr = NR_IOAPIC_GSIS + 1;

	for (i = 0; i < 2; i++)
		TEST_ASSERT(!__vm_ioctl(vm, KVM_SET_GSI_ROUTING, rt),
			    "KVM_SET_GSI_ROUTING #%u: %s", i, strerror(errno));

	vm_enable_cap(vm, KVM_CAP_X2APIC_API, KVM_X2APIC_API_USE_32BIT_IDS);

	r = __vm_ioctl(vm, KVM_SET_GSI_ROUTING, rt);
	ksft_test_result(r == -1 && errno == EINVAL,
			 "same table after KVM_X2APIC_API_USE_32BIT_IDS: %s (want EINVAL, as 6.12)\n",
			 r ? strerror(errno) : "accepted");

	kvm_vm_free(vm);

	vm = vm_create_barebones();
	vm_create_irqchip(vm);
	for (i = 0; i < NR_IOAPIC_GSIS; i++)
		scale_route_ioapic(&rt->entries[i], i);
	rt->entries[20].flags = 1;
	rt->nr = NR_IOAPIC_GSIS;
	r = __vm_ioctl(vm, KVM_SET_GSI_ROUTING, rt);
	ksft_test_result(r == -1 && errno == EINVAL,
			 "unchanged IOAPIC route with flags 1: %s (want EINVAL, as 6.12)\n",
			 r ? strerror(errno) : "accepted");

	free(rt);
	kvm_vm_free(vm);
	ksft_finished();
}
