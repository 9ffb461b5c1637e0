/* The fair client-side ceiling for dispatch: N POSTs of a body to URL through one libcurl
 * multi handle with C transfers in flight and keep-alive, and nothing else (no Kafka, no
 * signing). Prints one JSON line. Built and run by Benchmarks/run.py:
 *
 *   gcc -O2 -o curl_multi Benchmarks/curl_multi.c -lcurl
 *   ./curl_multi http://127.0.0.1:8080/x 100000 256 400
 *   ./curl_multi 'http://127.0.0.%ld:8080/x' 100000 256 400 100    (request i to host 1 + i % 100)
 *   CURL_MULTI_CAINFO=ca.pem ./curl_multi https://127.0.0.1:8443/x 100000 256 400   (HTTPS, that CA trusted)
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t discard(char *p, size_t s, size_t n, void *u) { (void)p; (void)u; return s * n; }

static CURL *make(const char *url, const char *body, long size, struct curl_slist *headers) {
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, size);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 15000L);
    if (getenv("CURL_MULTI_CAINFO")) curl_easy_setopt(h, CURLOPT_CAINFO, getenv("CURL_MULTI_CAINFO"));
    return h;
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s URL COUNT CONCURRENCY BODY_BYTES [HOSTS]\n", argv[0]); return 64; }
    long count = atol(argv[2]), concurrency = atol(argv[3]), size = atol(argv[4]);
    /* With HOSTS, URL holds %ld for the last octet of the host: request i goes to 1 + i % HOSTS. */
    long hosts = argc > 5 ? atol(argv[5]) : 0;
    char url[512];
#define URL_FOR(i) (hosts > 0 ? (snprintf(url, sizeof url, argv[1], 1 + (i) % hosts), url) : argv[1])
    char *body = malloc(size + 1);
    memset(body, 'x', size);
    body[size] = 0;
    curl_global_init(CURL_GLOBAL_ALL);
    struct curl_slist *headers = curl_slist_append(NULL, "content-type: application/json");
    headers = curl_slist_append(headers, "expect:");
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, concurrency);
    long started = 0, done = 0, failed = 0;
    for (; started < concurrency && started < count; started++) curl_multi_add_handle(multi, make(URL_FOR(started), body, size, headers));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int running = 1;
    while (done < count) {
        curl_multi_perform(multi, &running);
        int queued;
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(multi, &queued))) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL *h = msg->easy_handle;
            long status = 0;
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            if (msg->data.result != CURLE_OK || status < 200 || status > 299) failed++;
            curl_multi_remove_handle(multi, h);
            done++;
            if (started < count) {
                /* Reuse the handle (and its connection, when the host is the same) for the next request. */
                if (hosts > 0) curl_easy_setopt(h, CURLOPT_URL, URL_FOR(started));
                curl_multi_add_handle(multi, h);
                started++;
            } else {
                curl_easy_cleanup(h);
            }
        }
        if (done < count) curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"requests\": %ld, \"failed\": %ld, \"seconds\": %.3f, \"per_s\": %.1f, \"concurrency\": %ld, \"hosts\": %ld}\n",
           done, failed, seconds, done / seconds, concurrency, hosts > 0 ? hosts : 1);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    free(body);
    return failed ? 1 : 0;
}
