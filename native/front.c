/*
 * kubexit's front: the small static program that is `kubexit` itself. It runs before Node and
 * does the three things Node can't do for itself:
 *
 *   1. Guard signals from the first instruction. Node needs 20-40 ms to start, and until its
 *      JavaScript installs handlers a SIGTERM takes the default action and kills it, leaving no
 *      tombstone. The front blocks the signals at once, starts Node, and holds every signal that
 *      arrives until Node says (one byte on a pipe) that its handlers are in place; then it
 *      forwards them, in order, and every later one as it comes.
 *
 *   2. Reap orphans. Image authors prefix ENTRYPOINT with kubexit, so it is PID 1 of most
 *      containers, and PID 1 inherits every orphaned process. libuv only waits for the children
 *      Node started, so orphans would stay zombies until the pod's PID limit is reached. The front
 *      waits for any child (as PID 1, or as a child subreaper elsewhere), as tini does.
 *
 *   3. Find Node from wherever it was installed. The supervisor (a Node single executable) is
 *      lib/kubexit-node next to the front, found through /proc/self/exe; when lib/ also holds a
 *      dynamic loader (the portable bundle), it is run through that loader with that library path,
 *      so no absolute path is written into any file and the bundle runs from any directory.
 *
 *   4. Hold the liveness socket. Node asks for it once, before it starts the command, with a
 *      line on the channel it said "ready" on (`L<path>`); the front binds and listens there
 *      and holds every connection a dependent makes until it exits. The socket then lives as
 *      long as the container's supervisor, as Node's would, and costs Node a write and a read
 *      instead of loading its cluster and server machinery (~0.9 ms of every start, measured).
 *      When Node dies, the socket is closed at once, before anything else.
 *
 * Run as `cp` (the image links /bin/cp to it, so kubexit's documented init container
 * `cp /bin/kubexit /kubexit/kubexit` works unchanged), it tells Node so through KUBEXIT_CALLED_AS.
 *
 * The front exits with Node's exit code, or 128+N when signal N killed Node (it then says so and
 * ends Node's orphaned command). It never takes descriptors 0-2 for itself, never drops a signal
 * (repeats are merged while held), and holds a terminating one at most HOLD_LIMIT_MS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

/* The signals the supervisor relays to its command (src/core/model/signals.ts), and SIGCHLD. */
static const int FORWARDED[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM};
#define FORWARDED_COUNT (sizeof(FORWARDED) / sizeof(FORWARDED[0]))
/*
 * Signals that ask a container to stop (src/core/model/signals.ts, TERMINATING_SIGNALS): one held while
 * Node never says it is ready is forwarded anyway after HOLD_LIMIT_MS, so that it ends Node (its
 * default action) instead of being held forever (a PID limit below Node's own threads, a Node
 * that hangs while starting).
 */
static const int TERMINATING[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};
#define HOLD_LIMIT_MS 5000
static const char *LOADERS[] = {"ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"};
/* Connections held on the liveness socket; more are closed at once (as Node's maxConnections). */
#define MAX_HELD 1024

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "kubexit: error: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
}

/*
 * Descriptors 0, 1 and 2 taken by /dev/null where the front was started without them: otherwise
 * its own signalfd and pipe would get those numbers, Node and the command would write their logs
 * and output into them (a command dies of SIGPIPE), and a read of the pipe could hang.
 */
static void keep_standard_fds(void) {
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    /* open() returns the lowest free descriptor: this one. */
    if (open("/dev/null", O_RDWR) < 0) return;
  }
}

static int contains(const int *list, int count, int value) {
  for (int i = 0; i < count; i++)
    if (list[i] == value) return 1;
  return 0;
}

static long long now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Rounds of end_orphans, and the pause between them: a second at most, then the front exits. */
#define END_ROUNDS 20
#define END_ROUND_PAUSE_NS 50000000L

/* SIGKILL to every child of the front and to its process group. */
static void kill_children(pid_t self) {
  DIR *proc = opendir("/proc");
  if (proc == NULL) return;
  struct dirent *entry;
  while ((entry = readdir(proc)) != NULL) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    char path[300], stat[512];
    snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t length = read(fd, stat, sizeof stat - 1);
    close(fd);
    if (length <= 0) continue;
    stat[length] = '\0';
    /* pid (comm) state ppid pgrp: comm may hold spaces and parentheses. */
    char *close_paren = strrchr(stat, ')');
    char state;
    int ppid, pgrp;
    if (close_paren == NULL || sscanf(close_paren + 2, "%c %d %d", &state, &ppid, &pgrp) != 3)
      continue;
    if (ppid != self) continue;
    kill(-pgrp, SIGKILL);
    kill(atoi(entry->d_name), SIGKILL);
  }
  closedir(proc);
}

