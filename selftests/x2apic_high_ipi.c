// SPDX-License-Identifier: GPL-2.0-only
/*
 * x2apic_high_ipi - IPIs to vCPUs with x2APIC IDs above 4095 in a VM with
 * more than 4096 vCPUs.
 *
 * The VM gets vCPU IDs 0..4095 plus a few "high" IDs (4096, 4097, 8191,
 * 16383, 16384, 32767, 65534, 65535 where KVM_CAP_MAX_VCPU_ID allows them),
 * so it has more vCPUs than the old x86 limit of 4096 and vCPUs whose x2APIC
 * ID does not fit in 12 bits.  Only vCPU 0 (the sender) and the high vCPUs
 * (the targets, plus vCPU 1 as a low control) run; the other vCPUs exist to
 * make the VM that large.
 *
 * Every target enables x2APIC, checks that its x2APIC ID is its vCPU ID and
 * halts with interrupts enabled.  The sender sends NR_ROUNDS fixed IPIs to
 * each target through the x2APIC ICR (physical destination = full 32-bit
 * x2APIC ID), waiting for each to be acknowledged, then one broadcast IPI
 * (destination 0xffffffff), which is how a guest kernel sends a TLB shootdown
 * to all CPUs.  Each target counts the IPIs it receives; the host watches
 * the counts, names any target that does not acknowledge within
 * X2APIC_HIGH_IPI_TIMEOUT seconds (default 600), and checks at the end that
 * every target saw exactly NR_ROUNDS + 1 IPIs.
 *
 * SKIPs when KVM_CAP_MAX_VCPUS is 4096 or less: such a VM cannot exist.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "apic.h"
#include "ucall_common.h"
#include "kselftest.h"

#define OLD_MAX_VCPUS	4096
#define IPI_VECTOR	0xa5
#define NR_ROUNDS	4
#define MAX_TARGETS	16

/* Shared with the guest (copied in with sync_global_to_guest()). */
static uint32_t nr_targets;
static uint32_t target_ids[MAX_TARGETS];
/* Written by the guest, read by the host through the guest mapping. */
static volatile uint32_t ready[MAX_TARGETS];
static volatile uint32_t acks[MAX_TARGETS];
static volatile uint32_t sender_round;

static void ipi_handler(struct ex_regs *regs)
{
	uint32_t id = x2apic_read_reg(APIC_ID);
	uint32_t i;

	for (i = 0; i < nr_targets; i++) {
		if (target_ids[i] == id) {
			acks[i]++;
			break;
		}
	}
	x2apic_write_reg(APIC_EOI, 0);
}

static void target_code(uint32_t idx)
{
	uint32_t id;

	x2apic_enable();
	id = x2apic_read_reg(APIC_ID);
	__GUEST_ASSERT(id == target_ids[idx],
		       "target %u: x2APIC ID %u, expected %u",
		       idx, id, target_ids[idx]);
	ready[idx] = 1;

	while (acks[idx] < NR_ROUNDS + 1)
		asm volatile("sti; hlt; cli" ::: "memory");

	GUEST_DONE();
}

static void send_ipi(uint32_t dest)
{
	x2apic_write_reg(APIC_ICR, ((uint64_t)dest << 32) |
			 APIC_DEST_PHYSICAL | APIC_DM_FIXED | IPI_VECTOR);
}

static void sender_code(void)
{
	uint32_t round, i;

	x2apic_enable();

	for (i = 0; i < nr_targets; i++)
		while (!ready[i])
			cpu_relax();

	for (round = 1; round <= NR_ROUNDS; round++) {
		sender_round = round;
		for (i = 0; i < nr_targets; i++) {
			send_ipi(target_ids[i]);
			while (acks[i] < round)
				cpu_relax();
		}
	}

	/* Broadcast, e.g. a TLB shootdown to all CPUs; not to self. */
	sender_round = NR_ROUNDS + 1;
	x2apic_write_reg(APIC_ICR, APIC_DEST_ALLBUT | APIC_DM_FIXED | IPI_VECTOR);
	for (i = 0; i < nr_targets; i++)
		while (acks[i] < NR_ROUNDS + 1)
			cpu_relax();

	GUEST_DONE();
}

struct runner {
	struct kvm_vcpu *vcpu;
	const char *what;
	pthread_t thread;
	bool done;
	char error[1100];
};

static void *run_vcpu(void *arg)
{
	struct runner *r = arg;
	struct ucall uc;

	for (;;) {
		vcpu_run(r->vcpu);
		switch (get_ucall(r->vcpu, &uc)) {
		case UCALL_DONE:
			r->done = true;
			return NULL;
		case UCALL_ABORT:
			snprintf(r->error, sizeof(r->error), "%s (vCPU %u): %s",
				 r->what, r->vcpu->id, uc.buffer);
			return NULL;
		case UCALL_NONE:
			if (r->vcpu->run->exit_reason == KVM_EXIT_INTR)
				continue;
			/* fall through */
		default:
			snprintf(r->error, sizeof(r->error),
				 "%s (vCPU %u): unexpected exit %u",
				 r->what, r->vcpu->id,
				 r->vcpu->run->exit_reason);
			return NULL;
		}
	}
}

static void raise_nofile_limit(rlim_t wanted)
{
	struct rlimit rl;

	TEST_ASSERT(!getrlimit(RLIMIT_NOFILE, &rl), "getrlimit");
	if (rl.rlim_cur >= wanted)
		return;
	rl.rlim_cur = wanted;
	if (rl.rlim_max < wanted)
		rl.rlim_max = wanted;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		ksft_exit_skip("cannot raise RLIMIT_NOFILE to %lu\n",
			       (unsigned long)wanted);
}

