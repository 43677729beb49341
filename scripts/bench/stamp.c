/*
 * Timing helper for the benchmarks, compiled at run time. Both ends of a measured interval read
 * CLOCK_REALTIME in C, so they share one clock with nanosecond resolution and no process start-up
 * sits inside the interval.
 *
 *   stamp now                    print the time
 *   stamp rename FROM TO         print the time, then rename FROM over TO at once
 *   stamp child READY OUT        record when SIGTERM arrives: write READY once the handler is
 *                                installed, then on SIGTERM write the time to OUT and exit 0
 *   stamp kill PID...            print the time, then SIGKILL each PID at once (-PGID for a group)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

static const char *out_path;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void on_term(int sig) {
  (void)sig;
  long long t = now_ns();
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%lld\n", t);
  int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) { (void)write(fd, buf, n); close(fd); }
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "now") == 0) {
    printf("%lld\n", now_ns());
    return 0;
  }
  if (argc >= 4 && strcmp(argv[1], "rename") == 0) {
    long long t = now_ns();
    if (rename(argv[2], argv[3]) != 0) { perror("rename"); return 1; }
    printf("%lld\n", t);
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "kill") == 0) {
    long long t = now_ns();
    for (int i = 2; i < argc; i++) kill((pid_t)atoi(argv[i]), SIGKILL);
    printf("%lld\n", t);
    return 0;
  }
  if (argc >= 4 && strcmp(argv[1], "child") == 0) {
    out_path = argv[3];
    signal(SIGTERM, on_term);
    FILE *ready = fopen(argv[2], "w");
    if (ready) { fputs("ready\n", ready); fclose(ready); }
    for (;;) pause();
  }
  fprintf(stderr, "usage: stamp now | rename FROM TO | child READY OUT | kill PID...\n");
  return 2;
}
