// SPDX-License-Identifier: GPL-2.0-only
/*
 * lhp_yield - lock-holder preemption workload for KVM's directed yield.
 *
 * Several VMs, together with more vCPUs than the host has CPUs (overcommit
 * 2x..8x), run guest code that contends one ticket spinlock per VM with a
 * short critical section.  A waiter that is preempted, or whose lock holder
 * is, spins until the host scheduler runs the right vCPU; KVM's spin-loop
 * handler kvm_vcpu_on_spin() is meant to help by boosting a preempted vCPU
 * of the same VM with yield_to().  The waiter reaches that handler in one of
 * two ways (LHP_MODE):
 *
 *   hv     after LHP_SPIN_THRESHOLD iterations of the spin loop the vCPU
 *          issues the Hyper-V HvNotifyLongSpinWait hypercall, which KVM
 *          handles in the kernel with kvm_vcpu_on_spin().  Works wherever
 *          KVM has Hyper-V emulation, including nested SVM under QEMU TCG.
 *   pause  the spin loop only executes PAUSE; KVM gets control through
 *          PAUSE-loop exiting / the AMD pause filter.  Needs real hardware
 *          (under TCG and on hosts without PLE no exit ever happens, and the
 *          test still measures the lock throughput of pure spinning).
 *
 * In a QEMU TCG guest run it with single-threaded TCG (vm-run:
 * QEMU_ACCEL=tcg,thread=single): with QEMU 7.2's multi-threaded TCG the
 * nested L2 vCPUs of this workload triple-fault now and then, on stock
 * kernels too (see Documentation/directed-yield.rst).
 *
 * Reported, as "# metric <key> <value> <unit>" over a measurement window:
 *   lock acquisitions per second (all VMs), spin-loop handler entries per
 *   second, the directed-yield vCPU statistics read with KVM_GET_STATS_FD
 *   (spin_yield_attempted/successful/throttled; "n/a" and no
 *   metric on kernels that lack them), and with CONFIG_LOCK_STAT the runqueue
 *   lock acquisitions and contentions from /proc/lock_stat.
 *
 * Environment:
 *   LHP_MODE           hv | pause                        (hv if available)
 *   LHP_VMS            number of VMs                                     (2)
 *   LHP_OVERCOMMIT     vCPUs (all VMs) per host CPU                      (4)
 *   LHP_VCPUS          vCPUs per VM, overrides LHP_OVERCOMMIT
 *   LHP_SECONDS        measurement window                               (10)
 *   LHP_WARMUP         seconds before the window                         (1)
 *   LHP_SPIN_THRESHOLD spins before HvNotifyLongSpinWait  (4095, as KVM
 *                      advertises in HYPERV_CPUID_ENLIGHTMENT_INFO.EBX)
 *   LHP_CS_LOOPS       iterations inside the critical section           (64)
 *   LHP_NCS_LOOPS      iterations between two acquisitions             (256)
 *   LHP_SWEEP          comma-separated kvm.spin_yield_interval_ns values:
 *                      the window is repeated LHP_ROUNDS times (3) for each
 *                      value in turn, setting the module parameter, and
 *                      metrics are reported per value (".interval_<ns>")
 *                      and overall; SKIP where the parameter does not exist
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "hyperv.h"
#include "ucall_common.h"
#include "kselftest.h"
#include "scale_util.h"

#define MAX_VCPUS_PER_VM	512
#define MAX_VMS			64

enum { MODE_HV, MODE_PAUSE };

/* One per VM, in guest memory; the host reads it through its mapping. */
struct lhp_shared {
	uint32_t next_ticket;
	uint32_t now_serving;
	uint64_t stop;
	uint64_t in_cs;			/* mutual exclusion check */
	uint64_t cs_errors;
	uint64_t acquisitions[MAX_VCPUS_PER_VM];
	uint64_t notifies[MAX_VCPUS_PER_VM];
};

/* Guest globals, synced to every VM before its vCPUs start. */
static int guest_mode;
static bool guest_is_amd;
static uint32_t guest_spin_threshold;
static uint32_t guest_cs_loops;
static uint32_t guest_ncs_loops;