/*
 * Node died of a signal (an OOM kill, kill -9): nobody supervises its command any more. Its
 * orphans were handed to the front (PID 1, or the child subreaper elsewhere): each one's process
 * group is killed and reaped, so the command doesn't run on unsupervised. Killing a group hands the
 * members' own children in other sessions to the front in turn, so this goes in rounds until no
 * child is left — never a blocking wait, which such a child could hold forever.
 */
static void end_orphans(void) {
  pid_t self = getpid();
  struct timespec pause = {.tv_sec = 0, .tv_nsec = END_ROUND_PAUSE_NS};
  for (int round = 0; round < END_ROUNDS; round++) {
    kill_children(self);
    pid_t pid;
    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
    }
    if (pid < 0) return; /* ECHILD: nobody is left */
    nanosleep(&pause, NULL);
  }
}

/* The directory the front was started from, resolved through /proc/self/exe. */
static int home_of(char *home, size_t size, const char *argv0) {
  ssize_t length = readlink("/proc/self/exe", home, size - 1);
  if (length <= 0) {
    /* No /proc: fall back to the path the front was started by. */
    if (strchr(argv0, '/') == NULL || realpath(argv0, home) == NULL) return -1;
    length = (ssize_t)strlen(home);
  }
  home[length] = '\0';
  char *slash = strrchr(home, '/');
  if (slash == NULL) return -1;
  *slash = '\0';
  return 0;
}

/* Builds the argv that runs Node: through the bundled loader when there is one. */
static char **node_argv(const char *home, int argc, char **argv, char **path) {
  static char node[PATH_MAX], lib[PATH_MAX], loader[PATH_MAX];
  char **out = calloc((size_t)argc + 5, sizeof(char *));
  if (out == NULL) return NULL;
  snprintf(node, sizeof node, "%s/lib/kubexit-node", home);
  snprintf(lib, sizeof lib, "%s/lib", home);
  int n = 0;
  *path = node;
  for (size_t i = 0; i < sizeof(LOADERS) / sizeof(LOADERS[0]); i++) {
    snprintf(loader, sizeof loader, "%s/lib/%s", home, LOADERS[i]);
    if (access(loader, X_OK) == 0) {
      *path = loader;
      out[n++] = loader;
      out[n++] = "--library-path";
      out[n++] = lib;
      break;
    }
  }
  out[n++] = node;
  for (int i = 1; i < argc; i++) out[n++] = argv[i];
  out[n] = NULL;
  return out;
}

/*
 * The liveness socket (src/adapters/socket-liveness.ts says what it is for): listened on at the
 * path Node names, every connection accepted and held open; the kernel closes them all when the
 * front exits, however it exits. The file is removed at the end if it is still this socket's.
 */
static int listener = -1, held[MAX_HELD], held_count = 0;
static char held_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct stat held_stat;

