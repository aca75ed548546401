/*
 * test_cloud.c: the cloud client (src/router/cloud.c) against real servers
 * on 127.0.0.1. With no argument: settings checks, then every mode of the
 * fault-injecting server (fault_server.py, started here): each failure ends
 * in the right category, retries happen exactly where allowed (counted by
 * the server's /stats), and no error message holds the API key. With
 * "live" or "tls" (run by test_cloud_live.sh): a real `hearth serve` as the
 * cloud, and an https server with a self-signed certificate.
 *
 * Nothing is timed: timeouts are short and a hang is caught by the alarm
 * below (and by ctest).
 */
#include "router/cloud.h"
#include "test.h"
#include "util/error.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char KEY[] = "sk-hearth-TEST-9f8e7d6c5b4a3210";

/* ---- helpers -------------------------------------------------------------- */

static void check_no_key(const char *what, const char *msg) {
    CHECKF(strstr(msg, KEY) == NULL, "%s: the key is in the message: %s", what, msg);
    char prefix[9];
    memcpy(prefix, KEY + 10, 8); /* a piece from the middle */
    prefix[8] = '\0';
    CHECKF(strstr(msg, prefix) == NULL, "%s: part of the key is in the message: %s", what, msg);
}

typedef struct {
    char text[1 << 16];
    size_t len;
    int n;
    int stop_after;   /* delta callback returns false after this many (0: never) */
    int cancel_after; /* cancel hook returns true after this many polls (0: never) */
    int polls;
} sink;

static bool on_delta(void *ud, const char *t, size_t n) {
    sink *s = ud;
    if (s->len + n < sizeof s->text) {
        memcpy(s->text + s->len, t, n);
        s->len += n;
        s->text[s->len] = '\0';
    }
    s->n++;
    return !(s->stop_after && s->n >= s->stop_after);
}

static bool on_cancel(void *ud) {
    sink *s = ud;
    s->polls++;
    return s->cancel_after && s->polls >= s->cancel_after;
}

static hearth_cloud_params test_params(const char *url) {
    hearth_cloud_params p = hearth_cloud_default_params();
    p.url = url;
    p.model = "fault-model";
    p.api_key = KEY;
    p.connect_timeout_ms = 2000;
    p.timeout_ms = 5000;
    p.max_response = 1 << 20;
    p.max_line = 64 << 10;
    p.backoff_ms = 50;
    p.retry_after_cap_ms = 3000;
    return p;
}

/* One call; the error message is checked for the key on every path. */
static hearth_status call(const hearth_cloud_params *p, bool stream, sink *s,
                          hearth_cloud_result *res, hearth_error *err) {
    hearth_cloud *c = NULL;
    hearth_status st = hearth_cloud_new(p, &c, err);
    if (st) {
        check_no_key("new", err->msg);
        memset(res, 0, sizeof *res);
        return st;
    }
    hearth_chat_message msgs[2] = {{"system", "Be brief."}, {"user", "Say hello."}};
    hearth_cloud_request r = {.messages = msgs, .n_messages = 2, .max_tokens = 16,
                              .temperature = 0, .stream = stream, .on_delta = on_delta,
                              .cancel = on_cancel, .user_data = s};
    hearth_error_clear(err);
    st = hearth_cloud_chat(c, &r, res, err);
    check_no_key("chat", err->msg);
    if (st) fprintf(stderr, "  -> %s\n", err->msg);
    hearth_cloud_free(c);
    return st;
}

/* GET http://127.0.0.1:port/path into a parsed JSON value (owned). */
typedef struct {
    char buf[1 << 16];
    size_t len;
} getbuf;

static size_t collect(char *p, size_t sz, size_t n, void *ud) {
    getbuf *b = ud;
    size_t len = sz * n;
    if (len > sizeof b->buf - b->len) return 0;
    memcpy(b->buf + b->len, p, len);
    b->len += len;
    return len;
}

static json_t *get_json(int port, const char *path) {
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    static getbuf b; /* the test is single-threaded */
    b.len = 0;
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    return rc == CURLE_OK ? json_loadb(b.buf, b.len, 0, NULL) : NULL;
}