static void guest_notify_long_spin_wait(uint64_t spins)
{
	uint64_t control = HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_HYPERCALL_FAST_BIT;
	uint64_t status;

	/* Fast hypercall: control in RCX, the spin count in RDX. */
	if (guest_is_amd)
		asm volatile("vmmcall"
			     : "=a"(status), "+c"(control), "+d"(spins)
			     : : "cc", "memory", "r8", "r9", "r10", "r11");
	else
		asm volatile("vmcall"
			     : "=a"(status), "+c"(control), "+d"(spins)
			     : : "cc", "memory", "r8", "r9", "r10", "r11");
	GUEST_ASSERT_EQ(status & 0xffff, 0);
}

static void guest_delay(uint32_t loops)
{
	uint32_t i;

	for (i = 0; i < loops; i++)
		asm volatile("" ::: "memory");
}

static void guest_code(uint64_t idx, struct lhp_shared *sh, uint64_t hcall_gpa)
{
	uint32_t ticket, spins;

	if (guest_mode == MODE_HV) {
		wrmsr(HV_X64_MSR_GUEST_OS_ID, HYPERV_LINUX_OS_ID);
		wrmsr(HV_X64_MSR_HYPERCALL, hcall_gpa | 1);
	}

	while (!READ_ONCE(sh->stop)) {
		ticket = __atomic_fetch_add(&sh->next_ticket, 1, __ATOMIC_ACQUIRE);
		spins = 0;
		while (__atomic_load_n(&sh->now_serving, __ATOMIC_ACQUIRE) != ticket) {
			asm volatile("pause" ::: "memory");
			if (guest_mode == MODE_HV && ++spins >= guest_spin_threshold) {
				guest_notify_long_spin_wait(spins);
				sh->notifies[idx]++;
				spins = 0;
			}
		}

		/* Critical section. */
		if (__atomic_fetch_add(&sh->in_cs, 1, __ATOMIC_RELAXED))
			sh->cs_errors++;
		guest_delay(guest_cs_loops);
		sh->acquisitions[idx]++;
		__atomic_fetch_sub(&sh->in_cs, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&sh->now_serving, ticket + 1, __ATOMIC_RELEASE);

		guest_delay(guest_ncs_loops);
	}
	GUEST_DONE();
}

struct lhp_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpus[MAX_VCPUS_PER_VM];
	pthread_t threads[MAX_VCPUS_PER_VM];
	struct lhp_shared *sh;		/* host view */
};

static struct lhp_vm vms[MAX_VMS];
static unsigned int nr_vms, vcpus_per_vm;

/* vCPU statistics, summed over all vCPUs of all VMs. */
enum {
	ST_SPIN_EXITS,
	ST_ATTEMPTED,
	ST_SUCCESSFUL,
	ST_THROTTLED,
	ST_HYPERCALLS,
	ST_EXITS,
	ST_PV_ATTEMPTED,
	NR_STATS,
};

static const char * const stat_names[NR_STATS] = {
	[ST_SPIN_EXITS]		= "spin_loop_exits",
	[ST_ATTEMPTED]		= "spin_yield_attempted",
	[ST_SUCCESSFUL]		= "spin_yield_successful",
	[ST_THROTTLED]		= "spin_yield_throttled",
	[ST_HYPERCALLS]		= "hypercalls",
	[ST_EXITS]		= "exits",
	[ST_PV_ATTEMPTED]	= "directed_yield_attempted",
};

struct snapshot {
	struct timespec ts;
	uint64_t acquisitions;
	uint64_t notifies;
	uint64_t stat[NR_STATS];
	bool have_stat[NR_STATS];
	bool have_lock_stat;
	uint64_t rq_acq, rq_con, pi_acq, pi_con;
};

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	for (;;) {
		vcpu_run(vcpu);
		/* On SVM the vCPU is already reset: the registers tell little. */
		if (vcpu->run->exit_reason == KVM_EXIT_SHUTDOWN) {
			struct kvm_regs regs;
			struct kvm_sregs sregs;

			vcpu_regs_get(vcpu, &regs);
			vcpu_sregs_get(vcpu, &sregs);
			TEST_FAIL("vCPU %u: shutdown (triple fault), rip 0x%llx rsp 0x%llx cr2 0x%llx",
				  vcpu->id, regs.rip, regs.rsp, sregs.cr2);
		}
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_DONE:
			return NULL;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("unexpected ucall %lu", uc.cmd);
		}
	}
}

