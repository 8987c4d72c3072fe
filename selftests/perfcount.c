// SPDX-License-Identifier: GPL-2.0
/*
 * perfcount - count kernel tracepoint events while a command runs.
 *
 *   perfcount [-a] [-k KEY] [-e SYS:NAME[,SYS:NAME...]] -- COMMAND [ARGS...]
 *
 * Opens one counting perf event per tracepoint with the kernel tree's libperf
 * (tools/lib/perf: perf_evlist, perf_evsel), either on every online CPU (-a)
 * or on the command and all threads and children it creates (inherit), runs
 * the command, and prints one harness metric line per event:
 *
 *   # metric <KEY>.<sys>:<name> <count> events
 *
 * (KEY defaults to "perf"), and the time the command ran, for rates, as
 * "# metric <KEY>.seconds <s> s".  The tracepoint ids come from tracefs
 * (<tracefs>/events/<sys>/<name>/id): /sys/kernel/tracing, the automount
 * under debugfs, any tracefs in /proc/mounts, or, failing those, a tracefs
 * that perfcount mounts at /sys/kernel/tracing itself.
 *
 * An event that cannot be counted (no tracefs, tracepoint not in this kernel,
 * perf_event_open() refused by perf_event_paranoid or missing) is reported as
 * "# perfcount: SKIP <event>: <reason>" and the command runs anyway.  The
 * exit status is the command's (128 + signal number when a signal killed
 * it, 127 when it cannot be run); 2 for bad arguments.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/compiler.h>
#include <linux/perf_event.h>
#include <perf/core.h>
#include <perf/cpumap.h>
#include <perf/evlist.h>
#include <perf/evsel.h>
#include <perf/threadmap.h>

#define MAX_EVENTS	32
#define DEFAULT_EVENTS	"lock:contention_begin,sched:sched_switch"
#define TRACEFS_MNT	"/sys/kernel/tracing"

struct event {
	char name[128];			/* "sys:name" as given */
	struct perf_evsel *evsel;	/* NULL: skipped */
	uint64_t count;
};

static struct event events[MAX_EVENTS];
static int nr_events;
static const char *prog = "perfcount";
static pid_t child_pid;		/* for forward_signal() */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-a] [-k KEY] [-e SYS:NAME[,SYS:NAME...]] -- COMMAND [ARGS...]\n"
		"\n"
		"Count kernel tracepoint events while COMMAND runs and print\n"
		"\"# metric KEY.SYS:NAME COUNT events\" per event and the time it ran as\n"
		"\"# metric KEY.seconds SECONDS s\".\n"
		"\n"
		"  -e EVENTS  tracepoints to count, comma-separated, may be repeated, at most %d\n"
		"             (default: %s)\n"
		"  -a         count on all online CPUs (system-wide) instead of COMMAND and\n"
		"             the threads and processes it creates\n"
		"  -k KEY     metric key prefix (default: perf)\n"
		"  -h         this help\n"
		"\n"
		"An event that cannot be counted here is reported as\n"
		"\"# perfcount: SKIP EVENT: REASON\" and COMMAND runs anyway.\n"
		"Exit status: COMMAND's (128+N if killed by signal N, 127 if it cannot\n"
		"be run), 2 for bad arguments.\n",
		prog, MAX_EVENTS, DEFAULT_EVENTS);
}

static void __noreturn __printf(1, 2) usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