/* Requests the fault server received for mode so far. */
static int count_of(int port, const char *mode) {
    json_t *j = get_json(port, "/stats");
    int n = (int)json_integer_value(json_object_get(j, mode));
    json_decref(j);
    return n;
}

/* ---- settings --------------------------------------------------------------- */

static void test_settings(void) {
    hearth_cloud *c = NULL;
    hearth_error e;
    hearth_cloud_params p = test_params("http://api.example.com/v1");
    CHECK_EQ_INT(hearth_cloud_new(&p, &c, &e), HEARTH_E_ARG); /* plain http off loopback */
    CHECK(c == NULL && strstr(e.msg, "https") != NULL);
    const char *bad_urls[] = {"ftp://127.0.0.1/v1", "https://user:pw@api.example.com/v1",
                              "not a url", "", "file:///etc/passwd", "http://10.0.0.1/v1"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        p = test_params(bad_urls[i]);
        CHECKF(hearth_cloud_new(&p, &c, &e) == HEARTH_E_ARG, "url '%s' accepted", bad_urls[i]);
        check_no_key("bad url", e.msg);
    }
    p = test_params("https://api.example.com/v1");
    p.model = NULL;
    CHECK_EQ_INT(hearth_cloud_new(&p, &c, &e), HEARTH_E_ARG);
    p = test_params("https://api.example.com/v1");
    p.ca_file = "/nonexistent/ca.pem";
    CHECK_EQ_INT(hearth_cloud_new(&p, &c, &e), HEARTH_E_IO);
    CHECK(strstr(e.msg, "cloud_ca_file") != NULL);
    p = test_params("https://api.example.com/v1");
    p.api_key = "sk-hearth-TEST-9f8e7d6c5b4a3210\r\nX-Injected: 1";
    CHECK_EQ_INT(hearth_cloud_new(&p, &c, &e), HEARTH_E_ARG);
    check_no_key("key with CRLF", e.msg);
    p = test_params("https://api.example.com/v1");
    p.max_retries = 1000;
    CHECK_EQ_INT(hearth_cloud_new(&p, &c, &e), HEARTH_E_ARG);
    /* Accepted forms; none opens a connection. */
    const char *good[][2] = {{"https://api.example.com/v1", "api.example.com"},
                             {"https://api.example.com:8443/v1/", "api.example.com:8443"},
                             {"http://localhost:11434/v1", "localhost:11434"},
                             {"http://[::1]:8080", "[::1]:8080"},
                             {"http://127.0.0.2:8080/v1/chat/completions", "127.0.0.2:8080"}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        p = test_params(good[i][0]);
        CHECKF(hearth_cloud_new(&p, &c, &e) == HEARTH_OK, "url '%s': %s", good[i][0], e.msg);
        if (c) CHECK_STR(hearth_cloud_host(c), good[i][1]);
        hearth_cloud_free(c);
        c = NULL;
    }
    hearth_cloud_free(NULL);
    CHECK_STR(hearth_cloud_kind_name(HEARTH_CLOUD_BROKEN_STREAM), "broken_stream");
    CHECK(hearth_cloud_kind_name(HEARTH_CLOUD_KIND_COUNT) == NULL);
}

/* ---- the fault server --------------------------------------------------------- */

static pid_t start_fault_server(int *port) {
    int fd[2];
    if (pipe(fd)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execlp("python3", "python3", HEARTH_SOURCE_DIR "/tests/router/fault_server.py", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char line[32] = "";
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t k = read(fd[0], line + n, 1);
        if (k <= 0 || line[n] == '\n') break;
        n++;
    }
    line[n] = '\0';
    close(fd[0]);
    *port = atoi(line);
    return *port > 0 ? pid : -1;
}

static int closed_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &l);
    close(s); /* nothing listens there now */
    return ntohs(a.sin_port);
}

static const char *want_text = "Hello from the fault server.";

