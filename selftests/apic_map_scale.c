// SPDX-License-Identifier: GPL-2.0-only
/*
 * apic_map_scale - the cost of the optimized APIC map while a VMM creates and
 * restores vCPUs one by one.
 *
 * The host does, for each vCPU i of an N-vCPU VM (default N =
 * KVM_CAP_MAX_VCPUS), what a VMM restoring an x2APIC guest does: create vCPU
 * i, switch its APIC to x2APIC mode (MSR_IA32_APICBASE), then KVM_GET_LAPIC,
 * software-enable the APIC and KVM_SET_LAPIC.  Both APIC changes update the
 * optimized APIC map.  The kernel time of the MSR write and of KVM_SET_LAPIC
 * is measured per vCPU for the last N/16 vCPUs before N/4 and before N; the
 * test fails if the median cost per vCPU at N is more than -r (default 2.0)
 * times the one at N/4, i.e. if the map update costs O(N) per vCPU (which
 * gives about 4x).
 *
 * Where KVM has the VM statistics apic_map_rebuilds, apic_map_allocs,
 * apic_map_ids_written and apic_map_scan_all, the test also checks that the
 * whole loop rebuilt the map from all vCPUs and asked all vCPUs to rescan the
 * IOAPIC at most a few times, reallocated the map O(log N) times and wrote
 * O(N) map entries in total.  A kernel without these statistics fails.
 *
 * Then IPIs still have to arrive: vCPU 0 sends fixed IPIs through the x2APIC
 * ICR (physical destination) to vCPUs 1, N/2, N-2 and N-1, each of which
 * counts the IPIs it receives, and one broadcast.
 *
 * Options: -n N vCPUs, -r max growth ratio (0: report only), -s skip the
 * statistics checks, -t seconds to wait for the IPIs (default 600).
 */
#include <getopt.h>
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

#define IPI_VECTOR	0xa5
#define NR_ROUNDS	4
#define NR_TARGETS	4
#define STAT_MISSING	(~0ull)

static const char * const stat_names[] = {
	"apic_map_rebuilds",
	"apic_map_allocs",
	"apic_map_ids_written",
	"apic_map_scan_all",
};

enum { REBUILDS, ALLOCS, IDS_WRITTEN, SCAN_ALL, NR_STATS };

/* Shared with the guest (copied in with sync_global_to_guest()). */
static uint32_t target_ids[NR_TARGETS];
/* Written by the guest, read by the host through the guest mapping. */
/* Shared by the vCPUs and read by the host: accessed with READ/WRITE_ONCE. */
static uint32_t ready[NR_TARGETS];
static uint32_t acks[NR_TARGETS];

static void ipi_handler(struct ex_regs *regs)
{
	uint32_t id = x2apic_read_reg(APIC_ID);
	uint32_t i;

	for (i = 0; i < NR_TARGETS; i++) {
		if (target_ids[i] == id) {
			WRITE_ONCE(acks[i], acks[i] + 1);
			break;
		}
	}
	x2apic_write_reg(APIC_EOI, 0);
}

static void target_code(uint32_t idx)
{
	uint32_t id = x2apic_read_reg(APIC_ID);

	__GUEST_ASSERT(id == target_ids[idx], "target %u: x2APIC ID %u, expected %u",
		       idx, id, target_ids[idx]);
	WRITE_ONCE(ready[idx], 1);

	while (READ_ONCE(acks[idx]) < NR_ROUNDS + 1)
		asm volatile("sti; hlt; cli" ::: "memory");

	GUEST_DONE();
}

static void sender_code(void)
{
	uint32_t round, i;

	for (i = 0; i < NR_TARGETS; i++)
		while (!READ_ONCE(ready[i]))
			cpu_relax();

	for (round = 1; round <= NR_ROUNDS; round++) {
		for (i = 0; i < NR_TARGETS; i++) {
			x2apic_write_reg(APIC_ICR, ((uint64_t)target_ids[i] << 32) |
					 APIC_DEST_PHYSICAL | APIC_DM_FIXED |
					 IPI_VECTOR);
			while (READ_ONCE(acks[i]) < round)
				cpu_relax();
		}
	}

	x2apic_write_reg(APIC_ICR, APIC_DEST_ALLBUT | APIC_DM_FIXED | IPI_VECTOR);
	for (i = 0; i < NR_TARGETS; i++)
		while (READ_ONCE(acks[i]) < NR_ROUNDS + 1)
			cpu_relax();

	GUEST_DONE();
}

