// SPDX-License-Identifier: GPL-2.0
/*
 * mpcgctl top: the memory cgroups that pay for regions (or the regions),
 * refreshed every few seconds, like systemd-cgtop.  On a terminal it
 * redraws the screen and reads keys ('q' quits); otherwise, or with -n, it
 * prints one table per refresh.
 */
#define _GNU_SOURCE
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "mpcgctl.h"

static bool show_regions;	/* rather than cgroups ('r', 'c') */

static volatile sig_atomic_t quit_signal, resized;
static struct termios saved_tio;
static bool tio_saved;

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		resized = 1;
	else
		quit_signal = sig;
}

static void restore_tty(void)
{
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		tio_saved = false;
		fputs("\033[?25h", stdout);	/* show the cursor */
		fflush(stdout);
	}
}

static void setup_tty(void)
{
	struct termios tio;

	if (tcgetattr(STDIN_FILENO, &saved_tio))
		return;
	tio = saved_tio;
	tio.c_lflag &= ~(ICANON | ECHO);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &tio))
		return;
	tio_saved = true;
	atexit(restore_tty);
	fputs("\033[?25l", stdout);		/* hide the cursor */
}

static int cmp_paid(const void *a, const void *b)
{
	const struct usage_row *x = a, *y = b;

	if (x->u.paid_bytes != y->u.paid_bytes)
		return x->u.paid_bytes > y->u.paid_bytes ? -1 : 1;
	if (x->u.fair_share_bytes != y->u.fair_share_bytes)
		return x->u.fair_share_bytes > y->u.fair_share_bytes ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int cmp_resident(const void *a, const void *b)
{
	const struct mpcg_region_stat *x = a, *y = b;

	if (x->resident_bytes != y->resident_bytes)
		return x->resident_bytes > y->resident_bytes ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* One refresh: the summary line and the table, into a string. */
static char *render(int ctl, size_t width)
{
	struct mpcg_region_stat *ri;
	uint64_t resident = 0, shortfall = 0;
	char *buf = NULL, *table = NULL, *s1, *s2, when[16];
	struct output o;
	size_t len = 0;
	ssize_t nr, i;
	time_t now;
	FILE *f;

	nr = mpcg_ctl_regions(ctl, &ri);
	if (nr < 0)
		die_errno(MPCG_CTL_PATH, nr);
	for (i = 0; i < nr; i++) {
		resident += ri[i].resident_bytes;
		shortfall += ri[i].shortfall_bytes;
	}
	cgroup_names_refresh();
	region_names_refresh();

	if (show_regions) {
		struct out_opts saved = out_opts;

		/* -o and --output-all name columns of the cgroups view. */
		out_opts.output = NULL;
		out_opts.output_all = false;
		output_init(&o, "regions", list_cols, list_ncols,
			    "PATH,RESIDENT,SIZE,POLICY,STATE,MEMBERS,ATTACH,OWNER,SHORTFALL");
		out_opts = saved;
		qsort(ri, nr, sizeof(*ri), cmp_resident);
		for (i = 0; i < nr; i++)
			list_fill(&o, &ri[i]);
	} else {
		struct usage_row *r;
		size_t n, k;

		output_init(&o, "usage", usage_cols, usage_ncols,
			    "CGROUP,REGIONS,ATTACH,FAIR,PAID,SHORTFALL,CURRENT");
		n = usage_collect(ctl, cgroup_mount(), &r, false, 0);
		qsort(r, n, sizeof(*r), cmp_paid);
		for (k = 0; k < n; k++) {
			r[k].current = cgroup_memory_current(r[k].path);
			usage_fill(&o, &r[k]);
		}
		usage_rows_free(r, n);
	}
	free(ri);
	if (width) {
		scols_table_set_termforce(o.tb, SCOLS_TERMFORCE_ALWAYS);
		scols_table_set_termwidth(o.tb, width);
	}
	if (scols_print_table_to_string(o.tb, &table))
		die(NULL, "cannot print the table");
	output_free(&o);

	now = time(NULL);
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	s1 = out_opts.bytes ? NULL : size_human(resident);
	s2 = out_opts.bytes ? NULL : size_human(shortfall);
	f = open_memstream(&buf, &len);
	if (!f)
		die(NULL, "out of memory");
	if (out_opts.bytes)
		fprintf(f, PROG " top - %s  regions: %zd  resident: %llu  shortfall: %llu\n",
			when, nr, (unsigned long long)resident,
			(unsigned long long)shortfall);
	else
		fprintf(f, PROG " top - %s  regions: %zd  resident: %s  shortfall: %s\n",
			when, nr, s1, s2);
	fprintf(f, "\n%s\n", table);
	fclose(f);
	free(table);
	free(s1);
	free(s2);
	return buf;
}

/* Print @s, cut to @rows lines and each line to @cols columns. */
static void print_screen(const char *s, size_t rows, size_t cols)
{
	size_t row = 0;

	fputs("\033[H\033[2J", stdout);
	while (*s && row < rows) {
		size_t len = strcspn(s, "\n");

		fwrite(s, 1, len < cols ? len : cols, stdout);
		s += len;
		if (*s)
			s++;
		if (++row < rows)
			fputs("\r\n", stdout);
	}
	fflush(stdout);
}

/* Wait up to @secs for a key; returns the key, 0 on timeout or signal. */
static int wait_key(double secs)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	unsigned char c;
	int r;

	r = poll(&p, 1, (int)lround(secs * 1000));
	if (r <= 0)
		return 0;
	if (read(STDIN_FILENO, &c, 1) != 1)
		return 'q';		/* end of input */
	return c;
}

int cmd_top(int argc, char **argv)
{
	struct sigaction sa;
	bool interactive;
	long iter = 0;
	int ctl, first;

	first = parse_opts(argc, argv, CMD_TOP, "top");
	if (first < argc)
		usage_error("top", "top: unexpected argument '%s'", argv[first]);
	if (out_opts.json)
		usage_error("top", "top: --json is not supported (use usage --json)");
	ctl = ctl_open_or_die();
	interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	if (interactive)
		setup_tty();

	while (!quit_signal) {
		char *screen;
		int key;

		if (interactive) {
			struct winsize ws = { .ws_row = 24, .ws_col = 80 };

			/* A new pseudo-terminal may say 0x0: assume 24x80. */
			if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || !ws.ws_row ||
			    !ws.ws_col) {
				ws.ws_row = 24;
				ws.ws_col = 80;
			}
			screen = render(ctl, ws.ws_col);
			print_screen(screen, ws.ws_row, ws.ws_col);
		} else {
			screen = render(ctl, 0);
			printf("%s%s", iter ? "\n" : "", screen);
			fflush(stdout);
		}
		free(screen);
		if (cmd_opts.iterations && ++iter >= cmd_opts.iterations)
			break;
		if (!interactive) {
			struct timespec ts = {
				.tv_sec = (time_t)cmd_opts.delay,
				.tv_nsec = (long)((cmd_opts.delay - (time_t)cmd_opts.delay) * 1e9),
			};

			nanosleep(&ts, NULL);
			continue;
		}
		resized = 0;
		key = wait_key(cmd_opts.delay);
		if (key == 'q' || key == 'Q')
			break;
		if (key == 'r')
			show_regions = true;
		else if (key == 'c')
			show_regions = false;
	}
	if (interactive) {
		fputs("\r\n", stdout);
		restore_tty();
	}
	close(ctl);
	return 0;
}