static void test_ok(int port) {
    char url[128];
    sink s = {0};
    hearth_cloud_result r;
    hearth_error e;
    /* Whole answer; a trailing slash on the base URL. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok/v1/", port);
    hearth_cloud_params p = test_params(url);
    CHECK_EQ_INT(call(&p, false, &s, &r, &e), HEARTH_OK);
    CHECK_STR(r.text, want_text);
    CHECK_EQ_INT(r.text_len, strlen(want_text));
    CHECK_STR(r.finish_reason, "stop");
    CHECK(r.has_usage && r.prompt_tokens == 7 && r.completion_tokens == 5 && r.total_tokens == 12);
    CHECK_EQ_INT(r.http_status, 200);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK_EQ_INT(r.kind, HEARTH_CLOUD_OK);
    CHECK_EQ_INT(s.n, 0); /* no deltas when not streaming */
    CHECK(r.bytes_sent > 200 && r.bytes_received > strlen(want_text) + 100);
    CHECK(r.latency_ms >= 0);
    hearth_cloud_result_clear(&r);
    json_t *last = get_json(port, "/last");
    json_t *body = json_object_get(last, "body");
    CHECK_STR(json_string_value(json_object_get(last, "path")), "/ok/v1/chat/completions");
    CHECK_STR(json_string_value(json_object_get(last, "authorization")), "Bearer sk-hearth-TEST-9f8e7d6c5b4a3210");
    CHECK_STR(json_string_value(json_object_get(last, "content_type")), "application/json");
    CHECK_STR(json_string_value(json_object_get(body, "model")), "fault-model");
    CHECK_EQ_INT(json_integer_value(json_object_get(body, "max_tokens")), 16);
    CHECK(json_number_value(json_object_get(body, "temperature")) == 0);
    CHECK(json_is_false(json_object_get(body, "stream")));
    json_t *m = json_object_get(body, "messages");
    CHECK_EQ_INT(json_array_size(m), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(m, 1), "content")), "Say hello.");
    json_decref(last);

    /* Streamed: every delta reaches the callback. A URL ending in the path. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok/v1/chat/completions", port);
    p = test_params(url);
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(call(&p, true, &s, &r, &e), HEARTH_OK);
    CHECK_STR(r.text, want_text);
    CHECK_STR(s.text, want_text);
    CHECK_EQ_INT(s.n, 5);
    CHECK_EQ_INT(r.n_deltas, 5);
    CHECK(r.first_delta_ms >= 0);
    CHECK(r.has_usage && r.total_tokens == 12);
    CHECK_STR(r.finish_reason, "stop");
    hearth_cloud_result_clear(&r);
    last = get_json(port, "/last");
    body = json_object_get(last, "body");
    CHECK_STR(json_string_value(json_object_get(last, "path")), "/ok/v1/chat/completions");
    CHECK(json_is_true(json_object_get(body, "stream")));
    CHECK(json_is_true(json_object_get(json_object_get(body, "stream_options"), "include_usage")));
    json_decref(last);

    /* BOM, CRLF, comments, id/retry, named events, JSON split over lines. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/quirky/v1", port);
    p = test_params(url);
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(call(&p, true, &s, &r, &e), HEARTH_OK);
    CHECK_STR(s.text, want_text);
    CHECK_EQ_INT(s.n, 5);
    CHECK(r.has_usage);
    hearth_cloud_result_clear(&r);

    /* A server that does not stream: the whole answer as one delta. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/nostream/v1", port);
    p = test_params(url);
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(call(&p, true, &s, &r, &e), HEARTH_OK);
    CHECK_STR(s.text, want_text);
    CHECK_EQ_INT(s.n, 1);
    hearth_cloud_result_clear(&r);

    /* A bad request fails before anything is sent. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok/v1", port);
    p = test_params(url);
    hearth_cloud *c = NULL;
    REQUIRE(hearth_cloud_new(&p, &c, &e) == HEARTH_OK);
    int before = count_of(port, "ok");
    hearth_chat_message nul[1] = {{"user", NULL}};
    hearth_cloud_request bad = {.messages = nul, .n_messages = 1};
    CHECK_EQ_INT(hearth_cloud_chat(c, &bad, &r, &e), HEARTH_E_ARG);
    CHECK(r.text && r.attempts == 0);
    hearth_cloud_result_clear(&r);
    bad.n_messages = 0;
    CHECK_EQ_INT(hearth_cloud_chat(c, &bad, &r, NULL), HEARTH_E_ARG);
    hearth_cloud_result_clear(&r);
    CHECK_EQ_INT(count_of(port, "ok"), before);
    hearth_cloud_free(c);
}

typedef struct {
    const char *mode;
    bool stream;
    long timeout_ms;
    hearth_cloud_kind kind;
    hearth_status code;
    int attempts;          /* requests the server must have counted */
    long http_status;      /* -1: don't care */
    const char *in_msg;    /* must appear in the message (NULL: none) */
    int min_deltas;        /* deltas the caller saw at least */
} fault_case;