int main(void)
{
	static const uint32_t high_ids[] = {
		4096, 4097, 8191, 16383, 16384, 32767, 65534, 65535,
	};
	struct runner runners[MAX_TARGETS + 1];
	volatile uint32_t *g_acks;
	uint32_t max_vcpus, max_vcpu_id, nr_vcpus, i, bad = 0;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	time_t deadline;
	long timeout = 600;
	char *env;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();

	max_vcpus = kvm_check_cap(KVM_CAP_MAX_VCPUS);
	max_vcpu_id = kvm_check_cap(KVM_CAP_MAX_VCPU_ID);
	if (!max_vcpu_id)
		max_vcpu_id = max_vcpus;
	ksft_print_msg("KVM_CAP_MAX_VCPUS %u, KVM_CAP_MAX_VCPU_ID %u\n",
		       max_vcpus, max_vcpu_id);
	if (max_vcpus <= OLD_MAX_VCPUS)
		ksft_exit_skip("KVM_CAP_MAX_VCPUS is %u, a VM with more than %u vCPUs cannot be created\n",
			       max_vcpus, OLD_MAX_VCPUS);

	env = getenv("X2APIC_HIGH_IPI_TIMEOUT");
	if (env && atol(env) > 0)
		timeout = atol(env);

	/* vCPU 1 is a low-ID control target. */
	target_ids[nr_targets++] = 1;
	for (i = 0; i < ARRAY_SIZE(high_ids); i++)
		if (high_ids[i] < max_vcpu_id)
			target_ids[nr_targets++] = high_ids[i];
	nr_vcpus = OLD_MAX_VCPUS + nr_targets - 1;
	if (nr_vcpus > max_vcpus)
		ksft_exit_skip("need %u vCPUs, KVM_CAP_MAX_VCPUS is %u\n",
			       nr_vcpus, max_vcpus);

	raise_nofile_limit(nr_vcpus + 100);
	ksft_set_plan(1);
	ksft_print_msg("%u vCPUs, %u targets, highest x2APIC ID %u\n",
		       nr_vcpus, nr_targets, target_ids[nr_targets - 1]);

	vm = __vm_create(VM_SHAPE_DEFAULT, nr_vcpus, 0);
	vm_install_exception_handler(vm, IPI_VECTOR, ipi_handler);

	runners[0].vcpu = vm_vcpu_add(vm, 0, sender_code);
	runners[0].what = "sender";
	for (i = 1; i < OLD_MAX_VCPUS; i++) {
		vcpu = vm_vcpu_add(vm, i, target_code);
		if (i == 1) {
			vcpu_args_set(vcpu, 1, 0);
			runners[1].vcpu = vcpu;
		}
	}
	for (i = 1; i < nr_targets; i++) {
		vcpu = vm_vcpu_add(vm, target_ids[i], target_code);
		vcpu_args_set(vcpu, 1, i);
		runners[i + 1].vcpu = vcpu;
	}
	ksft_print_msg("created %u vCPUs\n", nr_vcpus);

	sync_global_to_guest(vm, nr_targets);
	sync_global_to_guest(vm, target_ids);

	for (i = 0; i <= nr_targets; i++) {
		if (i)
			runners[i].what = "target";
		runners[i].done = false;
		runners[i].error[0] = '\0';
		TEST_ASSERT(!pthread_create(&runners[i].thread, NULL, run_vcpu,
					    &runners[i]), "pthread_create");
	}

	/* The sender finishes last; watch it with a deadline. */
	deadline = time(NULL) + timeout;
	while (!runners[0].done && !runners[0].error[0] &&
	       time(NULL) < deadline)
		usleep(100 * 1000);

	g_acks = addr_gva2hva(vm, (vm_vaddr_t)&acks);
	if (!runners[0].done) {
		volatile uint32_t *g_ready = addr_gva2hva(vm, (vm_vaddr_t)&ready);
		uint32_t round = *(volatile uint32_t *)addr_gva2hva(vm,
						(vm_vaddr_t)&sender_round);

		ksft_print_msg("sender %s in round %u\n",
			       runners[0].error[0] ? runners[0].error : "timed out",
			       round);
		for (i = 0; i < nr_targets; i++)
			ksft_print_msg("target x2APIC ID %u: ready %u, IPIs received %u\n",
				       target_ids[i], g_ready[i], g_acks[i]);
		ksft_test_result_fail("IPIs to x2APIC IDs above 4095\n");
		/* Threads are stuck in KVM_RUN; exit without joining them. */
		ksft_exit_fail();
	}

	for (i = 0; i <= nr_targets; i++) {
		pthread_join(runners[i].thread, NULL);
		if (runners[i].error[0]) {
			ksft_print_msg("%s\n", runners[i].error);
			bad++;
		}
	}

	g_acks = addr_gva2hva(vm, (vm_vaddr_t)&acks);
	for (i = 0; i < nr_targets; i++) {
		ksft_print_msg("target x2APIC ID %u: %u IPIs\n", target_ids[i],
			       g_acks[i]);
		if (g_acks[i] != NR_ROUNDS + 1)
			bad++;
	}

	ksft_print_msg("metric x2apic_high_ipi.vcpus %u vcpus\n", nr_vcpus);
	ksft_print_msg("metric x2apic_high_ipi.max_target_id %u id\n",
		       target_ids[nr_targets - 1]);
	ksft_test_result(!bad, "IPIs to %u targets up to x2APIC ID %u in a %u-vCPU VM\n",
			 nr_targets, target_ids[nr_targets - 1], nr_vcpus);
	kvm_vm_free(vm);
	ksft_finished();
}
