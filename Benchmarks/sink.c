/* The benchmark's HTTP sink: answers requests with keep-alive, on one epoll thread, as
 * fast as it can: 200 "ok", except for paths ending in
 *   /delay/MS      200 after MS milliseconds (a timer, not a sleep)
 *   /status/CODE   that status at once
 *   /blackhole     never (the connection stays open)
 * With a log path, it appends "<unix seconds> <webhook-id>" per request (for end-to-end
 * latency), flushed as it goes. Built by Benchmarks/run.py:
 *
 *   gcc -O2 -o sink Benchmarks/sink.c && ./sink 8080 [receipts.log]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BUF 65536
typedef struct { int fd; int listening; size_t len; char buf[BUF]; } conn;

static volatile sig_atomic_t stop = 0;
static void on_term(int s) { (void)s; stop = 1; }
static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";

/* A delayed answer: due at `due` (ms, monotonic) on connection `fd`. The pending ones
 * are a min-heap by due time, so thousands of delayed answers cost O(log n) each. */
typedef struct { double due; int fd; } timer;
static timer *timers = NULL;
static size_t ntimers = 0, captimers = 0;

static void timer_push(timer t) {
    if (ntimers == captimers) { captimers = captimers ? captimers * 2 : 1024; timers = realloc(timers, captimers * sizeof(timer)); }
    size_t i = ntimers++;
    while (i > 0 && timers[(i - 1) / 2].due > t.due) { timers[i] = timers[(i - 1) / 2]; i = (i - 1) / 2; }
    timers[i] = t;
}

static timer timer_pop(void) {
    timer top = timers[0], last = timers[--ntimers];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= ntimers) break;
        if (c + 1 < ntimers && timers[c + 1].due < timers[c].due) c++;
        if (last.due <= timers[c].due) break;
        timers[i] = timers[c];
        i = c;
    }
    if (ntimers) timers[i] = last;
    return top;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* What the request line asks for: -1 never answer, 0 at once, >0 after that many ms;
 * *status is the status to answer. */
static long plan(const char *buf, size_t len, int *status) {
    *status = 200;
    const char *sp = memchr(buf, ' ', len);
    if (!sp) return 0;
    const char *path = sp + 1, *end = memchr(path, ' ', len - (path - buf));
    if (!end) return 0;
    size_t n = end - path;
    char p[512];
    if (n >= sizeof p) n = sizeof p - 1;
    memcpy(p, path, n);
    p[n] = 0;
    char *q;
    if ((q = strstr(p, "/blackhole"))) return -1;
    if ((q = strstr(p, "/status/"))) { *status = atoi(q + 8); return 0; }
    if ((q = strstr(p, "/delay/"))) return atol(q + 7);
    return 0;
}

static void answer(int fd, int status) {
    if (status == 200) { if (write(fd, reply, sizeof reply - 1) < 0) {} return; }
    char r[128];
    int n = snprintf(r, sizeof r, "HTTP/1.1 %d Status\r\nContent-Length: 0\r\n\r\n", status);
    if (write(fd, r, n) < 0) {}
}

/* Length of the first complete request in c->buf, or 0. Copies its webhook-id into id. */
static size_t complete(conn *c, char *id, size_t idsize) {
    char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = end - c->buf + 4;
    long body = 0;
    id[0] = 0;
    for (char *line = c->buf; line < end; ) {
        char *next = memmem(line, end + 2 - line, "\r\n", 2);
        if (!next) break;
        size_t n = next - line;
        if (n > 15 && strncasecmp(line, "content-length:", 15) == 0) body = atol(line + 15);
        if (n > 11 && strncasecmp(line, "webhook-id:", 11) == 0) {
            char *v = line + 11;
            while (*v == ' ') v++;
            size_t len = next - v < (long)idsize - 1 ? (size_t)(next - v) : idsize - 1;
            memcpy(id, v, len);
            id[len] = 0;
        }
        line = next + 2;
    }
    return c->len >= head + body ? head + body : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s PORT [RECEIPTS_LOG]\n", argv[0]); return 64; }
    FILE *log = argc > 2 ? fopen(argv[2], "w") : NULL;
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGPIPE, SIG_IGN);
    /* SINK_HOSTS=N: listen on 127.0.0.1 … 127.0.0.N (the same port), so clients see N hosts. */
    long hosts = getenv("SINK_HOSTS") ? atol(getenv("SINK_HOSTS")) : 1;
    if (hosts < 1 || hosts > 250) { fprintf(stderr, "sink: SINK_HOSTS must be 1…250\n"); return 64; }
    int one = 1, ep = epoll_create1(0);
    for (long h = 0; h < hosts; h++) {
        int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK + h);
        if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096)) { perror("sink"); return 1; }
        conn *listener = calloc(1, sizeof(conn));
        listener->fd = ls;
        listener->listening = 1;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = listener };
        epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    }
    struct epoll_event events[512];
    long served = 0;
    while (!stop) {
        int wait = 200;
        double t = now_ms();
        while (ntimers && timers[0].due <= t) answer(timer_pop().fd, 200);
        if (ntimers && timers[0].due - t < wait) wait = (int)(timers[0].due - t) + 1;
        int n = epoll_wait(ep, events, 512, wait);
        for (int i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (c->listening) {
                int fd;
                while ((fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn *nc = calloc(1, sizeof(conn));
                    nc->fd = fd;
                    struct epoll_event e = { .events = EPOLLIN, .data.ptr = nc };
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            ssize_t r = read(c->fd, c->buf + c->len, BUF - c->len);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                close(c->fd);
                free(c);
                continue;
            }
            c->len += r;
            char id[256];
            size_t used;
            while ((used = complete(c, id, sizeof id)) > 0) {
                if (log && id[0]) {
                    struct timeval tv;
                    gettimeofday(&tv, NULL);
                    fprintf(log, "%ld.%06ld %s\n", (long)tv.tv_sec, (long)tv.tv_usec, id);
                }
                int status;
                long delay = plan(c->buf, used, &status);
                if (delay == 0) answer(c->fd, status);
                else if (delay > 0) {
                    timer_push((timer){ now_ms() + delay, c->fd });
                }
                served++;
                memmove(c->buf, c->buf + used, c->len - used);
                c->len -= used;
            }
            if (c->len == BUF) { close(c->fd); free(c); }  /* a request larger than the buffer */
        }
        if (log && n > 0) fflush(log);  /* receipts are read while the sink runs */
    }
    if (log) fclose(log);
    fprintf(stderr, "sink: served %ld requests\n", served);
    return 0;
}
