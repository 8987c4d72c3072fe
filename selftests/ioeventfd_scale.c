// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioeventfd_scale - KVM_IOEVENTFD at scale (Documentation/irq-routing.rst).
 *
 * Registers IOEVENTFD_N ioeventfds (default 16384) in one VM, in a scrambled
 * address order: half PIO (1024 ports x 8 datamatch values, 4 bytes), half
 * MMIO (one 4-byte wildcard address each, every 16th with length 0, which
 * KVM also puts on the fast MMIO bus).  The same is done first with N/4 in
 * another VM, so the two times show how the cost grows.
 *   # metric ioeventfd.register_<N>_s, ioeventfd.register_<N/4>_s,
 *   # metric ioeventfd.growth_4x (time(N) / time(N/4); 4 = linear)
 * Then the guest writes to IOEVENTFD_SAMPLES (default 512) of the addresses
 * (PIO outl with the datamatch value, MMIO writes) and exactly the matching
 * eventfds must have fired, no other, and no write may exit to userspace.
 * Finally a quarter of them are deassigned and the guest's writes to those
 * must exit to userspace while the others still fire.
 *
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
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"
#include "scale_util.h"

#define PIO_BASE	0x4000
#define PIO_PORTS	1024
#define PIO_MATCHES	8
#define MMIO_BASE	0xd0000000ull
#define MAX_SAMPLES	4096

struct sample {
	uint64_t addr;
	uint32_t val;
	uint32_t pio;
};

static struct sample samples[MAX_SAMPLES];
static uint32_t nr_samples;

static void guest_code(void)
{
	uint32_t i;

	for (;;) {
		for (i = 0; i < nr_samples; i++) {
			if (samples[i].pio)
				outl(samples[i].addr, samples[i].val);
			else
				*(volatile uint32_t *)samples[i].addr = samples[i].val;
		}
		GUEST_SYNC(0);
	}
}

/* ioeventfd number i -> its registration. */
static void describe(unsigned int i, unsigned int n, struct kvm_ioeventfd *io)
{
	memset(io, 0, sizeof(*io));
	if (i < n / 2) {
		io->flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH;
		io->addr = PIO_BASE + (i % PIO_PORTS) * 4;
		io->len = 4;
		io->datamatch = 0x1000 + i / PIO_PORTS;
	} else {
		io->addr = MMIO_BASE + (uint64_t)(i - n / 2) * 8;
		io->len = (i % 16) ? 4 : 0;
	}
}

static void sample_of(unsigned int i, unsigned int n, struct sample *s)
{
	struct kvm_ioeventfd io;

	describe(i, n, &io);
	s->addr = io.addr;
	s->pio = !!(io.flags & KVM_IOEVENTFD_FLAG_PIO);
	s->val = io.flags & KVM_IOEVENTFD_FLAG_DATAMATCH ? io.datamatch : 0x5a5a;
}

/* Register n ioeventfds in @vm in a scrambled order; returns seconds. */
static double register_all(struct kvm_vm *vm, unsigned int n, int *fds)
{
	unsigned int i, j, stride = 7919;
	struct kvm_ioeventfd io;
	double t0;

	while (n % stride == 0 || stride % n == 0)
		stride += 2;
	for (i = 0; i < n; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		TEST_ASSERT(fds[i] >= 0, "eventfd %u: %s", i, strerror(errno));
	}
	t0 = scale_now_s();
	for (j = 0; j < n; j++) {
		i = (unsigned int)(((uint64_t)j * stride) % n);
		describe(i, n, &io);
		io.fd = fds[i];
		TEST_ASSERT(!ioctl(vm->fd, KVM_IOEVENTFD, &io),
			    "KVM_IOEVENTFD %u (addr 0x%llx): %s", i,
			    (unsigned long long)io.addr, strerror(errno));
	}
	return scale_now_s() - t0;
}

static unsigned int gcd(unsigned int a, unsigned int b)
{
	while (b) {
		unsigned int t = a % b;

		a = b;
		b = t;
	}
	return a;
}