static bool valid_part(const char *s, size_t len)
{
	size_t i;

	if (!len)
		return false;
	for (i = 0; i < len; i++)
		if (!(s[i] == '_' || s[i] == '-' || (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

static bool valid_key(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if (*p != '.' && !valid_part(p, 1))
			return false;
	return *s != '\0';
}

/* Add "sys:name[,sys:name...]" to events[]. */
static void add_events(const char *list)
{
	const char *p = list, *end, *colon;
	size_t len;

	for (;;) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		colon = memchr(p, ':', len);
		if (!colon || !valid_part(p, colon - p) ||
		    !valid_part(colon + 1, len - (colon - p) - 1))
			usage_err("bad event '%.*s' in '%s': want SYS:NAME", (int)len, p, list);
		if (len >= sizeof(events[0].name))
			usage_err("event name '%.*s' too long", (int)len, p);
		if (nr_events == MAX_EVENTS)
			usage_err("at most %d events", MAX_EVENTS);
		memcpy(events[nr_events].name, p, len);
		events[nr_events].name[len] = '\0';
		nr_events++;
		if (!end)
			break;
		p = end + 1;
	}
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* errno of the first tracefs candidate that exists but cannot be used. */
static int tracefs_errno;
static char tracefs_bad[PATH_MAX];

static bool tracefs_at(const char *dir, char *out, size_t len)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/events", dir) >= (int)sizeof(path))
		return false;
	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		if (errno != ENOENT && !tracefs_errno) {
			tracefs_errno = errno;
			snprintf(tracefs_bad, sizeof(tracefs_bad), "%s", path);
		}
		return false;
	}
	snprintf(out, len, "%s", dir);
	return true;
}

/*
 * Find a tracefs with an events/ directory; mount one at /sys/kernel/tracing
 * if there is none.  On failure, @why says why.
 */
static bool find_tracefs(char *out, size_t len, char *why, size_t wlen)
{
	char dev[256], dir[PATH_MAX], type[64];
	bool found = false;
	FILE *f;

	if (tracefs_at(TRACEFS_MNT, out, len) ||
	    tracefs_at("/sys/kernel/debug/tracing", out, len))
		return true;

	f = fopen("/proc/mounts", "r");
	if (f) {
		while (!found && fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3)
			found = !strcmp(type, "tracefs") && tracefs_at(dir, out, len);
		fclose(f);
		if (found)
			return true;
	}
	if (tracefs_errno) {
		snprintf(why, wlen, "cannot use tracefs: %s: %s", tracefs_bad,
			 strerror(tracefs_errno));
		return false;
	}

	if (!is_dir(TRACEFS_MNT)) {
		snprintf(why, wlen, "no tracefs (no %s: kernel without CONFIG_TRACING?)",
			 TRACEFS_MNT);
		return false;
	}
	if (mount("nodev", TRACEFS_MNT, "tracefs", 0, NULL)) {
		snprintf(why, wlen, "no tracefs mounted, and mounting it at %s failed: %s",
			 TRACEFS_MNT, strerror(errno));
		return false;
	}
	printf("# perfcount: mounted tracefs at %s\n", TRACEFS_MNT);
	if (tracefs_at(TRACEFS_MNT, out, len))
		return true;
	snprintf(why, wlen, "tracefs at %s has no events/ (CONFIG_EVENT_TRACING off?)",
		 TRACEFS_MNT);
	return false;
}

/* The tracepoint id of "sys:name", or -1 with @why filled in. */
static long long tracepoint_id(const char *tracefs, const char *event,
			       char *why, size_t wlen)
{
	char path[PATH_MAX], sys[128];
	const char *colon = strchr(event, ':');
	long long id;
	FILE *f;

	snprintf(sys, sizeof(sys), "%.*s", (int)(colon - event), event);
	if (snprintf(path, sizeof(path), "%s/events/%s/%s/id", tracefs, sys,
		     colon + 1) >= (int)sizeof(path)) {
		snprintf(why, wlen, "tracefs path too long");
		return -1;
	}
	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			snprintf(why, wlen, "no such tracepoint in this kernel (no %s)", path);
		else
			snprintf(why, wlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fscanf(f, "%lld", &id) != 1 || id < 0) {
		snprintf(why, wlen, "no id in %s", path);
		id = -1;
	}
	fclose(f);
	return id;
}

static void paranoid_reason(int err, char *why, size_t wlen)
{
	char level[32] = "?";
	FILE *f;

	f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	if (f) {
		if (!fgets(level, sizeof(level), f))
			snprintf(level, sizeof(level), "?");
		level[strcspn(level, "\n")] = '\0';
		fclose(f);
	} else if (errno == ENOENT) {
		snprintf(why, wlen, "%s",
			 "perf events not available (no perf_event_paranoid: CONFIG_PERF_EVENTS off?)");
		return;
	}
	snprintf(why, wlen,
		 "perf_event_open: %s (perf_event_paranoid=%s; needs root or CAP_PERFMON)",
		 strerror(err), level);
}

static void open_reason(int err, char *why, size_t wlen)
{
	switch (err) {
	case EACCES:
	case EPERM:
		paranoid_reason(err, why, wlen);
		break;
	case ENOSYS:	/* the system call itself is missing */
		snprintf(why, wlen, "perf_event_open not implemented (CONFIG_PERF_EVENTS off)");
		break;
	case ENOENT:
	case ENODEV:
	case EOPNOTSUPP:
		snprintf(why, wlen, "perf cannot count this event here: %s", strerror(err));
		break;
	default:
		snprintf(why, wlen, "perf_event_open: %s", strerror(err));
		break;
	}
}

static int libperf_print(enum libperf_print_level level, const char *fmt, va_list ap)
{
	if (level > LIBPERF_WARN)
		return 0;
	fprintf(stderr, "%s: libperf: ", prog);
	return vfprintf(stderr, fmt, ap);
}

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/*
 * Start COMMAND stopped on a pipe, so that the counters are open (and, per
 * process, attached to its pid) before it runs; it goes on when a byte comes.
 */
static pid_t start_child(char **argv, int *go_fd)
{
	int pfd[2];
	pid_t pid;
	char c;

	if (pipe(pfd)) {
		fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
		exit(127);
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		exit(127);
	}
	if (!pid) {
		close(pfd[1]);
		while (read(pfd[0], &c, 1) < 0 && errno == EINTR)
			;
		close(pfd[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: cannot run %s: %s\n", prog, argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[0]);
	*go_fd = pfd[1];
	return pid;
}

/*
 * One evsel per event on the evlist's CPU and thread maps; an event that
 * cannot be opened is reported and left out of the evlist.
 */
static void open_events(struct perf_evlist *evlist, bool system_wide)
{
	char tracefs[PATH_MAX], why[PATH_MAX + 128];
	bool have_tracefs;
	int i, err;

	have_tracefs = find_tracefs(tracefs, sizeof(tracefs), why, sizeof(why));
	for (i = 0; i < nr_events; i++) {
		struct event *ev = &events[i];
		struct perf_event_attr attr = {
			.type		= PERF_TYPE_TRACEPOINT,
			.size		= sizeof(attr),
			.disabled	= 1,
			.inherit	= !system_wide,
			.enable_on_exec	= !system_wide,
		};
		long long id;

		if (!have_tracefs) {
			printf("# perfcount: SKIP %s: %s\n", ev->name, why);
			continue;
		}
		id = tracepoint_id(tracefs, ev->name, why, sizeof(why));
		if (id < 0) {
			printf("# perfcount: SKIP %s: %s\n", ev->name, why);
			continue;
		}
		attr.config = id;
		ev->evsel = perf_evsel__new(&attr);
		if (!ev->evsel) {
			printf("# perfcount: SKIP %s: out of memory\n", ev->name);
			continue;
		}
		perf_evlist__add(evlist, ev->evsel);
		err = perf_evsel__open(ev->evsel, perf_evsel__cpus(ev->evsel),
				       perf_evsel__threads(ev->evsel));
		if (err) {
			open_reason(-err, why, sizeof(why));
			printf("# perfcount: SKIP %s: %s\n", ev->name, why);
			perf_evlist__remove(evlist, ev->evsel);
			perf_evsel__delete(ev->evsel);
			ev->evsel = NULL;
		}
	}
}

/* Sum an event's counters over the CPUs and threads it was opened on. */
static int read_event(struct event *ev)
{
	int nr_cpus = perf_cpu_map__nr(perf_evsel__cpus(ev->evsel));
	int nr_threads = perf_thread_map__nr(perf_evsel__threads(ev->evsel));
	struct perf_counts_values c;
	int cpu, thread, err;

	ev->count = 0;
	for (cpu = 0; cpu < nr_cpus; cpu++) {
		for (thread = 0; thread < nr_threads; thread++) {
			err = perf_evsel__read(ev->evsel, cpu, thread, &c);
			if (err)
				return err;
			ev->count += c.val;
		}
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[])
{
	struct perf_thread_map *threads;
	struct perf_cpu_map *cpus;
	struct perf_evlist *evlist;
	struct sigaction sa = { .sa_handler = forward_signal };
	const char *key = "perf";
	bool system_wide = false;
	int opt, go_fd, status, i, err, rc;
	double t0, t1;
	pid_t pid;

	/* "+": options end at the command's name, with or without "--". */
	while ((opt = getopt(argc, argv, "+ae:k:h")) != -1) {
		switch (opt) {
		case 'a':
			system_wide = true;
			break;
		case 'e':
			add_events(optarg);
			break;
		case 'k':
			if (!valid_key(optarg))
				usage_err("bad metric key prefix '%s': want [A-Za-z0-9_.-]",
					  optarg);
			key = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc)
		usage_err("no command given");
	if (!nr_events)
		add_events(DEFAULT_EVENTS);

	libperf_init(libperf_print);
	evlist = perf_evlist__new();
	if (!evlist) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 127;
	}

	pid = start_child(&argv[optind], &go_fd);
	child_pid = pid;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	/* System-wide: every online CPU, any task; else the child, any CPU. */
	if (system_wide) {
		cpus = perf_cpu_map__new_online_cpus();
		threads = perf_thread_map__new_dummy();
	} else {
		cpus = perf_cpu_map__new_any_cpu();
		threads = perf_thread_map__new_array(1, &pid);
	}
	if (!cpus || !threads) {
		for (i = 0; i < nr_events; i++)
			printf("# perfcount: SKIP %s: cannot build the CPU/thread maps\n",
			       events[i].name);
	} else {
		perf_evlist__set_maps(evlist, cpus, threads);
		open_events(evlist, system_wide);
		/* Per process the counters start at exec (enable_on_exec). */
		if (system_wide)
			perf_evlist__enable(evlist);
	}
	fflush(stdout);

	t0 = now_s();
	if (write(go_fd, "g", 1) != 1) {
		fprintf(stderr, "%s: cannot start the command: %s\n", prog, strerror(errno));
		kill(pid, SIGKILL);
	}
	close(go_fd);

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "%s: waitpid: %s\n", prog, strerror(errno));
			status = 127 << 8;
			break;
		}
	}
	child_pid = 0;
	t1 = now_s();
	if (system_wide)
		perf_evlist__disable(evlist);

	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	else
		rc = 127;

	fflush(stderr);
	printf("# perfcount: %s ran %.2f s, %s, exit status %d\n", argv[optind], t1 - t0,
	       system_wide ? "all CPUs" : "its threads and children", rc);
	printf("# metric %s.seconds %.2f s\n", key, t1 - t0);
	for (i = 0; i < nr_events; i++) {
		struct event *ev = &events[i];

		if (!ev->evsel)
			continue;
		err = read_event(ev);
		if (err)
			printf("# perfcount: SKIP %s: read: %s\n", ev->name, strerror(-err));
		else
			printf("# metric %s.%s %llu events\n", key, ev->name,
			       (unsigned long long)ev->count);
	}
	fflush(stdout);

	perf_evlist__close(evlist);
	perf_evlist__delete(evlist);
	perf_cpu_map__put(cpus);
	perf_thread_map__put(threads);
	return rc;
}