/*
 * KVM_GET_STATS_FD takes the vCPU mutex, so the fds are opened before the
 * vCPUs run; pread() on them does not.  All vCPUs have the same layout.
 */
static int stats_fd[MAX_VMS][MAX_VCPUS_PER_VM];
static off_t stat_off[NR_STATS];	/* -1: not provided by this kernel */

static void open_vcpu_stats(void)
{
	struct kvm_stats_header header;
	struct kvm_stats_desc *descs, *d;
	unsigned int v, c;
	int i, j;

	for (v = 0; v < nr_vms; v++)
		for (c = 0; c < vcpus_per_vm; c++)
			stats_fd[v][c] = vcpu_get_stats_fd(vms[v].vcpus[c]);

	for (j = 0; j < NR_STATS; j++)
		stat_off[j] = -1;
	read_stats_header(stats_fd[0][0], &header);
	descs = read_stats_descriptors(stats_fd[0][0], &header);
	for (i = 0; i < header.num_desc; i++) {
		d = get_stats_descriptor(descs, i, &header);
		for (j = 0; j < NR_STATS; j++)
			if (!strcmp(d->name, stat_names[j]))
				stat_off[j] = header.data_offset + d->offset;
	}
	free(descs);
}

static void read_vcpu_stats(int fd, struct snapshot *s)
{
	uint64_t val;
	int j;

	for (j = 0; j < NR_STATS; j++) {
		if (stat_off[j] < 0)
			continue;
		TEST_ASSERT(pread(fd, &val, sizeof(val), stat_off[j]) == sizeof(val),
			    "pread(stats fd) failed");
		s->stat[j] += val;
		s->have_stat[j] = true;
	}
}

/*
 * /proc/lock_stat class lines: "<name>: con-bounces contentions waittime-min
 * waittime-max waittime-total waittime-avg acq-bounces acquisitions ...".
 */
static void read_lock_stat(struct snapshot *s)
{
	char line[512], *p;
	unsigned long long v[8];
	FILE *f;

	f = fopen("/proc/lock_stat", "r");
	if (!f)
		return;
	s->have_lock_stat = true;
	while (fgets(line, sizeof(line), f)) {
		bool rq = strstr(line, "&rq->__lock:");
		bool pi = strstr(line, "&p->pi_lock:");

		if (!rq && !pi)
			continue;
		p = strchr(line, ':') + 1;
		if (sscanf(p, "%llu %llu %*s %*s %*s %*s %llu %llu",
			   &v[0], &v[1], &v[6], &v[7]) != 4)
			continue;
		if (rq) {
			s->rq_con += v[1];
			s->rq_acq += v[7];
		} else {
			s->pi_con += v[1];
			s->pi_acq += v[7];
		}
	}
	fclose(f);
}

static void clear_lock_stat(void)
{
	FILE *f = fopen("/proc/lock_stat", "w");

	if (f) {
		fputs("0\n", f);
		fclose(f);
	}
}

static void take_snapshot(struct snapshot *s)
{
	unsigned int v, c;

	memset(s, 0, sizeof(*s));
	read_lock_stat(s);
	clock_gettime(CLOCK_MONOTONIC, &s->ts);
	for (v = 0; v < nr_vms; v++) {
		for (c = 0; c < vcpus_per_vm; c++) {
			s->acquisitions += READ_ONCE(vms[v].sh->acquisitions[c]);
			s->notifies += READ_ONCE(vms[v].sh->notifies[c]);
			read_vcpu_stats(stats_fd[v][c], s);
		}
	}
}

