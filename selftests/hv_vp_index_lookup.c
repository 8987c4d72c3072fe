// SPDX-License-Identifier: GPL-2.0-only
/*
 * hv_vp_index_lookup - Hyper-V lookups by VP index with a permuted VP index
 * layout: right target, and a cost per lookup that does not grow with the
 * number of vCPUs.
 *
 * KVM resolves a VP index to a vCPU for SynIC interrupts (a
 * KVM_IRQ_ROUTING_HV_SINT route names its vCPU by VP index) and SynIC
 * lookups.  A vCPU's VP index is its vCPU index until userspace writes
 * HV_X64_MSR_VP_INDEX; after that Linux 6.12 found the vCPU by walking all
 * vCPUs, O(N) per lookup.
 *
 * For two VMs of n vCPUs (n = N / 8 and N) the test enables the SynIC of every
 * vCPU, unmasks SINT 0 (vector 0x50) and SINT 1 (vector 0x51), software-
 * enables the local APIC, gives vCPU i the VP index n - 1 - i with host
 * writes and routes GSI 32 + k to SINT 0 of VP index k.  Then:
 *
 *  1. HV_X64_MSR_VP_INDEX of each vCPU reads back the permuted value;
 *  2. for every k, KVM_IRQ_LINE on GSI 32 + k sets vector 0x50 in the IRR of
 *     vCPU n - 1 - k, which was clear before;
 *  3. (n = N) vCPUs sharing a VP index, which host writes allow: a route to
 *     SINT 1 of the shared index reaches the sharer with the lowest vCPU
 *     index, as on 6.12, also after that vCPU moves away and back;
 *  4. the median time of KVM_IRQ_LINE to one of 256 VP indexes spread over
 *     [0, n) is measured for both VMs, in alternating rounds; the test fails
 *     if it grows by more than -r (default 3.0) from N / 8 to N vCPUs (a walk
 *     of the vCPUs grows 8x).
 *
 * Usage: hv_vp_index_lookup [-n N (default 2048)] [-r max_growth] [-s]
 *   -s: print the timing, do not check it.
 * SKIP without KVM_CAP_HYPERV_SYNIC or if KVM_CAP_MAX_VCPUS < N.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "apic.h"
#include "hyperv.h"
#include "kselftest.h"
#include "scale_util.h"

#define DEFAULT_NR_VCPUS	2048
#define SMALL_DIV		8
#define GSI_BASE		32
#define VEC0			0x50
#define VEC1			0x51
#define NR_PROBES		256
#define NR_ROUNDS		8

static void get_lapic(struct kvm_vcpu *vcpu, struct kvm_lapic_state *s)
{
	vcpu_ioctl(vcpu, KVM_GET_LAPIC, s);
}

static bool irr_set(struct kvm_vcpu *vcpu, uint8_t vec)
{
	struct kvm_lapic_state s;
	uint32_t irr;

	get_lapic(vcpu, &s);
	memcpy(&irr, &s.regs[APIC_IRR + (vec / 32) * 0x10], sizeof(irr));
	return irr & (1u << (vec % 32));
}

static void clear_irr(struct kvm_vcpu *vcpu, uint8_t vec)
{
	struct kvm_lapic_state s;
	uint32_t irr;

	get_lapic(vcpu, &s);
	memcpy(&irr, &s.regs[APIC_IRR + (vec / 32) * 0x10], sizeof(irr));
	irr &= ~(1u << (vec % 32));
	memcpy(&s.regs[APIC_IRR + (vec / 32) * 0x10], &irr, sizeof(irr));
	vcpu_ioctl(vcpu, KVM_SET_LAPIC, &s);
}

static void irq_line(struct kvm_vm *vm, uint32_t gsi)
{
	struct kvm_irq_level l = { .irq = gsi, .level = 1 };

	vm_ioctl(vm, KVM_IRQ_LINE, &l);
}

static void set_vp_index(struct kvm_vcpu *vcpu, uint32_t vp)
{
	uint64_t got;

	vcpu_set_msr(vcpu, HV_X64_MSR_VP_INDEX, vp);
	got = vcpu_get_msr(vcpu, HV_X64_MSR_VP_INDEX);
	TEST_ASSERT(got == vp, "vCPU %u: VP index reads %lu after writing %u",
		    vcpu->id, got, vp);
}

/* SynIC on, SINT 0 and 1 unmasked, APIC software-enabled. */
static void setup_vcpu(struct kvm_vcpu *vcpu)
{
	struct kvm_lapic_state s;
	uint32_t spiv;

	vcpu_enable_cap(vcpu, KVM_CAP_HYPERV_SYNIC, 0);
	vcpu_set_msr(vcpu, HV_X64_MSR_SCONTROL, 1);
	vcpu_set_msr(vcpu, HV_X64_MSR_SINT0, VEC0);
	vcpu_set_msr(vcpu, HV_X64_MSR_SINT0 + 1, VEC1);

	get_lapic(vcpu, &s);
	memcpy(&spiv, &s.regs[APIC_SPIV], sizeof(spiv));
	spiv |= APIC_SPIV_APIC_ENABLED;
	memcpy(&s.regs[APIC_SPIV], &spiv, sizeof(spiv));
	vcpu_ioctl(vcpu, KVM_SET_LAPIC, &s);
}