static void test_faults(int port) {
    static const fault_case cases[] = {
        {"s500", false, 5000, HEARTH_CLOUD_HTTP_STATUS, HEARTH_E_IO, 3, 500, "internal failure", 0},
        {"s500", true, 5000, HEARTH_CLOUD_HTTP_STATUS, HEARTH_E_IO, 3, 500, "HTTP 500", 0},
        {"s429", false, 5000, HEARTH_CLOUD_HTTP_STATUS, HEARTH_E_IO, 3, 429, "rate limited", 0},
        {"s429ra", false, 10000, HEARTH_CLOUD_HTTP_STATUS, HEARTH_E_IO, 3, 429, "HTTP 429", 0},
        {"s503ra", true, 10000, HEARTH_CLOUD_HTTP_STATUS, HEARTH_E_IO, 3, 503, "HTTP 503", 0},
        {"s429long", false, 5000, HEARTH_CLOUD_HTTP_STATUS, HEARTH_E_IO, 1, 429, "3600 s", 0},
        {"s400", false, 5000, HEARTH_CLOUD_HTTP_STATUS, HEARTH_E_IO, 1, 400, "bad request", 0},
        {"echokey", false, 5000, HEARTH_CLOUD_HTTP_STATUS, HEARTH_E_IO, 1, 401, "Incorrect API key", 0},
        {"malformed", false, 5000, HEARTH_CLOUD_MALFORMED, HEARTH_E_FORMAT, 1, 200, "not JSON", 0},
        {"malformed", true, 5000, HEARTH_CLOUD_MALFORMED, HEARTH_E_FORMAT, 1, 200, "malformed", 0},
        {"badchunk", true, 5000, HEARTH_CLOUD_MALFORMED, HEARTH_E_FORMAT, 1, 200, "stream chunk", 1},
        {"broken", true, 5000, HEARTH_CLOUD_BROKEN_STREAM, HEARTH_E_IO, 1, 200, "before [DONE]", 2},
        {"brokenchunked", true, 5000, HEARTH_CLOUD_BROKEN_STREAM, HEARTH_E_IO, 1, 200, "broken_stream", 2},
        {"midstreamerr", true, 5000, HEARTH_CLOUD_BROKEN_STREAM, HEARTH_E_IO, 1, 200, "overloaded", 1},
        {"endless", true, 1500, HEARTH_CLOUD_TIMEOUT, HEARTH_E_IO, 1, 200, "timeout", 2},
        {"trickle", false, 1500, HEARTH_CLOUD_TIMEOUT, HEARTH_E_IO, 1, 200, "timeout", 0},
        {"hang", false, 1500, HEARTH_CLOUD_TIMEOUT, HEARTH_E_IO, 1, 0, "timeout", 0},
        {"hang", true, 1500, HEARTH_CLOUD_TIMEOUT, HEARTH_E_IO, 1, 0, "timeout", 0},
        {"huge", false, 5000, HEARTH_CLOUD_TOO_LARGE, HEARTH_E_LIMIT, 1, 200, "1048576 bytes", 0},
        {"hugenolen", false, 5000, HEARTH_CLOUD_TOO_LARGE, HEARTH_E_LIMIT, 1, 200, "1048576 bytes", 0},
        {"hugesse", true, 5000, HEARTH_CLOUD_TOO_LARGE, HEARTH_E_LIMIT, 1, 200, "too_large", 1},
        {"longline", true, 5000, HEARTH_CLOUD_TOO_LARGE, HEARTH_E_LIMIT, 1, 200, "too long", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const fault_case *fc = &cases[i];
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/%s/v1", port, fc->mode);
        hearth_cloud_params p = test_params(url);
        p.timeout_ms = fc->timeout_ms;
        int before = count_of(port, fc->mode);
        sink s = {0};
        hearth_cloud_result r;
        hearth_error e;
        fprintf(stderr, "case %s%s\n", fc->mode, fc->stream ? " (stream)" : "");
        hearth_status st = call(&p, fc->stream, &s, &r, &e);
        CHECKF(st == fc->code, "%s: status %d, want %d", fc->mode, st, fc->code);
        CHECKF(r.kind == fc->kind, "%s: kind %s, want %s", fc->mode, hearth_cloud_kind_name(r.kind),
               hearth_cloud_kind_name(fc->kind));
        CHECKF(r.attempts == fc->attempts, "%s: %d attempts, want %d", fc->mode, r.attempts, fc->attempts);
        int got = count_of(port, fc->mode) - before;
        CHECKF(got == fc->attempts, "%s: the server saw %d requests, want %d", fc->mode, got, fc->attempts);
        if (fc->http_status >= 0)
            CHECKF(r.http_status == fc->http_status, "%s: HTTP %ld", fc->mode, r.http_status);
        if (fc->in_msg) CHECKF(strstr(e.msg, fc->in_msg) != NULL, "%s: message: %s", fc->mode, e.msg);
        CHECKF(strstr(e.msg, "127.0.0.1") != NULL, "%s: message names no host: %s", fc->mode, e.msg);
        CHECKF(s.n >= fc->min_deltas, "%s: %d deltas", fc->mode, s.n);
        CHECKF((size_t)s.n == r.n_deltas, "%s: %d deltas seen, %zu counted", fc->mode, s.n, r.n_deltas);
        if (r.text_len < sizeof s.text)
            CHECKF(r.text && !strcmp(r.text, s.text), "%s: result text '%.80s' != streamed '%.80s'",
                   fc->mode, r.text ? r.text : "(null)", s.text);
        else
            CHECKF(r.text_len <= p.max_response, "%s: %zu bytes of text", fc->mode, r.text_len);
        /* Generous: the configured timeout plus slack; a hang would be far over. */
        CHECKF(r.latency_ms < fc->timeout_ms + 20000.0, "%s: took %.0f ms", fc->mode, r.latency_ms);
        hearth_cloud_result_clear(&r);
    }
}

static void test_retry_then_ok(int port) {
    char url[128];
    sink s = {0};
    hearth_cloud_result r;
    hearth_error e;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/flaky2/v1", port);
    hearth_cloud_params p = test_params(url);
    CHECK_EQ_INT(call(&p, true, &s, &r, &e), HEARTH_OK);
    CHECK_EQ_INT(r.attempts, 3);
    CHECK_EQ_INT(count_of(port, "flaky2"), 3);
    CHECK_STR(s.text, want_text);
    hearth_cloud_result_clear(&r);
    /* Retry-After honoured, then the answer. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/flakyra1/v1", port);
    p = test_params(url);
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(call(&p, false, &s, &r, &e), HEARTH_OK);
    CHECK_EQ_INT(r.attempts, 2);
    CHECK_EQ_INT(count_of(port, "flakyra1"), 2);
    CHECK_STR(r.text, want_text);
    hearth_cloud_result_clear(&r);
    /* No retries when max_retries is 0. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/flaky1/v1", port);
    p = test_params(url);
    p.max_retries = 0;
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(call(&p, false, &s, &r, &e), HEARTH_E_IO);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK_EQ_INT(count_of(port, "flaky1"), 1);
    hearth_cloud_result_clear(&r);
    /* A Retry-After that does not fit in the time left ends the call. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/s503ra/v1", port);
    p = test_params(url);
    p.timeout_ms = 800;
    int before = count_of(port, "s503ra");
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(call(&p, false, &s, &r, &e), HEARTH_E_IO);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK_EQ_INT(count_of(port, "s503ra") - before, 1);
    CHECK(strstr(e.msg, "no time left") != NULL);
    hearth_cloud_result_clear(&r);
}

static void test_refused(void) {
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", closed_port());
    hearth_cloud_params p = test_params(url);
    sink s = {0};
    hearth_cloud_result r;
    hearth_error e;
    CHECK_EQ_INT(call(&p, true, &s, &r, &e), HEARTH_E_IO);
    CHECK_EQ_INT(r.kind, HEARTH_CLOUD_REFUSED);
    CHECK_EQ_INT(r.attempts, 3);
    CHECK_EQ_INT(r.http_status, 0);
    CHECK(strstr(e.msg, "refused") != NULL);
    CHECK(r.text && r.text[0] == '\0');
    hearth_cloud_result_clear(&r);
}

/* A listener whose accept queue is full: the kernel drops new SYNs, so a
 * connect hangs until the connect timeout. Such a timeout (nothing was
 * sent) is retried. */
static void test_connect_timeout(void) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    REQUIRE(bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 0) == 0);
    getsockname(l, (struct sockaddr *)&a, &al);
    int fill[4];
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&a, sizeof a); /* EINPROGRESS or queued */
    }
    usleep(200 * 1000);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", ntohs(a.sin_port));
    hearth_cloud_params p = test_params(url);
    p.connect_timeout_ms = 300;
    p.timeout_ms = 20000;
    sink s = {0};
    hearth_cloud_result r;
    hearth_error e;
    CHECK_EQ_INT(call(&p, false, &s, &r, &e), HEARTH_E_IO);
    CHECK_EQ_INT(r.kind, HEARTH_CLOUD_TIMEOUT);
    CHECK_EQ_INT(r.attempts, 3);
    CHECK_EQ_INT(r.http_status, 0);
    hearth_cloud_result_clear(&r);
    for (int i = 0; i < 4; i++) close(fill[i]);
    close(l);
}

