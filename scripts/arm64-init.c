// SPDX-License-Identifier: GPL-2.0
/*
 * arm64-init: /init of the arm64 guest that scripts/peer-selftests boots
 * (there is no arm64 busybox on the build machine).  Built static with
 * aarch64-linux-gnu-gcc -static.
 *
 * Mounts proc, sysfs, devtmpfs and tmpfs (/tmp, /dev/shm), raises the
 * open-file and locked-memory limits, runs every test of /tests/manifest.txt
 * ("<name> <timeout_s> <absolute path> [args...]", '#' comments) with its
 * full path as argv[0] (the selftest library opens its own ELF through it),
 * each in its own process group under its own timeout (SIGTERM, SIGKILL 5 s
 * later), prints the scripts/run-tests markers
 *
 *	=== kvm-scale: BEGIN <name>
 *	=== kvm-scale: END <name> <PASS|FAIL|SKIP|TIMEOUT> rc=<rc> secs=<s>
 *	=== kvm-scale: DONE
 *
 * (exit 0 PASS, 4 SKIP, anything else FAIL, rc = 128 + signal for a test
 * killed by a signal) and powers the machine off.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST "/tests/manifest.txt"
#define KILL_GRACE 5
#define MAX_ARGS 32

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void mnt(const char *src, const char *dir, const char *type)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, 0, NULL) && errno != EBUSY)
		say("init: mount %s on %s: %s\n", type, dir, strerror(errno));
}

static void write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0)
		say("init: write %s: %s\n", path, strerror(errno));
	close(fd);
}

static void setup(void)
{
	struct rlimit rl;
	struct utsname u;
	int fd;

	mnt("proc", "/proc", "proc");
	mnt("sysfs", "/sys", "sysfs");
	mnt("devtmpfs", "/dev", "devtmpfs");
	mnt("tmpfs", "/tmp", "tmpfs");
	mnt("tmpfs", "/dev/shm", "tmpfs");

	fd = open("/dev/console", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* vCPU/VM count tests need far more than 1024 open files. */
	write_file("/proc/sys/fs/nr_open", "1048576");
	rl.rlim_cur = rl.rlim_max = 1048576;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		say("init: warning: cannot raise RLIMIT_NOFILE: %s\n", strerror(errno));
	rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
	setrlimit(RLIMIT_MEMLOCK, &rl);

	setenv("PATH", "/tests:/bin", 1);
	setenv("HOME", "/", 1);
	setenv("TMPDIR", "/tmp", 1);
	if (chdir("/tests"))
		say("init: chdir /tests: %s\n", strerror(errno));
	if (!uname(&u))
		say("init: %s %s %s %s\n", u.sysname, u.release, u.version, u.machine);
	say("init: %ld cpus\n", sysconf(_SC_NPROCESSORS_ONLN));
}

/* Wait for pid until it exits or deadline (CLOCK_MONOTONIC) passes. */
static int wait_until(pid_t pid, int *status, double deadline)
{
	for (;;) {
		double left = deadline - now();
		pid_t r;

		if (left <= 0)
			return -1;
		alarmed = 0;
		alarm((unsigned int)left + 1);
		r = waitpid(pid, status, 0);
		alarm(0);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return 0;	/* cannot happen: our own child */
	}
}

static void run_test(char *name, long timeout, char **argv)
{
	const char *res;
	double start, secs;
	int status = 0, rc, timed_out = 0;
	pid_t pid;

	say("=== kvm-scale: BEGIN %s\n", name);
	start = now();
	pid = fork();
	if (pid < 0) {
		say("init: fork: %s\n", strerror(errno));
		say("=== kvm-scale: END %s FAIL rc=255 secs=0.00\n", name);
		return;
	}
	if (!pid) {
		setpgid(0, 0);
		signal(SIGALRM, SIG_DFL);
		execv(argv[0], argv);
		fprintf(stderr, "init: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	if (wait_until(pid, &status, start + timeout)) {
		timed_out = 1;
		kill(-pid, SIGTERM);
		kill(pid, SIGTERM);
		if (wait_until(pid, &status, now() + KILL_GRACE)) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
	}
	/* Whatever the test left behind in its process group. */
	kill(-pid, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	secs = now() - start;

	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	else
		rc = 255;
	if (timed_out)
		res = "TIMEOUT";
	else if (rc == 0)
		res = "PASS";
	else if (rc == 4)
		res = "SKIP";
	else
		res = "FAIL";
	say("\n=== kvm-scale: END %s %s rc=%d secs=%.2f\n", name, res, rc, secs);
}

int main(void)
{
	struct sigaction sa;
	char line[4096];
	FILE *f;

	setup();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: waitpid gets EINTR */

	f = fopen(MANIFEST, "r");
	if (!f) {
		say("init: cannot open %s: %s\n", MANIFEST, strerror(errno));
	} else {
		while (fgets(line, sizeof(line), f)) {
			char *argv[MAX_ARGS + 1], *name, *tmo, *tok, *save;
			long timeout;
			int argc = 0;

			line[strcspn(line, "\r\n")] = '\0';
			name = strtok_r(line, " \t", &save);
			if (!name || name[0] == '#')
				continue;
			tmo = strtok_r(NULL, " \t", &save);
			timeout = tmo ? strtol(tmo, NULL, 10) : 0;
			while (argc < MAX_ARGS && (tok = strtok_r(NULL, " \t", &save)))
				argv[argc++] = tok;
			argv[argc] = NULL;
			if (timeout <= 0 || !argc) {
				say("init: bad manifest line for '%s'\n", name);
				continue;
			}
			run_test(name, timeout, argv);
		}
		fclose(f);
	}
	say("=== kvm-scale: DONE\n");
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