/*
 * GSI GSI_BASE + k -> SINT 0 of VP index k for k < n, and GSI GSI_BASE + n
 * -> SINT 1 of VP index @shared.
 */
static void set_routes(struct kvm_vm *vm, uint32_t n, uint32_t shared)
{
	struct kvm_irq_routing *rt;
	uint32_t k;

	rt = calloc(1, sizeof(*rt) + (n + 1) * sizeof(rt->entries[0]));
	TEST_ASSERT(rt, "calloc");
	for (k = 0; k <= n; k++) {
		rt->entries[k].gsi = GSI_BASE + k;
		rt->entries[k].type = KVM_IRQ_ROUTING_HV_SINT;
		rt->entries[k].u.hv_sint.vcpu = k < n ? k : shared;
		rt->entries[k].u.hv_sint.sint = k < n ? 0 : 1;
	}
	rt->nr = n + 1;
	vm_ioctl(vm, KVM_SET_GSI_ROUTING, rt);
	free(rt);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct vp_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu **vcpus;
	uint32_t n;
	double *t;
};

/* Time KVM_IRQ_LINE to NR_PROBES VP indexes spread over [0, n) once, in us. */
static void time_round(struct vp_vm *v, uint32_t round)
{
	uint32_t p, k;
	double t0;

	for (p = 0; p < NR_PROBES; p++) {
		k = (uint64_t)p * v->n / NR_PROBES;
		t0 = scale_now_s();
		irq_line(v->vm, GSI_BASE + k);
		v->t[round * NR_PROBES + p] = (scale_now_s() - t0) * 1e6;
	}
}

static double median_us(struct vp_vm *v)
{
	double m;

	qsort(v->t, NR_PROBES * NR_ROUNDS, sizeof(v->t[0]), cmp_double);
	m = v->t[NR_PROBES * NR_ROUNDS / 2];
	ksft_print_msg("metric hv_vp_index_lookup_%u_us %.2f us\n", v->n, m);
	return m;
}

/*
 * A VM of @n vCPUs with reversed VP indexes and SINT routes by VP index;
 * checks tests 1 and 2.
 */
static void setup(struct vp_vm *v, uint32_t n, bool *ok_read, bool *ok_route)
{
	uint32_t i, k, t;

	v->n = n;
	v->vcpus = calloc(n, sizeof(*v->vcpus));
	v->t = calloc(NR_PROBES * NR_ROUNDS, sizeof(*v->t));
	TEST_ASSERT(v->vcpus && v->t, "calloc");
	v->vm = vm_create(n);
	for (i = 0; i < n; i++) {
		v->vcpus[i] = vm_vcpu_add(v->vm, i, NULL);
		setup_vcpu(v->vcpus[i]);
	}
	for (i = 0; i < n; i++)
		set_vp_index(v->vcpus[i], n - 1 - i);
	set_routes(v->vm, n, n + 5);

	for (i = 0; i < n; i++) {
		uint64_t vp = vcpu_get_msr(v->vcpus[i], HV_X64_MSR_VP_INDEX);

		if (vp != n - 1 - i) {
			ksft_print_msg("vCPU %u: VP index %lu, expected %u\n",
				       i, vp, n - 1 - i);
			*ok_read = false;
		}
	}

	for (k = 0; k < n; k++) {
		t = n - 1 - k;
		if (irr_set(v->vcpus[t], VEC0)) {
			ksft_print_msg("n=%u: vCPU %u had vector %#x before VP index %u was targeted\n",
				       n, t, VEC0, k);
			*ok_route = false;
			break;
		}
		irq_line(v->vm, GSI_BASE + k);
		if (!irr_set(v->vcpus[t], VEC0)) {
			ksft_print_msg("n=%u: SINT 0 of VP index %u did not reach vCPU %u\n",
				       n, k, t);
			*ok_route = false;
			break;
		}
	}
}