static void test_cancel(int port) {
    char url[128];
    hearth_cloud_result r;
    hearth_error e;
    /* The delta callback says stop: no more deltas, no retry. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/endless/v1", port);
    hearth_cloud_params p = test_params(url);
    p.timeout_ms = 60000;
    sink s = {.stop_after = 3};
    int before = count_of(port, "endless");
    CHECK_EQ_INT(call(&p, true, &s, &r, &e), HEARTH_E_CANCELLED);
    CHECK_EQ_INT(r.kind, HEARTH_CLOUD_CANCELLED);
    CHECK_EQ_INT(s.n, 3);
    CHECK_STR(r.text, "xxx");
    CHECK_EQ_INT(count_of(port, "endless") - before, 1);
    hearth_cloud_result_clear(&r);
    /* The cancel hook, while the server never answers. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hang/v1", port);
    p = test_params(url);
    p.timeout_ms = 60000;
    memset(&s, 0, sizeof s);
    s.cancel_after = 3;
    CHECK_EQ_INT(call(&p, false, &s, &r, &e), HEARTH_E_CANCELLED);
    CHECK_EQ_INT(r.kind, HEARTH_CLOUD_CANCELLED);
    CHECK(s.polls >= 3);
    hearth_cloud_result_clear(&r);
    /* The cancel hook while waiting to retry (Retry-After: 1 s). */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/s429ra/v1", port);
    p = test_params(url);
    p.timeout_ms = 60000;
    memset(&s, 0, sizeof s);
    before = count_of(port, "s429ra");
    s.cancel_after = 1; /* the first poll after the transfer started */
    CHECK_EQ_INT(call(&p, false, &s, &r, &e), HEARTH_E_CANCELLED);
    CHECK(count_of(port, "s429ra") - before <= 1);
    hearth_cloud_result_clear(&r);
}

