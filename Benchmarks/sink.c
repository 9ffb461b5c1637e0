/* The benchmark's HTTP sink: answers requests with keep-alive, on one epoll thread, as
 * fast as it can: 200 "ok", except for paths ending in
 *   /delay/MS      200 after MS milliseconds (a timer, not a sleep)
 *   /status/CODE   that status at once
 *   /blackhole     never (the connection stays open)
 * With a log path, it appends "<unix seconds> <webhook-id>" per request (for end-to-end
 * latency), flushed as it goes. With SINK_TLS_CERT and SINK_TLS_KEY (PEM files) it speaks
 * HTTPS (OpenSSL, non-blocking, on the same thread). Built by Benchmarks/run.py:
 *
 *   gcc -O2 -o sink Benchmarks/sink.c -lssl -lcrypto && ./sink 8080 [receipts.log]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
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
typedef struct { int fd; int listening; SSL *ssl; int handshaking; size_t len; char buf[BUF]; } conn;

/* The HTTPS context (NULL: plain HTTP), and the open connections by descriptor, so a
 * delayed answer whose connection closed meanwhile is dropped, not written to a stranger. */
static SSL_CTX *tls = NULL;
#define MAXFD 65536
static conn *byfd[MAXFD];

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

/* Writes an answer on connection `fd` (if it is still open). Answers are small: on
 * loopback a write never finds the socket's buffer full. */
static void answer(int fd, int status) {
    conn *c = fd >= 0 && fd < MAXFD ? byfd[fd] : NULL;
    if (!c) return;
    char r[128];
    const char *out = reply;
    int n = sizeof reply - 1;
    if (status != 200) { n = snprintf(r, sizeof r, "HTTP/1.1 %d Status\r\nContent-Length: 0\r\n\r\n", status); out = r; }
    if (c->ssl) { SSL_write(c->ssl, out, n); return; }
    if (write(fd, out, n) < 0) {}
}

static void drop(conn *c) {
    if (c->fd >= 0 && c->fd < MAXFD) byfd[c->fd] = NULL;
    if (c->ssl) SSL_free(c->ssl);
    close(c->fd);
    free(c);
}

/* Reads what the connection has into c->buf: > 0 bytes read, 0 nothing now (EAGAIN, or a
 * TLS handshake under way), < 0 closed or failed. Over TLS it reads until OpenSSL has
 * nothing buffered, since epoll cannot see what OpenSSL already took off the socket. */
static ssize_t take(conn *c) {
    if (!c->ssl) {
        ssize_t r = read(c->fd, c->buf + c->len, BUF - c->len);
        if (r < 0 && errno == EAGAIN) return 0;
        return r == 0 ? -1 : r;
    }
    if (c->handshaking) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
        }
        c->handshaking = 0;
    }
    ssize_t total = 0;
    while (c->len + total < BUF) {
        int r = SSL_read(c->ssl, c->buf + c->len + total, (int)(BUF - c->len - total));
        if (r > 0) { total += r; continue; }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
        return total > 0 ? total : -1;
    }
    return total;
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
    if (getenv("SINK_TLS_CERT")) {
        tls = SSL_CTX_new(TLS_server_method());
        if (!tls || SSL_CTX_use_certificate_chain_file(tls, getenv("SINK_TLS_CERT")) != 1
            || SSL_CTX_use_PrivateKey_file(tls, getenv("SINK_TLS_KEY") ? getenv("SINK_TLS_KEY") : "", SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "sink: cannot load SINK_TLS_CERT / SINK_TLS_KEY: ");
            ERR_print_errors_fp(stderr);
            return 64;
        }
        SSL_CTX_set_mode(tls, SSL_MODE_RELEASE_BUFFERS);
    }
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
                    if (fd >= MAXFD) { close(fd); continue; }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn *nc = calloc(1, sizeof(conn));
                    nc->fd = fd;
                    byfd[fd] = nc;
                    if (tls) {
                        nc->ssl = SSL_new(tls);
                        SSL_set_fd(nc->ssl, fd);
                        SSL_set_accept_state(nc->ssl);
                        nc->handshaking = 1;
                    }
                    struct epoll_event e = { .events = EPOLLIN, .data.ptr = nc };
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            ssize_t r = take(c);
            if (r < 0) { drop(c); continue; }
            if (r == 0) continue;
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
            if (c->len == BUF) drop(c);  /* a request larger than the buffer */
        }
        if (log && n > 0) fflush(log);  /* receipts are read while the sink runs */
    }
    if (log) fclose(log);
    fprintf(stderr, "sink: served %ld requests\n", served);
    return 0;
}