/* Test 3: VP index n + 5 (routed to SINT 1) shared by vCPUs 1 and 3. */
static bool check_shared(struct vp_vm *v)
{
	struct kvm_vcpu **vcpus = v->vcpus;
	uint32_t n = v->n, shared = n + 5, away = n + 6;
	bool ok = true;

	/* vCPUs 1 and 3 share a VP index: vCPU 1 is the target. */
	set_vp_index(vcpus[3], shared);
	set_vp_index(vcpus[1], shared);
	irq_line(v->vm, GSI_BASE + n);
	if (!irr_set(vcpus[1], VEC1) || irr_set(vcpus[3], VEC1)) {
		ksft_print_msg("shared VP index %u: not (only) vCPU 1\n", shared);
		ok = false;
	}
	clear_irr(vcpus[1], VEC1);

	/* vCPU 1 moves away: vCPU 3 is the only one left. */
	set_vp_index(vcpus[1], away);
	irq_line(v->vm, GSI_BASE + n);
	if (irr_set(vcpus[1], VEC1) || !irr_set(vcpus[3], VEC1)) {
		ksft_print_msg("shared VP index %u after vCPU 1 left: not (only) vCPU 3\n",
			       shared);
		ok = false;
	}
	clear_irr(vcpus[3], VEC1);

	/* And back: vCPU 1 again. */
	set_vp_index(vcpus[1], shared);
	irq_line(v->vm, GSI_BASE + n);
	if (!irr_set(vcpus[1], VEC1) || irr_set(vcpus[3], VEC1)) {
		ksft_print_msg("shared VP index %u after vCPU 1 came back: not (only) vCPU 1\n",
			       shared);
		ok = false;
	}
	clear_irr(vcpus[1], VEC1);

	/* vCPUs 3 and 1 back to their vCPU index, vCPU n - 2 takes it. */
	set_vp_index(vcpus[3], 3);
	set_vp_index(vcpus[1], 1);
	set_vp_index(vcpus[n - 2], shared);
	irq_line(v->vm, GSI_BASE + n);
	if (!irr_set(vcpus[n - 2], VEC1) || irr_set(vcpus[1], VEC1) ||
	    irr_set(vcpus[3], VEC1)) {
		ksft_print_msg("VP index %u moved to vCPU %u: not (only) there\n",
			       shared, n - 2);
		ok = false;
	}
	return ok;
}

static void destroy(struct vp_vm *v)
{
	kvm_vm_free(v->vm);
	free(v->vcpus);
	free(v->t);
}

static void help(const char *prog)
{
	printf("usage: %s [-n vcpus (default %d)] [-r max_growth (default 3.0)] [-s]\n",
	       prog, DEFAULT_NR_VCPUS);
	exit(KSFT_FAIL);
}

int main(int argc, char *argv[])
{
	bool ok_read = true, ok_route = true, ok_shared = true, check_time = true;
	uint32_t n = DEFAULT_NR_VCPUS, n8, r;
	double max_growth = 3.0, t8, tn;
	struct vp_vm small, big;
	int opt;

	while ((opt = getopt(argc, argv, "n:r:sh")) != -1) {
		switch (opt) {
		case 'n':
			n = atoi_positive("Number of vCPUs", optarg);
			break;
		case 'r':
			max_growth = strtod(optarg, NULL);
			break;
		case 's':
			check_time = false;
			break;
		default:
			help(argv[0]);
		}
	}

	ksft_print_header();
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_HYPERV_SYNIC));
	TEST_REQUIRE(n >= SMALL_DIV * 4);
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_MAX_VCPUS) >= (int)n);
	/* VP indexes up to n + 6 are written. */
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_MAX_VCPUS) >= (int)n + 7);
	ksft_set_plan(4);
	scale_raise_nofile(n + n / SMALL_DIV + 64);

	n8 = n / SMALL_DIV;
	setup(&small, n8, &ok_read, &ok_route);
	setup(&big, n, &ok_read, &ok_route);
	/* Alternate the rounds, so that host noise hits both sizes alike. */
	for (r = 0; r < NR_ROUNDS; r++) {
		time_round(&small, r);
		time_round(&big, r);
	}
	t8 = median_us(&small);
	tn = median_us(&big);
	ok_shared = check_shared(&big);
	destroy(&small);
	destroy(&big);

	ksft_test_result(ok_read, "HV_X64_MSR_VP_INDEX reads the reversed VP indexes\n");
	ksft_test_result(ok_route, "SINT routes by VP index reach vCPU n - 1 - k (n = %u, %u)\n",
			 n8, n);
	ksft_test_result(ok_shared,
			 "a VP index shared by vCPUs resolves to the lowest vCPU index\n");
	ksft_print_msg("metric hv_vp_index_lookup_growth %.2f x\n", tn / t8);
	if (check_time)
		ksft_test_result(tn <= max_growth * t8,
				 "lookup by VP index (median KVM_IRQ_LINE): %.2f us at %u vCPUs, %.2f us at %u (%.2fx, limit %.2fx)\n",
				 t8, n8, tn, n, tn / t8, max_growth);
	else
		ksft_test_result_skip("lookup by VP index: %.2f us at %u vCPUs, %.2f us at %u (%.2fx), not checked (-s)\n",
				      t8, n8, tn, n, tn / t8);
	ksft_finished();
}