/* '1' when the socket is held at `path`, '0' when it can't be (Node then says so in its log). */
static char hold_liveness(const char *path) {
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (listener >= 0 || path[0] != '/' || strlen(path) >= sizeof address.sun_path) return '0';
  strcpy(address.sun_path, path);
  /* Whatever is at the name (this container's previous socket, or something planted) is
     replaced: unlink removes a symlink, never its target. */
  unlink(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return '0';
  /* Dependents running as other users must be able to connect: the file is made 0666 by the
     umask of the bind itself, not by a chmod of the path afterwards, which another container
     could have replaced with a symlink meanwhile (the graveyard is shared). The front has no
     other thread that could create a file while the umask is changed. */
  mode_t umask_before = umask(0111);
  int bound = bind(fd, (struct sockaddr *)&address, sizeof address);
  umask(umask_before);
  if (bound != 0 || listen(fd, MAX_HELD) != 0 || lstat(path, &held_stat) != 0) {
    if (bound == 0) unlink(path);
    close(fd);
    return '0';
  }
  strcpy(held_path, path);
  listener = fd;
  return '1';
}

/* Accepts every waiting connection: held while there is room, closed at once beyond it. */
static void accept_held(void) {
  for (;;) {
    int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    if (held_count < MAX_HELD) held[held_count++] = fd;
    else close(fd);
  }
}

/* A held connection that its dependent closed (or that fails) is let go; data is dropped. */
static void serve_held(int index) {
  char scratch[256];
  ssize_t got = read(held[index], scratch, sizeof scratch);
  if (got > 0 || (got < 0 && (errno == EAGAIN || errno == EINTR))) return;
  close(held[index]);
  held[index] = held[--held_count];
}

/* Closes the socket and every connection (dependents see the end at once), removes the file. */
static void release_liveness(void) {
  if (listener < 0) return;
  struct stat now;
  if (lstat(held_path, &now) == 0 && now.st_dev == held_stat.st_dev && now.st_ino == held_stat.st_ino)
    unlink(held_path);
  for (int i = 0; i < held_count; i++) close(held[i]);
  held_count = 0;
  close(listener);
  listener = -1;
}

/* One byte of answer to Node; a Node that is gone needs none. */
static void answer(int channel, char byte) {
  if (write(channel, &byte, 1) < 0) {
  }
}

/*
 * The channel from Node: one byte `R` once its signal handlers are in place, then one request
 * `L<path>\n`, answered with one byte (a second request is answered no). Returns 1 when Node
 * said it is ready (or is gone: end of file), after which held signals are forwarded.
 */
static char request[PATH_MAX + 2];
static size_t request_length = 0;
static int read_channel(int *channel) {
  ssize_t got = read(*channel, request + request_length, sizeof request - 1 - request_length);
  if (got < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  if (got <= 0) {
    close(*channel);
    *channel = -1;
    return 1;
  }
  request_length += (size_t)got;
  int ready = 0;
  while (request_length > 0) {
    size_t used;
    if (request[0] == 'R') {
      ready = 1;
      used = 1;
    } else if (request[0] == 'L') {
      char *end = memchr(request, '\n', request_length);
      if (end == NULL) {
        if (request_length < sizeof request - 1) break; /* the rest is coming */
        used = request_length; /* a line too long for any path: dropped, answered no */
        answer(*channel, '0');
      } else {
        *end = '\0';
        answer(*channel, hold_liveness(request + 1));
        used = (size_t)(end - request) + 1;
      }
    } else {
      used = 1; /* not ours: skipped */
    }
    memmove(request, request + used, request_length - used);
    request_length -= used;
  }
  return ready;
}

/* In the child: Node gets the signal mask and dispositions a freshly started process has. */
static void exec_node(char *path, char **args, int ready_fd, const sigset_t *original,
                      const char *argv0) {
  char fd_text[16];
  snprintf(fd_text, sizeof fd_text, "%d", ready_fd);
  setenv("KUBEXIT_READY_FD", fd_text, 1);
  const char *called = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
  if (strcmp(called, "cp") == 0) setenv("KUBEXIT_CALLED_AS", "cp", 1);
  /* Its own process group: a terminal's Ctrl-C reaches the front only, which forwards it once. */
  setpgid(0, 0);
  sigprocmask(SIG_SETMASK, original, NULL);
  execv(path, args);
  int error = errno;
  const char *fix = error == ENOEXEC
                        ? "it is not for this machine's architecture: install the bundle for it"
                        : "the installation is incomplete: reinstall it with kubexit install";
  fprintf(stderr, "kubexit: error: cannot run %s (%s): %s\n", path, strerror(error), fix);
  _exit(error == ENOENT ? 127 : 126);
}

int main(int argc, char **argv) {
  sigset_t guarded, original;
  sigemptyset(&guarded);
  for (size_t i = 0; i < FORWARDED_COUNT; i++) sigaddset(&guarded, FORWARDED[i]);
  sigaddset(&guarded, SIGCHLD);
  /* First: from here on no signal can kill us or be lost; each waits in the signalfd. */
  sigprocmask(SIG_BLOCK, &guarded, &original);
  if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  keep_standard_fds();

  char home[PATH_MAX];
  if (home_of(home, sizeof home, argv[0]) != 0) {
    fail("cannot find where kubexit is installed", "neither /proc/self/exe nor argv[0] says");
    return 125;
  }
  char *path = NULL;
  char **args = node_argv(home, argc, argv, &path);
  int channel[2];
  int signals = signalfd(-1, &guarded, SFD_CLOEXEC);
  if (args == NULL || signals < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, channel) != 0) {
    fail("cannot start", strerror(errno));
    return 125;
  }
  /* The front's end stays here; Node's must survive exec into Node, and only there. */
  fcntl(channel[0], F_SETFD, FD_CLOEXEC);

  pid_t node = fork();
  if (node < 0) {
    fail("cannot start Node", strerror(errno));
    return 125;
  }
  if (node == 0) {
    close(channel[0]);
    close(signals);
    exec_node(path, args, channel[1], &original, argv[0]);
  }
  close(channel[1]);

  /* Held in order of arrival, each signal once: repeats are merged, as the kernel merges a
     pending signal, so no signal is ever dropped. */
  int waiting[FORWARDED_COUNT], waiting_count = 0, is_ready = 0, status = 0;
  int control = channel[0];
  long long give_up_at = -1; /* when a terminating signal is held: the end of the hold */
  static struct pollfd fds[3 + MAX_HELD];
  for (;;) {
    int timeout = -1;
    if (!is_ready && give_up_at >= 0) {
      long long left = give_up_at - now_ms();
      timeout = left > 0 ? (int)left : 0;
    }
    /* signalfd, then Node's channel while it is open, the socket and its connections. */
    nfds_t count = 0;
    fds[count++] = (struct pollfd){.fd = signals, .events = POLLIN};
    nfds_t control_at = control >= 0 ? count++ : 0;
    if (control >= 0) fds[control_at] = (struct pollfd){.fd = control, .events = POLLIN};
    nfds_t listener_at = listener >= 0 ? count++ : 0;
    if (listener >= 0) fds[listener_at] = (struct pollfd){.fd = listener, .events = POLLIN};
    nfds_t held_at = count;
    for (int i = 0; i < held_count; i++) fds[count++] = (struct pollfd){.fd = held[i], .events = POLLIN};
    int events = poll(fds, count, timeout);
    if (events < 0) {
      if (errno == EINTR) continue;
      fail("poll", strerror(errno));
      return 125;
    }
    if (events == 0) {
      fprintf(stderr,
              "kubexit: error: Node did not say it was ready within %d s: forwarding the signals it "
              "holds\n",
              HOLD_LIMIT_MS / 1000);
      is_ready = 1;
      for (int i = 0; i < waiting_count; i++) kill(node, waiting[i]);
      waiting_count = 0;
      continue;
    }
    /* Connections first, from the last: letting one go moves the last one into its place. */
    for (int i = held_count - 1; i >= 0; i--)
      if (fds[held_at + (nfds_t)i].revents != 0) serve_held(i);
    if (listener_at != 0 && fds[listener_at].revents != 0) accept_held();
    /* A byte: Node's handlers are in place. End of file: Node is gone or gave up the channel. */
    if (control_at != 0 && fds[control_at].revents != 0 && read_channel(&control) && !is_ready) {
      is_ready = 1;
      for (int i = 0; i < waiting_count; i++) kill(node, waiting[i]);
      waiting_count = 0;
    }
    if (fds[0].revents == 0) continue;
    struct signalfd_siginfo info;
    if (read(signals, &info, sizeof info) != (ssize_t)sizeof info) continue;
    int signo = (int)info.ssi_signo;
    if (signo != SIGCHLD) {
      if (is_ready) kill(node, signo);
      else if (!contains(waiting, waiting_count, signo)) waiting[waiting_count++] = signo;
      int terminating = contains(TERMINATING, sizeof TERMINATING / sizeof TERMINATING[0], signo);
      if (!is_ready && terminating && give_up_at < 0) give_up_at = now_ms() + HOLD_LIMIT_MS;
      continue;
    }
    /* Reap every child that has ended: Node, and any orphan handed to us. */
    for (;;) {
      int child_status;
      pid_t pid = waitpid(-1, &child_status, WNOHANG);
      if (pid <= 0) break;
      if (pid == node) {
        status = child_status;
        node = 0;
      }
    }
    if (node == 0) break;
  }
  /* The supervisor is gone: its dependents learn it now, whatever follows. */
  release_liveness();
  if (WIFSIGNALED(status)) {
    int signo = WTERMSIG(status);
    fprintf(stderr,
            "kubexit: error: the supervisor (Node) was killed by signal %d (%s: an OOM kill or kill "
            "-9?): its command is ended too, and no tombstone could say so (dependents see the "
            "loss through the liveness socket); exit %d\n",
            signo, strsignal(signo), 128 + signo);
    end_orphans();
    return 128 + signo;
  }
  return WEXITSTATUS(status);
}