struct runner {
	struct kvm_vcpu *vcpu;
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
			snprintf(r->error, sizeof(r->error), "vCPU %u: %s",
				 r->vcpu->id, uc.buffer);
			return NULL;
		case UCALL_NONE:
			if (r->vcpu->run->exit_reason == KVM_EXIT_INTR)
				continue;
			fallthrough;
		default:
			snprintf(r->error, sizeof(r->error),
				 "vCPU %u: unexpected exit %u", r->vcpu->id,
				 r->vcpu->run->exit_reason);
			return NULL;
		}
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static uint64_t get_stat(struct kvm_vm *vm, const char *name)
{
	uint64_t val = STAT_MISSING;

	__vm_get_stat(vm, name, &val, 1);
	return val;
}

/* x2APIC mode and a software-enabled APIC, as a VMM restoring a guest would. */
static double restore_apic(struct kvm_vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	uint64_t base = vcpu_get_msr(vcpu, MSR_IA32_APICBASE);
	uint32_t *spiv = (uint32_t *)&lapic.regs[APIC_SPIV];
	double t0, t;

	t0 = now_s();
	vcpu_set_msr(vcpu, MSR_IA32_APICBASE, base | X2APIC_ENABLE);
	t = now_s() - t0;

	vcpu_ioctl(vcpu, KVM_GET_LAPIC, &lapic);
	*spiv |= APIC_SPIV_APIC_ENABLED;
	t0 = now_s();
	vcpu_ioctl(vcpu, KVM_SET_LAPIC, &lapic);
	return t + now_s() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, uint32_t nr)
{
	qsort(v, nr, sizeof(*v), cmp_double);
	return v[nr / 2];
}

static void help(const char *prog)
{
	printf("usage: %s [-n vcpus] [-r max_growth] [-s] [-t ipi_timeout_s]\n",
	       prog);
	exit(KSFT_FAIL);
}