/* Differences between two snapshots, summed over one or more windows. */
struct delta {
	double secs, acquisitions, notifies, stat[NR_STATS];
	double rq_acq, rq_con, pi_acq;
	bool have_stat[NR_STATS], have_lock_stat;
};

static void add_delta(struct delta *d, const struct snapshot *a,
		      const struct snapshot *b)
{
	int i;

	d->secs += (b->ts.tv_sec - a->ts.tv_sec) +
		   (b->ts.tv_nsec - a->ts.tv_nsec) / 1e9;
	d->acquisitions += b->acquisitions - a->acquisitions;
	d->notifies += b->notifies - a->notifies;
	for (i = 0; i < NR_STATS; i++) {
		d->stat[i] += b->stat[i] - a->stat[i];
		d->have_stat[i] = b->have_stat[i];
	}
	d->have_lock_stat = b->have_lock_stat;
	d->rq_acq += b->rq_acq - a->rq_acq;
	d->rq_con += b->rq_con - a->rq_con;
	d->pi_acq += b->pi_acq - a->pi_acq;
}

static char metric_suffix[64];

static void metric(const char *key, double value, const char *unit)
{
	ksft_print_msg("metric lhp_yield.%s%s %.2f %s\n", key, metric_suffix,
		       value, unit);
}

static void report(const struct delta *d, int mode)
{
	double dt = d->secs, exits;
	int i;

	ksft_print_msg("%.2f s: %.0f acquisitions, %.0f long-spin notifications\n",
		       dt, d->acquisitions, d->notifies);
	for (i = 0; i < NR_STATS; i++) {
		if (d->have_stat[i])
			ksft_print_msg("  %-26s %12.0f  %10.1f/s\n", stat_names[i],
				       d->stat[i], d->stat[i] / dt);
		else
			ksft_print_msg("  %-26s          n/a\n", stat_names[i]);
	}

	metric("acquisitions_per_s", d->acquisitions / dt, "1/s");
	if (mode == MODE_HV)
		metric("long_spin_notifies_per_s", d->notifies / dt, "1/s");
	/* Handler entries: the new stat, else (hv mode) hypercall exits. */
	exits = 0;
	if (d->have_stat[ST_SPIN_EXITS])
		exits = d->stat[ST_SPIN_EXITS];
	else if (mode == MODE_HV && d->have_stat[ST_HYPERCALLS])
		exits = d->stat[ST_HYPERCALLS];
	if (d->have_stat[ST_SPIN_EXITS] || mode == MODE_HV)
		metric("spin_exits_per_s", exits / dt, "1/s");
	if (exits)
		metric("acquisitions_per_spin_exit", d->acquisitions / exits, "1");
	if (d->have_stat[ST_EXITS])
		metric("exits_per_s", d->stat[ST_EXITS] / dt, "1/s");
	if (d->have_stat[ST_ATTEMPTED]) {
		metric("yield_attempted_per_s", d->stat[ST_ATTEMPTED] / dt, "1/s");
		metric("yield_successful_per_s", d->stat[ST_SUCCESSFUL] / dt, "1/s");
		metric("yield_failed_per_s",
		       (d->stat[ST_ATTEMPTED] - d->stat[ST_SUCCESSFUL]) / dt, "1/s");
		if (d->have_stat[ST_THROTTLED])
			metric("yield_throttled_per_s", d->stat[ST_THROTTLED] / dt, "1/s");
		if (exits)
			metric("yield_attempts_per_spin_exit",
			       d->stat[ST_ATTEMPTED] / exits, "1");
	} else {
		ksft_print_msg("directed-yield statistics n/a: kernel without spin_yield_* vCPU stats\n");
	}
	if (d->have_lock_stat) {
		metric("rq_lock_acquisitions_per_s", d->rq_acq / dt, "1/s");
		metric("rq_lock_contentions_per_s", d->rq_con / dt, "1/s");
		metric("pi_lock_acquisitions_per_s", d->pi_acq / dt, "1/s");
		if (exits)
			metric("rq_lock_acquisitions_per_spin_exit", d->rq_acq / exits, "1");
	} else {
		ksft_print_msg("/proc/lock_stat n/a (CONFIG_LOCK_STAT off): no rq lock figures\n");
	}
}

