// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmclock_churn - kvmclock update work while one vCPU of a big VM moves
 * between host CPUs.
 *
 * A VM with N vCPUs (KVMCLOCK_VCPUS, default 1024 or KVM_CAP_MAX_VCPUS if
 * lower) enables kvmclock on every vCPU: each writes MSR_KVM_SYSTEM_TIME_NEW
 * with its own pvclock area.  vCPUs 0..R-1 (KVMCLOCK_READERS, default 2) then
 * read kvmclock in a loop; the others halt with interrupts off (an idle vCPU),
 * or read as well with KVMCLOCK_OTHERS=spin.  The host moves vCPU 0's thread
 * between two host CPUs M times (KVMCLOCK_MIGRATIONS, default 20), one event
 * every KVMCLOCK_INTERVAL_MS (150, more than KVM's 100 ms fan-out delay so
 * that every event can cost a fan-out of its own); with KVMCLOCK_REWRITE=1
 * (default) vCPU 0 also rewrites its MSR_KVM_SYSTEM_TIME_NEW at every event,
 * as a guest does on resume or CPU hotplug.
 *
 * Both kinds of VM are run (KVMCLOCK_MODES, default "master,nomaster"):
 *   master    the VM uses KVM's master clock (KVM_GET_CLOCK reports
 *             KVM_CLOCK_TSC_STABLE); needs a TSC-based host clocksource,
 *             SKIP otherwise;
 *   nomaster  the master clock is forced off by writing vCPU 1's TSC far from
 *             the others from user space (its TSCs no longer match).
 *
 * Counted per event, on any kernel:
 *   pvclock_writes  updates of the guest's pvclock areas (the version field
 *                   of each area advances by 2 per update);
 *   wakeups         halted vCPUs woken (vCPU stat halt_wakeup);
 * and where the kernel has them (kvm-scale patch "Count kvmclock updates"):
 *   clock_updates   vCPU stat, serviced clock update requests;
 *   clock_fanouts, masterclock_updates   VM stats.
 * Plus the setup time and master clock updates until all N vCPUs have
 * enabled kvmclock (stock: one VM-wide master clock update per vCPU).
 *
 * Checked in the guest: each reader's kvmclock never goes backwards, and no
 * reader reads a value below one that another reader published before
 * (cross-vCPU consistency).  With the master clock (PVCLOCK_TSC_STABLE_BIT)
 * both must hold exactly; without it KVM only bounds the divergence (the
 * guest kernel then enforces monotonicity itself), so the largest step back
 * must stay under KVMCLOCK_MAX_SKEW_US (5000: 382 us were seen on the
 * KASAN+lockdep kernel under TCG, 0-2 us on plain kernels).
 *
 * Where the kernel has the stats above (it claims the kvm-scale fixes), the
 * test also asserts: with a master clock at most 2 pvclock writes and no
 * wake-up per event; without one no wake-ups of halted vCPUs; and at most
 * 8 master clock updates while the N vCPUs come up.  On other kernels the
 * figures are reported only.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <asm/kvm_para.h>
#include <asm/pvclock.h>
#include <asm/pvclock-abi.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"
#include "kselftest.h"
#include "scale_util.h"

#define MAX_VCPUS	16384
#define MAX_READERS	64

struct churn_shared {
	uint64_t stop;
	uint64_t rewrite_req;		/* host: event number */
	uint64_t rewrite_done;		/* vCPU 0: last event handled */
	uint64_t enabled;		/* vCPUs that enabled kvmclock */
	uint64_t max_ns;		/* largest value a reader published */
	uint64_t own_back[MAX_READERS];
	uint64_t cross_back[MAX_READERS];
	uint64_t max_back_ns[MAX_READERS];
	uint64_t reads[MAX_READERS];
	uint64_t stable[MAX_READERS];	/* PVCLOCK_TSC_STABLE_BIT seen */
};

static uint32_t guest_readers;
static bool guest_others_spin;

static uint64_t guest_read_clock(struct pvclock_vcpu_time_info *pvti, bool *stable)
{
	uint32_t version;
	uint64_t ns;
	uint8_t flags;

	do {
		version = READ_ONCE(pvti->version);
		asm volatile("lfence" ::: "memory");
		ns = __pvclock_read_cycles(pvti, rdtsc());
		flags = READ_ONCE(pvti->flags);
		asm volatile("lfence" ::: "memory");
	} while ((version & 1) || version != READ_ONCE(pvti->version));
	*stable = flags & PVCLOCK_TSC_STABLE_BIT;
	return ns;
}