int main(int argc, char *argv[])
{
	struct runner runners[NR_TARGETS + 1] = {};
	uint64_t stats[NR_STATS];
	uint32_t n, n4, win, i, max_vcpus, log2n, bad = 0;
	double t, t4 = 0, tn = 0, m4, mn, max_growth = 2.0;
	double *times;
	struct kvm_vcpu *vcpu;
	bool check_stats = true;
	struct kvm_vm *vm;
	time_t deadline;
	unsigned long timeout = 600;
	int opt;

	max_vcpus = kvm_check_cap(KVM_CAP_MAX_VCPUS);
	n = max_vcpus;
	while ((opt = getopt(argc, argv, "n:r:st:h")) != -1) {
		switch (opt) {
		case 't':
			timeout = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			n = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			max_growth = strtod(optarg, NULL);
			break;
		case 's':
			check_stats = false;
			break;
		default:
			help(argv[0]);
		}
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	TEST_REQUIRE(n >= 64 && n <= max_vcpus);
	ksft_set_plan(3);

	n4 = n / 4;
	win = n / 16;
	raise_nofile(n + 100);
	ksft_print_msg("%u vCPUs, timing vCPUs [%u, %u) and [%u, %u)\n",
		       n, n4 - win, n4, n - win, n);

	times = calloc(2 * win, sizeof(*times));
	TEST_ASSERT(times, "calloc");
	vm = __vm_create(VM_SHAPE_DEFAULT, n, 0);
	vm_install_exception_handler(vm, IPI_VECTOR, ipi_handler);

	target_ids[0] = 1;
	target_ids[1] = n / 2;
	target_ids[2] = n - 2;
	target_ids[3] = n - 1;

	for (i = 0; i < n; i++) {
		uint32_t idx = NR_TARGETS;

		if (!i) {
			vcpu = vm_vcpu_add(vm, i, sender_code);
			runners[0].vcpu = vcpu;
		} else {
			vcpu = vm_vcpu_add(vm, i, target_code);
			for (idx = 0; idx < NR_TARGETS; idx++)
				if (target_ids[idx] == i)
					break;
			if (idx < NR_TARGETS) {
				vcpu_args_set(vcpu, 1, idx);
				runners[idx + 1].vcpu = vcpu;
			}
		}

		t = restore_apic(vcpu);
		if (i >= n4 - win && i < n4) {
			times[i - (n4 - win)] = t;
			t4 += t;
		} else if (i >= n - win) {
			times[win + i - (n - win)] = t;
			tn += t;
		}
	}

	for (i = 0; i < NR_STATS; i++) {
		stats[i] = get_stat(vm, stat_names[i]);
		if (stats[i] == STAT_MISSING)
			ksft_print_msg("no VM statistic %s\n", stat_names[i]);
		else
			ksft_print_msg("metric apic_map_scale.%s %lu count\n",
				       stat_names[i], (unsigned long)stats[i]);
	}

	/* The median is robust against a busy host; the mean is printed too. */
	m4 = median(times, win);
	mn = median(times + win, win);
	ksft_print_msg("metric apic_map_scale.restore_mean_%u_us %.2f us\n",
		       n4, t4 * 1e6 / win);
	ksft_print_msg("metric apic_map_scale.restore_mean_%u_us %.2f us\n",
		       n, tn * 1e6 / win);
	ksft_print_msg("metric apic_map_scale.restore_%u_us %.2f us\n", n4, m4 * 1e6);
	ksft_print_msg("metric apic_map_scale.restore_%u_us %.2f us\n", n, mn * 1e6);
	ksft_print_msg("metric apic_map_scale.growth %.2f x\n", mn / m4);
	ksft_test_result(!max_growth || mn / m4 <= max_growth,
			 "APIC restore per vCPU (median): %.2f us at %u vCPUs, %.2f us at %u (%.2fx, limit %.2fx)\n",
			 m4 * 1e6, n4, mn * 1e6, n, mn / m4, max_growth);

	for (log2n = 0; (1u << log2n) < n; log2n++)
		;
	if (!check_stats) {
		ksft_test_result_skip("statistics not checked (-s)\n");
	} else {
		bool ok = true;

		for (i = 0; i < NR_STATS; i++)
			ok &= stats[i] != STAT_MISSING;
		/*
		 * One rebuild when vCPU 0 appears; allocations when the map
		 * grows and when its logical mode changes; every map entry of
		 * each allocation plus a few entries per vCPU.
		 */
		if (!ok)
			ksft_print_msg("KVM lacks the apic_map_* VM statistics\n");
		ok = ok && stats[REBUILDS] <= 4 && stats[SCAN_ALL] <= 4 &&
		     stats[ALLOCS] <= 2 * log2n + 8 &&
		     stats[IDS_WRITTEN] <= 8ull * n + 8192;
		ksft_test_result(ok,
				 "map work for %u vCPUs: %lu rebuilds (<= 4), %lu scans of all vCPUs (<= 4), %lu allocations (<= %u), %lu entries written (<= %lu)\n",
				 n, (unsigned long)stats[REBUILDS],
				 (unsigned long)stats[SCAN_ALL],
				 (unsigned long)stats[ALLOCS], 2 * log2n + 8,
				 (unsigned long)stats[IDS_WRITTEN],
				 8ul * n + 8192);
	}

	sync_global_to_guest(vm, target_ids);
	for (i = 0; i <= NR_TARGETS; i++)
		TEST_ASSERT(!pthread_create(&runners[i].thread, NULL, run_vcpu,
					    &runners[i]), "pthread_create");

	deadline = time(NULL) + timeout;
	while (!runners[0].done && !runners[0].error[0] && time(NULL) < deadline)
		usleep(100 * 1000);
	if (!runners[0].done) {
		uint32_t *g_acks = addr_gva2hva(vm, (vm_vaddr_t)&acks);

		ksft_print_msg("sender %s\n", runners[0].error[0] ?
			       runners[0].error : "timed out");
		for (i = 0; i < NR_TARGETS; i++)
			ksft_print_msg("target %u: %u IPIs\n", target_ids[i],
				       READ_ONCE(g_acks[i]));
		ksft_test_result_fail("IPIs after the restore loop\n");
		/* vCPU threads may be stuck in KVM_RUN: do not join them. */
		ksft_exit_fail();
	}

	for (i = 0; i <= NR_TARGETS; i++) {
		pthread_join(runners[i].thread, NULL);
		if (runners[i].error[0]) {
			ksft_print_msg("%s\n", runners[i].error);
			bad++;
		}
	}
	for (i = 0; i < NR_TARGETS; i++) {
		uint32_t *g_acks = addr_gva2hva(vm, (vm_vaddr_t)&acks);
		uint32_t got = READ_ONCE(g_acks[i]);

		if (got != NR_ROUNDS + 1) {
			ksft_print_msg("target %u: %u IPIs, expected %u\n",
				       target_ids[i], got, NR_ROUNDS + 1);
			bad++;
		}
	}
	ksft_test_result(!bad, "IPIs to vCPUs 1, %u, %u, %u and a broadcast\n",
			 n / 2, n - 2, n - 1);

	free(times);
	kvm_vm_free(vm);
	ksft_finished();
}