static int run_fault_tests(void) {
    int port = 0;
    pid_t pid = start_fault_server(&port);
    if (pid < 0) {
        fprintf(stderr, "SKIP: could not start python3 %s/tests/router/fault_server.py\n", HEARTH_SOURCE_DIR);
        return 77;
    }
    fprintf(stderr, "fault server on port %d\n", port);
    test_ok(port);
    test_faults(port);
    test_retry_then_ok(port);
    test_cancel(port);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return 0;
}

/* ---- live: a real hearth serve, and TLS (driven by test_cloud_live.sh) -------- */

static int run_live(void) {
    const char *url = getenv("CLOUD_URL"), *model = getenv("CLOUD_MODEL");
    const char *prompt = getenv("CLOUD_PROMPT"), *want = getenv("CLOUD_EXPECT");
    REQUIRE(url && model && prompt && want);
    hearth_cloud_params p = hearth_cloud_default_params();
    p.url = url;
    p.model = model;
    /* With CLOUD_BAD_KEY the server must refuse (401), and the wrong key
     * must not show in the message either. */
    const char *bad = "sk-hearth-WRONG-0123456789abcdef";
    p.api_key = getenv("CLOUD_BAD_KEY") ? bad : KEY;
    p.timeout_ms = 120000;
    hearth_cloud *c = NULL;
    hearth_error e;
    REQUIRE(hearth_cloud_new(&p, &c, &e) == HEARTH_OK);
    hearth_chat_message msgs[1] = {{"user", prompt}};
    for (int stream = 0; stream < 2; stream++) {
        sink s = {0};
        hearth_cloud_request r = {.messages = msgs, .n_messages = 1, .max_tokens = 24,
                                  .temperature = 0, .stream = stream, .on_delta = on_delta,
                                  .user_data = &s};
        hearth_cloud_result res;
        hearth_status st = hearth_cloud_chat(c, &r, &res, &e);
        if (getenv("CLOUD_BAD_KEY")) {
            fprintf(stderr, "%s\n", e.msg);
            CHECK(st == HEARTH_E_IO && res.kind == HEARTH_CLOUD_HTTP_STATUS && res.http_status == 401);
            CHECK(strstr(e.msg, bad) == NULL && strstr(e.msg, "0123456789abcdef") == NULL);
            hearth_cloud_result_clear(&res);
            hearth_cloud_free(c);
            test_done();
            return 1; /* the shell checks this run fails, and why */
        }
        CHECKF(st == HEARTH_OK, "stream %d: %s", stream, e.msg);
        CHECKF(res.text && !strcmp(res.text, want), "stream %d: got '%s', want '%s'", stream,
               res.text ? res.text : "", want);
        CHECK(res.finish_reason[0] != '\0');
        CHECK(res.has_usage && res.completion_tokens > 0);
        CHECK_EQ_INT(res.http_status, 200);
        if (stream) {
            CHECKF(!strcmp(s.text, want), "streamed '%s'", s.text);
            CHECK(s.n >= 1);
        }
        fprintf(stderr, "stream %d: '%s' (%zu deltas, %llu bytes out, %llu in)\n", stream, res.text,
                res.n_deltas, (unsigned long long)res.bytes_sent, (unsigned long long)res.bytes_received);
        hearth_cloud_result_clear(&res);
    }
    hearth_cloud_free(c);
    return test_done();
}