#define PARAM_INTERVAL "/sys/module/kvm/parameters/spin_yield_interval_ns"
#define MAX_SWEEP 8

static bool set_interval(unsigned long ns)
{
	FILE *f = fopen(PARAM_INTERVAL, "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%lu\n", ns) > 0;
	return !fclose(f) && ok;
}

static long get_interval(void)
{
	FILE *f = fopen(PARAM_INTERVAL, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int online_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return sysconf(_SC_NPROCESSORS_ONLN);
	return CPU_COUNT(&set);
}

/* The settings of a run and what its phases measure. */
struct lhp_run {
	unsigned long secs, warmup, total;
	unsigned long sweep[MAX_SWEEP];
	unsigned int nr_sweep, rounds;
	long old_interval;
	int ncpus, mode;
	struct delta total_d, sweep_d[MAX_SWEEP];
};

/* LHP_MODE: hv (HvNotifyLongSpinWait) where KVM has Hyper-V, else pause. */
static int pick_mode(void)
{
	const char *mode_env;
	bool have_hv;
	int mode;

	have_hv = kvm_has_cap(KVM_CAP_HYPERV_CPUID);
	mode_env = getenv("LHP_MODE");
	if (!mode_env || !*mode_env)
		mode = have_hv ? MODE_HV : MODE_PAUSE;
	else if (!strcmp(mode_env, "hv"))
		mode = MODE_HV;
	else if (!strcmp(mode_env, "pause"))
		mode = MODE_PAUSE;
	else
		ksft_exit_fail_msg("LHP_MODE=%s: want hv or pause\n", mode_env);
	if (mode == MODE_HV && !have_hv)
		ksft_exit_skip("LHP_MODE=hv needs KVM_CAP_HYPERV_CPUID (CONFIG_KVM_HYPERV)\n");
	return mode;
}

/* VMs and vCPUs from LHP_VMS/LHP_OVERCOMMIT/LHP_VCPUS, the guest's loops. */
static void size_workload(struct lhp_run *run)
{
	unsigned long overcommit;

	run->ncpus = online_cpus();
	nr_vms = scale_env_ulong("LHP_VMS", 2);
	overcommit = scale_env_ulong("LHP_OVERCOMMIT", 4);
	run->secs = scale_env_ulong("LHP_SECONDS", 10);
	run->warmup = scale_env_ulong("LHP_WARMUP", 1);
	vcpus_per_vm = scale_env_ulong("LHP_VCPUS", 0);
	if (!nr_vms || nr_vms > MAX_VMS)
		ksft_exit_fail_msg("LHP_VMS must be 1..%d\n", MAX_VMS);
	if (!vcpus_per_vm)
		vcpus_per_vm = (overcommit * run->ncpus + nr_vms - 1) / nr_vms;
	if (vcpus_per_vm < 2)
		vcpus_per_vm = 2;
	if (vcpus_per_vm > MAX_VCPUS_PER_VM)
		ksft_exit_fail_msg("%u vCPUs per VM, at most %d\n",
				   vcpus_per_vm, MAX_VCPUS_PER_VM);
	run->total = nr_vms * vcpus_per_vm;

	/* One thread and a few fds per vCPU. */
	scale_raise_nofile(run->total * 4 + 100);

	guest_mode = run->mode;
	guest_is_amd = host_cpu_is_amd;
	guest_spin_threshold = scale_env_ulong("LHP_SPIN_THRESHOLD", 0xfff);
	guest_cs_loops = scale_env_ulong("LHP_CS_LOOPS", 64);
	guest_ncs_loops = scale_env_ulong("LHP_NCS_LOOPS", 256);
	if (!guest_spin_threshold)
		guest_spin_threshold = 1;
}

/* The current spin_yield_interval_ns and the LHP_SWEEP/LHP_ROUNDS values. */
static void parse_sweep(struct lhp_run *run)
{
	const char *e;
	char *end;

	run->old_interval = get_interval();
	run->rounds = scale_env_ulong("LHP_ROUNDS", 3);
	e = getenv("LHP_SWEEP");
	while (e && *e && run->nr_sweep < MAX_SWEEP) {
		run->sweep[run->nr_sweep++] = strtoul(e, &end, 0);
		if (end == e || (*end && *end != ','))
			ksft_exit_fail_msg("LHP_SWEEP=%s: want ns[,ns...]\n", getenv("LHP_SWEEP"));
		e = *end ? end + 1 : end;
	}
	if (run->nr_sweep && run->old_interval < 0)
		ksft_exit_skip("LHP_SWEEP needs %s (a patched kernel, root)\n", PARAM_INTERVAL);
	if (!run->rounds)
		run->rounds = 1;
}

/* Create the VMs, their shared page and the hypercall page. */
static void create_vms(int mode)
{
	unsigned int v, c;

	for (v = 0; v < nr_vms; v++) {
		struct lhp_vm *lv = &vms[v];
		vm_vaddr_t sh_gva, hcall_gva;

		lv->vm = vm_create_with_vcpus(vcpus_per_vm, guest_code, lv->vcpus);
		sh_gva = vm_vaddr_alloc(lv->vm, sizeof(struct lhp_shared),
					KVM_UTIL_MIN_VADDR);
		lv->sh = addr_gva2hva(lv->vm, sh_gva);
		memset(lv->sh, 0, sizeof(*lv->sh));
		hcall_gva = vm_vaddr_alloc_page(lv->vm);
		sync_global_to_guest(lv->vm, guest_mode);
		sync_global_to_guest(lv->vm, guest_is_amd);
		sync_global_to_guest(lv->vm, guest_spin_threshold);
		sync_global_to_guest(lv->vm, guest_cs_loops);
		sync_global_to_guest(lv->vm, guest_ncs_loops);
		for (c = 0; c < vcpus_per_vm; c++) {
			if (mode == MODE_HV)
				vcpu_set_hv_cpuid(lv->vcpus[c]);
			vcpu_args_set(lv->vcpus[c], 3, (uint64_t)c, sh_gva,
				      addr_gva2gpa(lv->vm, hcall_gva));
		}
	}
	ksft_print_msg("%u VMs created\n", nr_vms);
}

/* Start a thread per vCPU and let the workload warm up. */
static void start_vcpus(const struct lhp_run *run)
{
	struct snapshot a;
	unsigned int v, c;

	open_vcpu_stats();
	for (v = 0; v < nr_vms; v++)
		for (c = 0; c < vcpus_per_vm; c++)
			pthread_create(&vms[v].threads[c], NULL, vcpu_thread,
				       vms[v].vcpus[c]);

	sleep(run->warmup);
	take_snapshot(&a);
	ksft_print_msg("vCPUs running: %lu acquisitions after %lus warm-up\n",
		       a.acquisitions, run->warmup);
}

/* The measurement window(s): one, or rounds of each swept interval. */
static void measure(struct lhp_run *run)
{
	struct snapshot a, b;
	unsigned int i, r;

	if (run->nr_sweep) {
		/*
		 * Interleave short windows of each interval so that slow drifts
		 * of the host (other load, TCG) hit all values alike.
		 */
		for (r = 0; r < run->rounds; r++) {
			for (i = 0; i < run->nr_sweep; i++) {
				TEST_ASSERT(set_interval(run->sweep[i]), "cannot write %s",
					    PARAM_INTERVAL);
				sleep(1);
				clear_lock_stat();
				take_snapshot(&a);
				sleep(run->secs);
				take_snapshot(&b);
				add_delta(&run->sweep_d[i], &a, &b);
				add_delta(&run->total_d, &a, &b);
			}
		}
		set_interval(run->old_interval);
	} else {
		clear_lock_stat();
		take_snapshot(&a);
		sleep(run->secs);
		take_snapshot(&b);
		add_delta(&run->total_d, &a, &b);
	}
}

/* Stop the guests and join the threads; test 1: mutual exclusion held. */
static void stop_vcpus(void)
{
	uint64_t cs_errors = 0;
	unsigned int v, c;

	for (v = 0; v < nr_vms; v++)
		WRITE_ONCE(vms[v].sh->stop, 1);
	for (v = 0; v < nr_vms; v++) {
		for (c = 0; c < vcpus_per_vm; c++)
			pthread_join(vms[v].threads[c], NULL);
		cs_errors += vms[v].sh->cs_errors;
	}

	ksft_test_result(!cs_errors, "ticket lock kept mutual exclusion (%lu violations)\n",
			 cs_errors);
}

/* Metrics, per swept interval and over all windows; test 2: progress. */
static void report_run(struct lhp_run *run)
{
	unsigned int i;

	metric("vcpus", run->total, "vcpus");
	metric("overcommit", (double)run->total / run->ncpus, "x");
	if (run->old_interval >= 0)
		metric("spin_yield_interval_ns", run->old_interval, "ns");
	for (i = 0; i < run->nr_sweep; i++) {
		snprintf(metric_suffix, sizeof(metric_suffix), ".interval_%lu", run->sweep[i]);
		ksft_print_msg("spin_yield_interval_ns=%lu, %u windows:\n", run->sweep[i],
			       run->rounds);
		report(&run->sweep_d[i], run->mode);
	}
	metric_suffix[0] = 0;
	if (run->nr_sweep)
		ksft_print_msg("all windows:\n");
	report(&run->total_d, run->mode);

	ksft_test_result(run->total_d.acquisitions > 0,
			 "%lu VMs made progress on their locks (%.0f acquisitions/s)\n",
			 (unsigned long)nr_vms, run->total_d.acquisitions / run->total_d.secs);
}

/*
 * Test 3.  The throttle is opt-in: a kernel that has it must default to 0,
 * the behaviour of kernels without it.  And where the handler runs and
 * counts, directed yield must still boost someone.
 */
static void check_defaults(const struct lhp_run *run)
{
	const struct delta *d = &run->total_d;

	if (run->old_interval < 0 && !d->have_stat[ST_ATTEMPTED]) {
		ksft_test_result_skip("directed-yield defaults: kernel without spin_yield_* stats\n");
	} else {
		bool boosts = !d->stat[ST_ATTEMPTED] || d->stat[ST_SUCCESSFUL];

		ksft_test_result(run->old_interval <= 0 && boosts,
				 "directed yield as stock by default: spin_yield_interval_ns %ld (want 0), %lu of %lu yield attempts boosted\n",
				 run->old_interval, (unsigned long)d->stat[ST_SUCCESSFUL],
				 (unsigned long)d->stat[ST_ATTEMPTED]);
	}
}

int main(int argc, char *argv[])
{
	static struct lhp_run run;
	unsigned int v;

	ksft_print_header();
	if (access(KVM_DEV_PATH, R_OK | W_OK))
		ksft_exit_skip("%s not available: %s\n", KVM_DEV_PATH, strerror(errno));

	run.mode = pick_mode();
	size_workload(&run);
	parse_sweep(&run);

	ksft_set_plan(3);
	ksft_print_msg("mode %s, %u VMs x %u vCPUs = %lu vCPUs on %d host CPUs (overcommit %.1fx)\n",
		       run.mode == MODE_HV ? "hv" : "pause", nr_vms, vcpus_per_vm,
		       run.total, run.ncpus, (double)run.total / run.ncpus);
	ksft_print_msg("spin threshold %u, cs loops %u, ncs loops %u, window %lus after %lus\n",
		       guest_spin_threshold, guest_cs_loops, guest_ncs_loops,
		       run.secs, run.warmup);

	create_vms(run.mode);
	start_vcpus(&run);
	measure(&run);
	stop_vcpus();
	report_run(&run);
	check_defaults(&run);

	for (v = 0; v < nr_vms; v++)
		kvm_vm_free(vms[v].vm);
	ksft_finished();
}