int main(void)
{
	unsigned int n, n4, want, i, k, round, bad = 0, fired = 0, exits = 0;
	unsigned int step;
	struct kvm_ioeventfd io;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	unsigned int *pick;
	uint64_t cnt;
	double t, t4;
	int *fds;
	char *hit;

	ksft_print_header();
	if (access("/dev/kvm", R_OK | W_OK))
		ksft_exit_skip("/dev/kvm: %s\n", strerror(errno));

	want = n = scale_env_ulong("IOEVENTFD_N", 16384);
	nr_samples = scale_env_ulong("IOEVENTFD_SAMPLES", 512);
	if (nr_samples > MAX_SAMPLES)
		nr_samples = MAX_SAMPLES;
	if (!nr_samples)
		nr_samples = 1;
	n = scale_nofile_fit(n, 64);
	n &= ~(PIO_PORTS * 2 - 1);
	if (n < PIO_PORTS * 2)
		ksft_exit_skip("RLIMIT_NOFILE too low for %u ioeventfds\n",
			       PIO_PORTS * 2);
	if (n != want)
		ksft_print_msg("RLIMIT_NOFILE: %u ioeventfds instead of %u\n",
			       n, want);
	n4 = n / 4;
	if (nr_samples > n4)
		nr_samples = n4;
	ksft_set_plan(3);

	fds = calloc(n, sizeof(*fds));
	hit = calloc(n, 1);
	pick = calloc(nr_samples, sizeof(*pick));
	TEST_ASSERT(fds && hit && pick, "calloc");

	/* N/4 first, in a VM of its own. */
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	t4 = register_all(vm, n4, fds);
	kvm_vm_free(vm);
	for (i = 0; i < n4; i++)
		close(fds[i]);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	t = register_all(vm, n, fds);
	scale_report_growth("ioeventfd.register", "ioeventfd.growth_4x",
			    "ioeventfds registered", n4, t4, n, t);

	/* The guest writes to a spread of the addresses. */
	step = n / nr_samples | 1;
	while (gcd(step, n) != 1)
		step += 2;
	/* gcd(step, n) == 1: distinct indexes, spread over both halves. */
	for (k = 0; k < nr_samples; k++) {
		i = (unsigned int)(((uint64_t)k * step) % n);
		hit[i] = 1;
		pick[k] = i;
		sample_of(i, n, &samples[k]);
	}
	sync_global_to_guest(vm, samples);
	sync_global_to_guest(vm, nr_samples);
	virt_map(vm, MMIO_BASE, MMIO_BASE, (n / 2 * 8 + 4095) / 4096);

	/*
	 * Twice: right after the registrations, and once KVM has had time to
	 * sort the devices appended in a burst into its bus (~100 ms).
	 */
	for (round = 0; round < 2; round++) {
		if (round)
			usleep(300000);
		vcpu_run(vcpu);
		TEST_ASSERT(get_ucall(vcpu, NULL) == UCALL_SYNC,
			    "exit reason %u (%s) at round %u: a write was not handled in the kernel",
			    vcpu->run->exit_reason,
			    exit_reason_str(vcpu->run->exit_reason), round + 1);
		for (i = 0; i < n; i++) {
			bool got = read(fds[i], &cnt, sizeof(cnt)) == sizeof(cnt);

			fired += got;
			if (got != !!hit[i] && bad++ < 10)
				ksft_print_msg("round %u, ioeventfd %u: %s\n",
					       round + 1, i, got ? "fired, not written" :
					       "written, did not fire");
		}
	}
	ksft_test_result(!bad, "guest wrote %u addresses twice: %u eventfds fired, %u wrong\n",
			 nr_samples, fired, bad);

	/* Deassign every 4th sampled one: their writes now exit to userspace. */
	for (k = 0; k < nr_samples; k += 4) {
		describe(pick[k], n, &io);
		io.fd = fds[pick[k]];
		io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
		TEST_ASSERT(!ioctl(vm->fd, KVM_IOEVENTFD, &io), "deassign: %s",
			    strerror(errno));
		hit[pick[k]] = 2;
	}
	bad = 0;
	fired = 0;
	for (;;) {
		vcpu_run(vcpu);
		if (get_ucall(vcpu, NULL) == UCALL_SYNC)
			break;
		TEST_ASSERT(vcpu->run->exit_reason == KVM_EXIT_IO ||
			    vcpu->run->exit_reason == KVM_EXIT_MMIO,
			    "exit reason %u", vcpu->run->exit_reason);
		TEST_ASSERT(exits++ < nr_samples, "too many exits");
	}
	for (i = 0; i < n; i++) {
		bool got = read(fds[i], &cnt, sizeof(cnt)) == sizeof(cnt);

		fired += got;
		if (got != (hit[i] == 1))
			bad++;
	}
	bad += exits != (nr_samples + 3) / 4;
	ksft_test_result(!bad, "after deassigning %u: %u fired, %u exits to userspace, %u wrong\n",
			 (nr_samples + 3) / 4, fired, exits, bad);

	kvm_vm_free(vm);
	ksft_finished();
}