static void guest_code(uint64_t idx, uint64_t pvti_gpa, uint64_t pvti_gva,
		       struct churn_shared *sh)
{
	struct pvclock_vcpu_time_info *pvti =
		(struct pvclock_vcpu_time_info *)pvti_gva + idx;
	uint64_t my_pa = pvti_gpa + idx * sizeof(*pvti);
	uint64_t last = 0, floor, t, cur;
	bool reader = idx < guest_readers, stable;
	uint32_t r = reader ? idx : 0;

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, my_pa | KVM_MSR_ENABLED);
	t = guest_read_clock(pvti, &stable);
	__atomic_fetch_add(&sh->enabled, 1, __ATOMIC_SEQ_CST);

	if (!reader && !guest_others_spin) {
		/* An idle vCPU: only a signal to its thread ends this. */
		for (;;)
			asm volatile("cli; hlt" ::: "memory");
	}

	while (!READ_ONCE(sh->stop)) {
		if (idx == 0 && READ_ONCE(sh->rewrite_req) != sh->rewrite_done) {
			wrmsr(MSR_KVM_SYSTEM_TIME_NEW, my_pa | KVM_MSR_ENABLED);
			WRITE_ONCE(sh->rewrite_done, READ_ONCE(sh->rewrite_req));
		}
		floor = __atomic_load_n(&sh->max_ns, __ATOMIC_ACQUIRE);
		t = guest_read_clock(pvti, &stable);
		if (!reader)
			continue;
		if (t < last) {
			sh->own_back[r]++;
			if (last - t > sh->max_back_ns[r])
				sh->max_back_ns[r] = last - t;
		}
		if (t < floor) {
			sh->cross_back[r]++;
			if (floor - t > sh->max_back_ns[r])
				sh->max_back_ns[r] = floor - t;
		}
		if (stable)
			sh->stable[r]++;
		last = t;
		cur = floor;
		while (cur < t &&
		       !__atomic_compare_exchange_n(&sh->max_ns, &cur, t, false,
						    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			;
		sh->reads[r]++;
	}
	GUEST_DONE();
}

static struct kvm_vm *vm;
static struct kvm_vcpu **vcpus;
static pthread_t *threads;
static int *stats_fds;
static unsigned int nr_vcpus;
static struct churn_shared *sh;
static struct pvclock_vcpu_time_info *pvti_hva;
static volatile int stopping;

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;
	int r;

	for (;;) {
		r = __vcpu_run(vcpu);
		if (r < 0 && errno == EINTR) {
			if (stopping)
				return NULL;
			continue;
		}
		TEST_ASSERT(!r, "KVM_RUN failed: %s", strerror(errno));
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

static void sig_nop(int sig)
{
}

/* Offsets of the stats we read; -1 where this kernel lacks one. */
enum { S_HALT_WAKEUP, S_CLOCK_UPDATES, NR_VCPU_STATS };
static const char * const vcpu_stat_names[NR_VCPU_STATS] = {
	"halt_wakeup", "clock_updates",
};
static off_t vcpu_stat_off[NR_VCPU_STATS];

enum { S_CLOCK_FANOUTS, S_MASTERCLOCK_UPDATES, NR_VM_STATS };
static const char * const vm_stat_names[NR_VM_STATS] = {
	"clock_fanouts", "masterclock_updates",
};
static off_t vm_stat_off[NR_VM_STATS];
static int vm_stats_fd;

static void find_stats(int fd, const char * const *names, off_t *off, int n)
{
	struct kvm_stats_header header;
	struct kvm_stats_desc *descs, *d;
	int i, j;

	for (j = 0; j < n; j++)
		off[j] = -1;
	read_stats_header(fd, &header);
	descs = read_stats_descriptors(fd, &header);
	for (i = 0; i < header.num_desc; i++) {
		d = get_stats_descriptor(descs, i, &header);
		for (j = 0; j < n; j++)
			if (!strcmp(d->name, names[j]))
				off[j] = header.data_offset + d->offset;
	}
	free(descs);
}

static uint64_t read_stat(int fd, off_t off)
{
	uint64_t v;

	TEST_ASSERT(pread(fd, &v, sizeof(v), off) == sizeof(v), "pread(stats)");
	return v;
}

struct snap {
	uint64_t versions;
	uint64_t vcpu[NR_VCPU_STATS];
	uint64_t vmst[NR_VM_STATS];
};

static void snapshot(struct snap *s)
{
	unsigned int i;
	int j;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < nr_vcpus; i++) {
		s->versions += READ_ONCE(pvti_hva[i].version) / 2;
		for (j = 0; j < NR_VCPU_STATS; j++)
			if (vcpu_stat_off[j] >= 0)
				s->vcpu[j] += read_stat(stats_fds[i], vcpu_stat_off[j]);
	}
	for (j = 0; j < NR_VM_STATS; j++)
		if (vm_stat_off[j] >= 0)
			s->vmst[j] = read_stat(vm_stats_fd, vm_stat_off[j]);
}

static void metric(const char *mode, const char *key, double v, const char *unit)
{
	ksft_print_msg("metric kvmclock_churn.%s.%s %.2f %s\n", mode, key, v, unit);
}

static void pin(pthread_t t, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	TEST_ASSERT(!pthread_setaffinity_np(t, sizeof(set), &set),
		    "pthread_setaffinity_np(cpu %d)", cpu);
}

static void clocksource(char *buf, size_t len)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");

	snprintf(buf, len, "unknown");
	if (f) {
		if (fgets(buf, len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

/* What one mode's run measured. */
struct mode_result {
	struct snap s0, s1, s2;	/* created, all vCPUs up, after the events */
	double t_up;
	uint64_t own, cross, maxback, reads, stable;
	bool have_stats, is_stable;
	char cs[64];
};

/* Create the VM, its pvclock areas and shared page, open the stats. */
static void setup_vm(bool master, struct mode_result *res)
{
	vm_vaddr_t pvti_gva, sh_gva;
	unsigned int i;

	vm = vm_create_with_vcpus(nr_vcpus, guest_code, vcpus);
	pvti_gva = vm_vaddr_alloc(vm, nr_vcpus * sizeof(*pvti_hva), KVM_UTIL_MIN_VADDR);
	pvti_hva = addr_gva2hva(vm, pvti_gva);
	memset(pvti_hva, 0, nr_vcpus * sizeof(*pvti_hva));
	sh_gva = vm_vaddr_alloc(vm, sizeof(*sh), KVM_UTIL_MIN_VADDR);
	sh = addr_gva2hva(vm, sh_gva);
	memset(sh, 0, sizeof(*sh));
	sync_global_to_guest(vm, guest_readers);
	sync_global_to_guest(vm, guest_others_spin);
	for (i = 0; i < nr_vcpus; i++)
		vcpu_args_set(vcpus[i], 4, (uint64_t)i, addr_gva2gpa(vm, pvti_gva),
			      pvti_gva, sh_gva);
	if (!master) {
		/* A TSC far from the others: the vCPUs' TSCs no longer match. */
		vcpu_set_msr(vcpus[1], MSR_IA32_TSC, 1ull << 42);
	}

	/* KVM_GET_STATS_FD takes the vCPU mutex: open before KVM_RUN. */
	for (i = 0; i < nr_vcpus; i++)
		stats_fds[i] = vcpu_get_stats_fd(vcpus[i]);
	find_stats(stats_fds[0], vcpu_stat_names, vcpu_stat_off, NR_VCPU_STATS);
	vm_stats_fd = vm_get_stats_fd(vm);
	find_stats(vm_stats_fd, vm_stat_names, vm_stat_off, NR_VM_STATS);
	res->have_stats = vcpu_stat_off[S_CLOCK_UPDATES] >= 0 &&
			  vm_stat_off[S_MASTERCLOCK_UPDATES] >= 0;
	snapshot(&res->s0);
}

/* Run every vCPU until all have enabled kvmclock; then the VM's clock mode. */
static void start_vcpus(const char *mode, int cpu_a, double t0, struct mode_result *res)
{
	struct kvm_clock_data clock = {};
	pthread_attr_t attr;
	unsigned int i;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	for (i = 0; i < nr_vcpus; i++)
		TEST_ASSERT(!pthread_create(&threads[i], &attr, vcpu_thread, vcpus[i]),
			    "pthread_create(vCPU %u)", i);
	pin(threads[0], cpu_a);

	while (READ_ONCE(sh->enabled) < nr_vcpus) {
		TEST_ASSERT(scale_now_s() - t0 < 1800, "only %lu of %u vCPUs enabled kvmclock in 30 min",
			    (unsigned long)READ_ONCE(sh->enabled), nr_vcpus);
		usleep(10000);
	}
	res->t_up = scale_now_s() - t0;
	usleep(300 * 1000);	/* let the start-up fan-outs finish */
	snapshot(&res->s1);

	vm_ioctl(vm, KVM_GET_CLOCK, &clock);
	res->is_stable = clock.flags & KVM_CLOCK_TSC_STABLE;
	clocksource(res->cs, sizeof(res->cs));
	ksft_print_msg("%s: %u vCPUs up in %.2f s, host clocksource %s, KVM_GET_CLOCK flags 0x%x (%s)\n",
		       mode, nr_vcpus, res->t_up, res->cs, clock.flags,
		       res->is_stable ? "master clock" : "no master clock");
}

/* The events: move vCPU 0 between the two CPUs (and rewrite its MSR). */
static void churn(unsigned long events, unsigned long interval_ms, bool rewrite,
		  int cpu_a, int cpu_b)
{
	unsigned long e;

	for (e = 1; e <= events; e++) {
		pin(threads[0], e & 1 ? cpu_b : cpu_a);
		if (rewrite)
			WRITE_ONCE(sh->rewrite_req, e);
		usleep(interval_ms * 1000);
	}
	usleep(300 * 1000);	/* the last fan-out */
}

/* Stop and join the vCPU threads, collect the readers' counts, free the VM. */
static void stop_vcpus(uint32_t readers, bool check_rewrites, unsigned long events,
		       struct mode_result *res)
{
	unsigned int i;
	int j;

	stopping = 1;
	WRITE_ONCE(sh->stop, 1);
	for (i = 0; i < nr_vcpus; i++)
		pthread_kill(threads[i], SIGUSR1);
	for (i = 0; i < nr_vcpus; i++)
		pthread_join(threads[i], NULL);
	stopping = 0;
	for (i = 0; i < nr_vcpus; i++)
		close(stats_fds[i]);
	close(vm_stats_fd);

	for (j = 0; j < (int)readers; j++) {
		res->own += sh->own_back[j];
		res->cross += sh->cross_back[j];
		res->reads += sh->reads[j];
		res->stable += sh->stable[j];
		if (sh->max_back_ns[j] > res->maxback)
			res->maxback = sh->max_back_ns[j];
	}
	if (check_rewrites)
		TEST_ASSERT(sh->rewrite_done == events, "vCPU 0 handled %lu of %lu MSR rewrites",
			    (unsigned long)sh->rewrite_done, events);
	kvm_vm_free(vm);
}

/* Metrics of one mode and its two test results. */
static void report_mode(const char *mode, bool master, unsigned long events,
			double max_skew_us, const struct mode_result *res)
{
	const struct snap *s0 = &res->s0, *s1 = &res->s1, *s2 = &res->s2;
	double per = (double)(s2->versions - s1->versions) / events;

	metric(mode, "vcpus", nr_vcpus, "vcpus");
	metric(mode, "setup_s", res->t_up, "s");
	metric(mode, "pvclock_writes_per_event", per, "writes");
	metric(mode, "wakeups_per_event",
	       (double)(s2->vcpu[S_HALT_WAKEUP] - s1->vcpu[S_HALT_WAKEUP]) / events, "wakeups");
	metric(mode, "pvclock_writes_setup", s1->versions - s0->versions, "writes");
	metric(mode, "wakeups_setup", s1->vcpu[S_HALT_WAKEUP] - s0->vcpu[S_HALT_WAKEUP], "wakeups");
	if (res->have_stats) {
		metric(mode, "clock_updates_per_event",
		       (double)(s2->vcpu[S_CLOCK_UPDATES] - s1->vcpu[S_CLOCK_UPDATES]) / events,
		       "updates");
		metric(mode, "clock_fanouts_per_event",
		       (double)(s2->vmst[S_CLOCK_FANOUTS] - s1->vmst[S_CLOCK_FANOUTS]) / events,
		       "fanouts");
		metric(mode, "masterclock_updates_setup",
		       s1->vmst[S_MASTERCLOCK_UPDATES] - s0->vmst[S_MASTERCLOCK_UPDATES], "updates");
		metric(mode, "masterclock_updates_per_event",
		       (double)(s2->vmst[S_MASTERCLOCK_UPDATES] - s1->vmst[S_MASTERCLOCK_UPDATES]) /
		       events, "updates");
	}
	metric(mode, "reads", res->reads, "reads");
	metric(mode, "backwards_own", res->own, "steps");
	metric(mode, "backwards_cross", res->cross, "steps");
	metric(mode, "max_backwards_ns", res->maxback, "ns");
	ksft_print_msg("%s: %lu events, %.2f pvclock writes and %.2f wake-ups per event; %lu reads, %lu/%lu steps back (own/cross, max %lu ns), stable bit in %lu reads\n",
		       mode, events, per,
		       (double)(s2->vcpu[S_HALT_WAKEUP] - s1->vcpu[S_HALT_WAKEUP]) / events,
		       (unsigned long)res->reads, (unsigned long)res->own,
		       (unsigned long)res->cross, (unsigned long)res->maxback,
		       (unsigned long)res->stable);

	if (master)
		ksft_test_result(res->reads > 0 && !res->own && !res->cross,
				 "%s: kvmclock monotonic and consistent across vCPUs (%lu reads)\n",
				 mode, (unsigned long)res->reads);
	else
		ksft_test_result(res->reads > 0 && res->maxback <= max_skew_us * 1000,
				 "%s: kvmclock steps back at most %lu ns (bound %.0f us, %lu reads)\n",
				 mode, (unsigned long)res->maxback, max_skew_us,
				 (unsigned long)res->reads);

	if (!res->have_stats) {
		ksft_test_result_skip("%s: clock update work per event reported only (kernel without clock_updates stats)\n",
				      mode);
	} else if (master) {
		uint64_t mc = s1->vmst[S_MASTERCLOCK_UPDATES] - s0->vmst[S_MASTERCLOCK_UPDATES];
		uint64_t wk = s2->vcpu[S_HALT_WAKEUP] - s1->vcpu[S_HALT_WAKEUP];

		ksft_test_result(per <= 2 && wk < events && mc <= 8,
				 "%s: %.2f pvclock writes (<= 2) and %lu wake-ups per %lu events, %lu master clock updates for %u vCPUs (<= 8)\n",
				 mode, per, (unsigned long)wk, events, (unsigned long)mc, nr_vcpus);
	} else {
		uint64_t wk = s2->vcpu[S_HALT_WAKEUP] - s1->vcpu[S_HALT_WAKEUP];

		ksft_test_result(guest_others_spin || wk < events,
				 "%s: %lu wake-ups of halted vCPUs in %lu events\n",
				 mode, (unsigned long)wk, events);
	}
}

/* Returns false (and reports SKIP) when the mode is not available. */
static bool run_mode(const char *mode, bool master, unsigned long events,
		     unsigned long interval_ms, bool rewrite, uint32_t readers,
		     int cpu_a, int cpu_b, double max_skew_us)
{
	static struct mode_result res;
	double t0;

	memset(&res, 0, sizeof(res));
	t0 = scale_now_s();
	setup_vm(master, &res);
	start_vcpus(mode, cpu_a, t0, &res);
	if (res.is_stable == master)
		churn(events, interval_ms, rewrite, cpu_a, cpu_b);
	snapshot(&res.s2);
	stop_vcpus(readers, rewrite && res.is_stable == master, events, &res);

	if (res.is_stable != master) {
		ksft_test_result_skip("%s: KVM_GET_CLOCK says %s (host clocksource %s)\n",
				      mode, res.is_stable ? "master clock" : "no master clock",
				      res.cs);
		ksft_test_result_skip("%s: clock update work\n", mode);
		return false;
	}
	report_mode(mode, master, events, max_skew_us, &res);
	return true;
}

/* The KVMCLOCK_* settings of a run. */
struct churn_cfg {
	unsigned long events, interval_ms;
	uint32_t readers;
	bool rewrite, do_master, do_nomaster;
	double max_skew_us;
	int cpu_a, cpu_b;
};

/* KVMCLOCK_* from the environment, checked; sets nr_vcpus and the guest's. */
static void parse_env(struct churn_cfg *cfg)
{
	unsigned long max_vcpus;
	const char *modes, *others;

	max_vcpus = kvm_check_cap(KVM_CAP_MAX_VCPUS);
	nr_vcpus = scale_env_ulong("KVMCLOCK_VCPUS", max_vcpus < 1024 ? max_vcpus : 1024);
	cfg->events = scale_env_ulong("KVMCLOCK_MIGRATIONS", 20);
	cfg->interval_ms = scale_env_ulong("KVMCLOCK_INTERVAL_MS", 150);
	cfg->rewrite = scale_env_ulong("KVMCLOCK_REWRITE", 1);
	cfg->readers = scale_env_ulong("KVMCLOCK_READERS", 2);
	cfg->max_skew_us = scale_env_ulong("KVMCLOCK_MAX_SKEW_US", 5000);
	modes = getenv("KVMCLOCK_MODES");
	if (!modes || !*modes)
		modes = "master,nomaster";
	cfg->do_master = strstr(modes, "master") == modes || strstr(modes, ",master");
	cfg->do_nomaster = strstr(modes, "nomaster");
	if (!cfg->do_master && !cfg->do_nomaster)
		ksft_exit_fail_msg("KVMCLOCK_MODES=%s: want master and/or nomaster\n", modes);
	others = getenv("KVMCLOCK_OTHERS");
	if (!others || !*others || !strcmp(others, "halt"))
		guest_others_spin = false;
	else if (!strcmp(others, "spin"))
		guest_others_spin = true;
	else
		ksft_exit_fail_msg("KVMCLOCK_OTHERS=%s: want halt or spin\n", others);

	if (nr_vcpus < 2 || nr_vcpus > MAX_VCPUS || nr_vcpus > max_vcpus)
		ksft_exit_fail_msg("KVMCLOCK_VCPUS=%u: want 2..%lu\n", nr_vcpus,
				   max_vcpus < MAX_VCPUS ? max_vcpus : MAX_VCPUS);
	if (!cfg->readers || cfg->readers > MAX_READERS || cfg->readers > nr_vcpus)
		ksft_exit_fail_msg("KVMCLOCK_READERS=%u: want 1..%d and <= vCPUs\n",
				   cfg->readers, MAX_READERS);
	if (!cfg->events || !cfg->interval_ms)
		ksft_exit_fail_msg("KVMCLOCK_MIGRATIONS and KVMCLOCK_INTERVAL_MS must be > 0\n");
	guest_readers = cfg->readers;
}

/* The first two host CPUs we may run on: vCPU 0 moves between them. */
static void pick_cpus(struct churn_cfg *cfg)
{
	cpu_set_t set;
	int i;

	cfg->cpu_a = cfg->cpu_b = -1;
	TEST_ASSERT(!sched_getaffinity(0, sizeof(set), &set), "sched_getaffinity");
	for (i = 0; i < CPU_SETSIZE && cfg->cpu_b < 0; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		if (cfg->cpu_a < 0)
			cfg->cpu_a = i;
		else
			cfg->cpu_b = i;
	}
	if (cfg->cpu_b < 0)
		ksft_exit_skip("needs 2 host CPUs to move a vCPU between\n");
}

int main(int argc, char *argv[])
{
	struct churn_cfg cfg = {};
	struct sigaction sa = {};
	int nmodes = 0;

	ksft_print_header();
	if (access(KVM_DEV_PATH, R_OK | W_OK))
		ksft_exit_skip("%s not available: %s\n", KVM_DEV_PATH, strerror(errno));
	if (!kvm_has_cap(KVM_CAP_ADJUST_CLOCK))
		ksft_exit_skip("KVM_CAP_ADJUST_CLOCK not available\n");

	parse_env(&cfg);
	pick_cpus(&cfg);

	/* A vCPU fd and a stats fd per vCPU. */
	scale_raise_nofile(2 * nr_vcpus + 100);
	sa.sa_handler = sig_nop;
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: KVM_RUN returns EINTR */

	vcpus = calloc(nr_vcpus, sizeof(*vcpus));
	threads = calloc(nr_vcpus, sizeof(*threads));
	stats_fds = calloc(nr_vcpus, sizeof(*stats_fds));
	TEST_ASSERT(vcpus && threads && stats_fds, "calloc");

	ksft_set_plan(2 * (cfg.do_master + cfg.do_nomaster));
	ksft_print_msg("%u vCPUs (%u reading kvmclock, the others %s), %lu events every %lu ms on CPUs %d/%d, MSR rewrite %s\n",
		       nr_vcpus, cfg.readers, guest_others_spin ? "reading too" : "halted",
		       cfg.events, cfg.interval_ms, cfg.cpu_a, cfg.cpu_b, cfg.rewrite ? "on" : "off");
	if (cfg.do_master)
		nmodes += run_mode("master", true, cfg.events, cfg.interval_ms, cfg.rewrite,
				   cfg.readers, cfg.cpu_a, cfg.cpu_b, cfg.max_skew_us);
	if (cfg.do_nomaster)
		nmodes += run_mode("nomaster", false, cfg.events, cfg.interval_ms, cfg.rewrite,
				   cfg.readers, cfg.cpu_a, cfg.cpu_b, cfg.max_skew_us);
	if (!nmodes)
		ksft_print_msg("no mode could be run\n");
	ksft_finished();
}