static int run_tls(void) {
    const char *url = getenv("CLOUD_URL"), *ca = getenv("CLOUD_CA");
    REQUIRE(url && ca);
    hearth_cloud_params p = test_params(url);
    sink s = {0};
    hearth_cloud_result r;
    hearth_error e;
    /* Self-signed and not trusted: verification fails, nothing is retried. */
    CHECK_EQ_INT(call(&p, false, &s, &r, &e), HEARTH_E_IO);
    CHECK_EQ_INT(r.kind, HEARTH_CLOUD_TLS);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK(strstr(e.msg, "tls") != NULL);
    hearth_cloud_result_clear(&r);
    /* The CA file trusts it. */
    p.ca_file = ca;
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(call(&p, true, &s, &r, &e), HEARTH_OK);
    CHECK_STR(s.text, want_text);
    hearth_cloud_result_clear(&r);
    /* Trusted, but the URL names another host than the certificate. */
    const char *wrong = getenv("CLOUD_URL_WRONG_HOST");
    if (wrong) {
        hearth_cloud_params q = test_params(wrong);
        q.ca_file = ca;
        memset(&s, 0, sizeof s);
        CHECK_EQ_INT(call(&q, false, &s, &r, &e), HEARTH_E_IO);
        CHECK_EQ_INT(r.kind, HEARTH_CLOUD_TLS);
        hearth_cloud_result_clear(&r);
    }
    return test_done();
}

int main(int argc, char **argv) {
    alarm(300); /* a hang fails the test instead of blocking the suite */
    static const char *proxies[] = {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"};
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++) unsetenv(proxies[i]);
    if (argc > 1 && !strcmp(argv[1], "live")) return run_live();
    if (argc > 1 && !strcmp(argv[1], "tls")) return run_tls();
    test_settings();
    test_refused();
    test_connect_timeout();
    int rc = run_fault_tests();
    if (rc == 77) return test_failures ? 1 : 77;
    return test_done();
}
