/*
 * Native client fleet for bench/tick-fanout.bench.js (`--native-fleet`): the same clients as
 * bench/tick-fanout-clients.js (graphql-transport-ws over WebSocket, one `ticks` subscription
 * each, optional background connections), read with one epoll loop in C, so the load side
 * stays light enough for its guard at 1,000 clients and more.
 *
 * Latency: the simulator thread writes a stamp per packet it sends, (security id, LTP in paise,
 * send time in ms on CLOCK_MONOTONIC), to a FIFO this program reads; a `next` frame is never
 * parsed: each tick is found by the tail of its `"securityId":"` key, its id and LTP read right
 * after it, and the stamp looked up (process.hrtime and CLOCK_MONOTONIC are the same clock).
 *
 *   cc -O2 -o tick-fleet bench/native/tick-fleet.c
 *   tick-fleet CONFIG        (commands on stdin: background, fleet, mark, stop, fresh FILE,
 *                             report, exit; JSON replies)
 *
 * Freshness: every client keeps the last LTP it received per instrument (and when); `fresh FILE`
 * compares them with the simulator's final values after it stopped ticking (FILE: 16-byte
 * records as the stamps) and replies the share of (client, instrument) pairs whose last value
 * is the final one, and the largest staleness (a fresh pair: the final value's delivery time;
 * any other: the time since the final value was sent; both from the window's start at the
 * earliest).
 *
 * CONFIG, one setting per line: `host H`, `port P`, `path /graphql`, `token T`, `fields F`,
 * `sample N` (every Nth frame's ticks are timed), `stamps FIFO`, `bgper N` (background
 * subscriptions per connection), then `bg LIST` and `client LIST` lines, LIST being
 * `SEGMENT:ID,SEGMENT:ID,...`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LAT 8000000
#define MAX_ITER 4000000
#define TABLE_SLOTS (1u << 22)
#define TABLE_MASK (TABLE_SLOTS - 1)
#define PROBES 4
#define MIN_TICK_TAIL 250
/* Last values per client: open addressing over its instruments (50 a client in the bench). */
#define LV_SLOTS 256
#define LV_MASK (LV_SLOTS - 1)

enum state { CONNECTING, UPGRADING, INITIALISING, OPEN, CLOSED };

typedef struct {
  char *buf;
  size_t len, cap;
} bytes_t;

typedef struct {
  int fd;
  enum state state;
  int background;   /* 1: background connection (counted, not scanned) */
  int first;        /* index of its first list (clients: one list; background: bgper) */
  int lists;        /* number of lists it subscribes */
  int acked;
  bytes_t in, out;
  char *firstSeen;  /* background: which of its subscriptions sent a first frame */
  uint32_t *lvId;   /* clients: last value per instrument (id + 1, 0 = empty slot) */
  uint32_t *lvPaise;
  double *lvAt;     /* when that value first arrived */
} conn_t;

static char host[256] = "127.0.0.1", path_[256] = "/graphql", token[4096], fields[4096];
static char stampsPath[1024];
static int port = 3000, sampleEvery = 4, bgPer = 50;
static char **clientLists, **bgLists;
static int nClients, nBg;
static conn_t *conns;
static int nConns, epfd;

/* counters, as tick-fanout-clients.js keeps them */
static double messages, updates, nbytes, bgMessages, bgBytes, errors;
static double *lat;
static long latN;
static double *iters;
static long iterN;
static int measuring;
static long turn;
static int bgPending, fleetAcksPending, fleetStarted;

static void drop(conn_t *c);
static void subscribeAll(conn_t *c);
static void reply(const char *json);

static uint64_t *tKeys;
static double *tTimes;

static double nowMs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void put(bytes_t *b, const void *data, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    b->buf = realloc(b->buf, cap);
    if (!b->buf) die("realloc");
    b->cap = cap;
  }
  memcpy(b->buf + b->len, data, n);
  b->len += n;
}

static void consume(bytes_t *b, size_t n) {
  memmove(b->buf, b->buf + n, b->len - n);
  b->len -= n;
}

/* ---- stamps ---- */

static uint32_t slotOf(uint32_t id, uint32_t paise) {
  uint32_t h = (id ^ (paise * 0x85ebca77u)) * 0x9e3779b1u;
  h ^= h >> 15;
  return h & TABLE_MASK;
}

static void record(uint32_t id, uint32_t paise, double t) {
  uint64_t key = ((uint64_t)id << 32) | paise | 1ull << 63;
  uint32_t s = slotOf(id, paise);
  for (int k = 0; k < PROBES; k++) {
    uint32_t i = (s + k) & TABLE_MASK;
    if (tKeys[i] == key || tKeys[i] == 0) {
      tKeys[i] = key;
      tTimes[i] = t;
      return;
    }
  }
  tKeys[s] = key;
  tTimes[s] = t;
}

static double lookup(uint32_t id, uint32_t paise) {
  uint64_t key = ((uint64_t)id << 32) | paise | 1ull << 63;
  uint32_t s = slotOf(id, paise);
  for (int k = 0; k < PROBES; k++) {
    uint32_t i = (s + k) & TABLE_MASK;
    if (tKeys[i] == key) return tTimes[i];
    if (tKeys[i] == 0) return -1;
  }
  return -1;
}

static int stampsFd = -1;
static unsigned char stampBuf[65536];
static size_t stampLen;

static void readStamps(void) {
  for (;;) {
    ssize_t n = read(stampsFd, stampBuf + stampLen, sizeof stampBuf - stampLen);
    if (n <= 0) return;
    stampLen += n;
    size_t at = 0;
    for (; at + 16 <= stampLen; at += 16) {
      int32_t id, paise;
      double t;
      memcpy(&id, stampBuf + at, 4);
      memcpy(&paise, stampBuf + at + 4, 4);
      memcpy(&t, stampBuf + at + 8, 8);
      record((uint32_t)id, (uint32_t)paise, t);
    }
    memmove(stampBuf, stampBuf + at, stampLen - at);
    stampLen -= at;
  }
}

/* ---- WebSocket ---- */

static void flushOut(conn_t *c) {
  while (c->out.len > 0) {
    ssize_t n = write(c->fd, c->out.buf, c->out.len);
    if (n < 0) {
      if (errno == EAGAIN) break;
      errors++;
      drop(c);
      return;
    }
    consume(&c->out, n);
  }
  struct epoll_event ev = {.events = EPOLLIN | (c->out.len ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* A masked client frame (text, or `opcode`) carrying `n` bytes. */
static void sendFrame(conn_t *c, int opcode, const char *data, size_t n) {
  unsigned char head[14];
  size_t h = 0;
  head[h++] = 0x80 | opcode;
  if (n < 126) {
    head[h++] = 0x80 | n;
  } else if (n < 65536) {
    head[h++] = 0x80 | 126;
    head[h++] = n >> 8;
    head[h++] = n & 255;
  } else {
    head[h++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) head[h++] = (n >> (8 * i)) & 255;
  }
  uint32_t mask = (uint32_t)rand();
  memcpy(head + h, &mask, 4);
  h += 4;
  put(&c->out, head, h);
  size_t start = c->out.len;
  put(&c->out, data, n);
  unsigned char *m = (unsigned char *)&mask;
  for (size_t i = 0; i < n; i++) c->out.buf[start + i] ^= m[i & 3];
  flushOut(c);
}

static void sendText(conn_t *c, const char *text) { sendFrame(c, 1, text, strlen(text)); }

/* {"id":..,"type":"subscribe","payload":{"query":..,"variables":{"instruments":[..]}}} */
static void subscribe(conn_t *c, const char *id, const char *list, const char *selection) {
  bytes_t b = {0};
  char head[8192];
  int n = snprintf(head, sizeof head,
                   "{\"id\":\"%s\",\"type\":\"subscribe\",\"payload\":{\"query\":\"subscription "
                   "T($instruments: [InstrumentInput!]!) { ticks(instruments: $instruments) { "
                   "%s } }\",\"variables\":{\"instruments\":[",
                   id, selection);
  put(&b, head, n);
  const char *p = list;
  int firstItem = 1;
  while (*p) {
    const char *colon = strchr(p, ':');
    const char *end = strchr(p, ',');
    if (!end) end = p + strlen(p);
    if (!colon || colon > end) break;
    char item[128];
    n = snprintf(item, sizeof item, "%s{\"segment\":\"%.*s\",\"securityId\":\"%.*s\"}",
                 firstItem ? "" : ",", (int)(colon - p), p, (int)(end - colon - 1), colon + 1);
    put(&b, item, n);
    firstItem = 0;
    p = *end ? end + 1 : end;
  }
  put(&b, "]}}}", 4);
  sendFrame(c, 1, b.buf, b.len);
  free(b.buf);
}

static void subscribeAll(conn_t *c) {
  char id[32];
  for (int k = 0; k < c->lists; k++) {
    if (c->background) {
      snprintf(id, sizeof id, "bg%d", c->first + k);
      subscribe(c, id, bgLists[c->first + k], "securityId");
    } else {
      snprintf(id, sizeof id, "%d", c->first);
      subscribe(c, id, clientLists[c->first], fields);
    }
  }
}

/* The slot of instrument `id` in a client's last values (found or empty). */
static uint32_t lvSlot(const conn_t *c, uint32_t id) {
  uint32_t s = (id * 0x9e3779b1u) >> 24 & LV_MASK;
  while (c->lvId[s] != 0 && c->lvId[s] != id + 1) s = (s + 1) & LV_MASK;
  return s;
}

/*
 * Counts the ticks of one `next` frame, keeps each instrument's last LTP for the client, and
 * samples the latency of every `sampleEvery`th frame's ticks (see the JS fleet).
 */
static void onTicks(conn_t *c, const unsigned char *d, size_t n) {
  double now = nowMs();
  messages++;
  nbytes += n;
  int sample = measuring && (++turn % sampleEvery == 0);
  long count = 0;
  const unsigned char *end = d + n;
  const unsigned char *at = memmem(d, n, "Id\":\"", 5);
  while (at) {
    count++;
    const unsigned char *i = at + 5;
    uint32_t id = 0;
    while (i < end && *i >= '0' && *i <= '9') id = id * 10 + (*i++ - '0');
    i += 8; /* `","ltp":` */
    if (i < end && i[-3] == 'p' && *i != 'n') {
      uint32_t whole = 0;
      while (i < end && *i >= '0' && *i <= '9') whole = whole * 10 + (*i++ - '0');
      uint32_t paise = whole * 100;
      if (i + 2 < end && *i == '.') {
        if (i[1] >= '0' && i[1] <= '9') paise += (i[1] - '0') * 10;
        if (i[2] >= '0' && i[2] <= '9') paise += i[2] - '0';
      }
      /* When the value changed: a new version of the same LTP (volume, depth) is not news. */
      uint32_t s = lvSlot(c, id);
      if (c->lvId[s] != id + 1 || c->lvPaise[s] != paise) {
        c->lvId[s] = id + 1;
        c->lvPaise[s] = paise;
        c->lvAt[s] = now;
      }
      if (sample) {
        double sent = lookup(id, paise);
        if (sent >= 0 && latN < MAX_LAT) lat[latN++] = now - sent;
      }
    }
    const unsigned char *from = at + MIN_TICK_TAIL;
    at = from < end ? memmem(from, end - from, "Id\":\"", 5) : NULL;
  }
  updates += count;
}

static int fleetOpen(void);

/* Closes `c`; a fleet client lost before its acknowledgement no longer holds the fleet back. */
static void drop(conn_t *c) {
  if (c->state == CLOSED) return;
  if (!c->background && c->state != OPEN && fleetAcksPending > 0 && --fleetAcksPending == 0) {
    for (int i = 0; i < nConns; i++)
      if (!conns[i].background && conns[i].state == OPEN) subscribeAll(&conns[i]);
    fleetStarted = 1;
  }
  c->state = CLOSED;
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
}

static void onMessage(conn_t *c, const unsigned char *d, size_t n) {
  /* The message's head: `{"id":"…","type":"…"` comes first. */
  size_t probeN = n > 80 ? 80 : n;
  if (memmem(d, probeN, "\"type\":\"next\"", 13)) {
    if (!c->background) {
      onTicks(c, d, n);
      return;
    }
    bgMessages++;
    bgBytes += n;
    if (bgPending > 0) {
      const unsigned char *q = memmem(d, probeN, "\"id\":\"bg", 8);
      if (q) {
        int k = atoi((const char *)q + 8) - c->first;
        if (k >= 0 && k < c->lists && !c->firstSeen[k]) {
          c->firstSeen[k] = 1;
          bgPending--;
        }
      }
    }
    return;
  }
  if (memmem(d, n, "\"connection_ack\"", 16)) {
    c->state = OPEN;
    if (c->background) {
      subscribeAll(c);
    } else if (--fleetAcksPending == 0) {
      /* Every client acknowledged: all subscribe at once, as the JS fleet does. */
      for (int i = 0; i < nConns; i++)
        if (!conns[i].background && conns[i].state == OPEN) subscribeAll(&conns[i]);
      fleetStarted = 1;
    }
  } else if (memmem(d, n, "\"type\":\"ping\"", 13)) {
    sendText(c, "{\"type\":\"pong\"}");
  } else if (memmem(d, n, "\"type\":\"error\"", 14)) {
    errors++;
    if (errors <= 3) fprintf(stderr, "subscription error: %.*s\n", (int)(n < 300 ? n : 300), d);
  }
}

static void onReadable(conn_t *c) {
  char tmp[262144];
  for (;;) {
    ssize_t r = read(c->fd, tmp, sizeof tmp);
    if (r == 0 || (r < 0 && errno != EAGAIN)) {
      drop(c);
      return;
    }
    if (r < 0) break;
    put(&c->in, tmp, r);
    if ((size_t)r < sizeof tmp) break;
  }
  if (c->state == UPGRADING) {
    char *endHead = memmem(c->in.buf, c->in.len, "\r\n\r\n", 4);
    if (!endHead) return;
    if (c->in.len < 12 || memcmp(c->in.buf + 9, "101", 3) != 0) {
      fprintf(stderr, "upgrade refused: %.*s\n", (int)(c->in.len < 200 ? c->in.len : 200), c->in.buf);
      errors++;
      drop(c);
      return;
    }
    consume(&c->in, endHead + 4 - c->in.buf);
    c->state = INITIALISING;
    char init[4400];
    snprintf(init, sizeof init,
             "{\"type\":\"connection_init\",\"payload\":{\"authorization\":\"Bearer %s\"}}", token);
    sendText(c, init);
  }
  /* Frames. */
  size_t at = 0;
  for (;;) {
    unsigned char *b = (unsigned char *)c->in.buf + at;
    size_t avail = c->in.len - at;
    if (avail < 2) break;
    int opcode = b[0] & 15;
    uint64_t len = b[1] & 127;
    size_t h = 2;
    if (len == 126) {
      if (avail < 4) break;
      len = (b[2] << 8) | b[3];
      h = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; i++) len = (len << 8) | b[2 + i];
      h = 10;
    }
    if (avail < h + len) break;
    unsigned char *payload = b + h;
    if (opcode == 9) {
      sendFrame(c, 10, (const char *)payload, len);
    } else if (opcode == 8) {
      drop(c);
      return;
    } else if (opcode == 1 || opcode == 2 || opcode == 0) {
      onMessage(c, payload, len);
    }
    if (c->state == CLOSED) return;
    at += h + len;
  }
  if (at > 0) consume(&c->in, at);
}

static void onWritable(conn_t *c) {
  if (c->state == CONNECTING) {
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
      errors++;
      drop(c);
      return;
    }
    c->state = UPGRADING;
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: "
                     "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
                     path_, host, port);
    put(&c->out, req, n);
  }
  flushOut(c);
}

static conn_t *openConn(int background, int first, int lists) {
  conn_t *c = &conns[nConns++];
  memset(c, 0, sizeof *c);
  c->background = background;
  c->first = first;
  c->lists = lists;
  if (background) {
    c->firstSeen = calloc(lists, 1);
  } else {
    c->lvId = calloc(LV_SLOTS, sizeof *c->lvId);
    c->lvPaise = calloc(LV_SLOTS, sizeof *c->lvPaise);
    c->lvAt = calloc(LV_SLOTS, sizeof *c->lvAt);
    if (!c->lvId || !c->lvPaise || !c->lvAt) die("calloc");
  }
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, host, &a.sin_addr);
  if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) die("connect");
  c->state = CONNECTING;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
  return c;
}

static int fleetOpen(void) {
  int n = 0;
  for (int i = 0; i < nConns; i++)
    if (!conns[i].background && conns[i].state == OPEN) n++;
  return n;
}

static int cmpDouble(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *sorted, long n, double p) {
  if (n == 0) return -1;
  long i = (long)(p / 100 * n);
  return sorted[i < n ? i : n - 1];
}

static double cpuMs(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec * 1e3 + u.ru_utime.tv_usec / 1e3 + u.ru_stime.tv_sec * 1e3 +
         u.ru_stime.tv_usec / 1e3;
}

/* ---- freshness ---- */

static double markT;

#define FIN_SLOTS (1u << 17)
#define FIN_MASK (FIN_SLOTS - 1)

static uint32_t finId[FIN_SLOTS], finPaise[FIN_SLOTS]; /* id + 1 (0 = empty slot), LTP */
static double finAt[FIN_SLOTS];                        /* its send time */

/* The slot of instrument `id` among the final values (found or empty). */
static uint32_t finSlot(uint32_t id) {
  uint32_t s = (id * 0x9e3779b1u) >> 15 & FIN_MASK;
  while (finId[s] != 0 && finId[s] != id + 1) s = (s + 1) & FIN_MASK;
  return s;
}

/*
 * `fresh FILE`: FILE holds the simulator's final value of every instrument it sent (16-byte
 * records: int32 id, int32 LTP in paise, float64 send time), written once it stopped ticking.
 * Every client's every instrument with a final value is a pair; a pair is fresh when the last
 * LTP the client received for it is the final one.
 */
static void fresh(const char *file) {
  memset(finId, 0, sizeof finId);
  FILE *f = fopen(file, "rb");
  if (!f) die(file);
  unsigned char rec[16];
  double lastSend = 0;
  while (fread(rec, 16, 1, f) == 1) {
    int32_t id, paise;
    double t;
    memcpy(&id, rec, 4);
    memcpy(&paise, rec + 4, 4);
    memcpy(&t, rec + 8, 8);
    uint32_t s = finSlot((uint32_t)id);
    finId[s] = (uint32_t)id + 1;
    finPaise[s] = (uint32_t)paise;
    finAt[s] = t;
    if (t > lastSend) lastSend = t;
  }
  fclose(f);
  double now = nowMs();
  long pairs = 0, freshPairs = 0, never = 0, noFinal = 0;
  double maxStale = 0;
  for (int k = 0; k < nConns; k++) {
    conn_t *c = &conns[k];
    if (c->background) continue;
    for (const char *p = clientLists[c->first]; *p;) {
      const char *colon = strchr(p, ':');
      if (!colon) break;
      uint32_t id = (uint32_t)strtoul(colon + 1, NULL, 10);
      const char *comma = strchr(colon, ',');
      p = comma ? comma + 1 : colon + strlen(colon);
      uint32_t s = finSlot(id);
      if (finId[s] == 0) {
        noFinal++;
        continue;
      }
      pairs++;
      uint32_t l = lvSlot(c, id);
      double stale;
      /* Staleness from the window's start at the earliest: a value last sent before it (an
         instrument that ticks rarely) reached the client when it subscribed, which says nothing
         of delivery. */
      double from = finAt[s] > markT ? finAt[s] : markT;
      if (c->lvId[l] == id + 1 && c->lvPaise[l] == finPaise[s]) {
        freshPairs++;
        stale = c->lvAt[l] - from;
        if (stale < 0) stale = 0;
      } else {
        if (c->lvId[l] == 0) never++;
        stale = now - from;
      }
      if (stale > maxStale) maxStale = stale;
    }
  }
  char out[512];
  snprintf(out, sizeof out,
           "{\"reply\":\"fresh\",\"pairs\":%ld,\"fresh\":%ld,\"never\":%ld,\"noFinal\":%ld,"
           "\"maxStalenessMs\":%.1f,\"sinceLastSendMs\":%.1f}",
           pairs, freshPairs, never, noFinal, maxStale, now - lastSend);
  reply(out);
}

/* ---- commands ---- */

static double markCpu, markC[6], stopDt, stopCpu, stopC[6];
static int stopOpen;
static enum { NONE, WAIT_BG, WAIT_FLEET } waiting;

static void reply(const char *json) {
  fputs(json, stdout);
  fputc('\n', stdout);
  fflush(stdout);
}

static void command(const char *line) {
  char out[2048];
  if (strcmp(line, "background") == 0) {
    for (int s = 0; s * bgPer < nBg; s++) {
      int lists = nBg - s * bgPer < bgPer ? nBg - s * bgPer : bgPer;
      openConn(1, s * bgPer, lists);
    }
    bgPending = nBg;
    waiting = WAIT_BG;
    if (nBg == 0) {
      waiting = NONE;
      reply("{\"reply\":\"background\"}");
    }
  } else if (strcmp(line, "fleet") == 0) {
    fleetAcksPending = nClients;
    for (int i = 0; i < nClients; i++) openConn(0, i, 1);
    waiting = WAIT_FLEET;
  } else if (strcmp(line, "mark") == 0) {
    double c[6] = {messages, updates, nbytes, bgMessages, bgBytes, errors};
    memcpy(markC, c, sizeof c);
    markT = nowMs();
    markCpu = cpuMs();
    latN = 0;
    iterN = 0;
    turn = 0;
    measuring = 1;
    reply("{\"reply\":\"mark\"}");
  } else if (strcmp(line, "stop") == 0) {
    /* The window's counters, taken at once; the sorting waits for `report`, so the sockets are
       read on meanwhile (a pause of the reads here backed every server up for a second at
       1,000 clients, which the freshness check then counted). */
    measuring = 0;
    stopDt = (nowMs() - markT) / 1000;
    stopCpu = cpuMs() - markCpu;
    double c[6] = {messages, updates, nbytes, bgMessages, bgBytes, errors};
    memcpy(stopC, c, sizeof c);
    stopOpen = fleetOpen();
    reply("{\"reply\":\"stop\"}");
  } else if (strcmp(line, "report") == 0) {
    qsort(lat, latN, sizeof *lat, cmpDouble);
    qsort(iters, iterN, sizeof *iters, cmpDouble);
    snprintf(out, sizeof out,
             "{\"reply\":\"report\",\"dt\":%.3f,\"messages\":%.0f,\"updates\":%.0f,\"bytes\":%.0f,"
             "\"bgMessages\":%.0f,\"bgBytes\":%.0f,\"errors\":%.0f,\"samples\":%ld,\"p50\":%.3f,"
             "\"p95\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"loopP99Ms\":%.3f,"
             "\"loopMaxMs\":%.3f,\"open\":%d,\"cpuMs\":%.1f}",
             stopDt, stopC[0] - markC[0], stopC[1] - markC[1], stopC[2] - markC[2],
             stopC[3] - markC[3], stopC[4] - markC[4], stopC[5] - markC[5], latN,
             pct(lat, latN, 50), pct(lat, latN, 95), pct(lat, latN, 99), pct(lat, latN, 99.9),
             latN ? lat[latN - 1] : -1, pct(iters, iterN, 99), iterN ? iters[iterN - 1] : -1,
             stopOpen, stopCpu);
    reply(out);
  } else if (strncmp(line, "fresh ", 6) == 0) {
    fresh(line + 6);
  } else if (strcmp(line, "exit") == 0) {
    reply("{\"reply\":\"exit\"}");
    exit(0);
  }
}

static char cmdBuf[4096];
static size_t cmdLen;

static void onStdin(void) {
  ssize_t n = read(0, cmdBuf + cmdLen, sizeof cmdBuf - 1 - cmdLen);
  if (n <= 0) exit(0); /* the bench went away */
  cmdLen += n;
  char *nl;
  while ((nl = memchr(cmdBuf, '\n', cmdLen))) {
    *nl = 0;
    command(cmdBuf);
    size_t used = nl + 1 - cmdBuf;
    memmove(cmdBuf, cmdBuf + used, cmdLen - used);
    cmdLen -= used;
  }
}

static void loadConfig(const char *file) {
  FILE *f = fopen(file, "r");
  if (!f) die(file);
  size_t cap = 0;
  char *line = NULL;
  ssize_t n;
  int capClients = 1024, capBg = 1024;
  clientLists = malloc(capClients * sizeof *clientLists);
  bgLists = malloc(capBg * sizeof *bgLists);
  while ((n = getline(&line, &cap, f)) > 0) {
    if (line[n - 1] == '\n') line[--n] = 0;
    char *v = strchr(line, ' ');
    if (!v) continue;
    *v++ = 0;
    if (!strcmp(line, "host")) snprintf(host, sizeof host, "%s", v);
    else if (!strcmp(line, "port")) port = atoi(v);
    else if (!strcmp(line, "path")) snprintf(path_, sizeof path_, "%s", v);
    else if (!strcmp(line, "token")) snprintf(token, sizeof token, "%s", v);
    else if (!strcmp(line, "fields")) snprintf(fields, sizeof fields, "%s", v);
    else if (!strcmp(line, "sample")) sampleEvery = atoi(v);
    else if (!strcmp(line, "stamps")) snprintf(stampsPath, sizeof stampsPath, "%s", v);
    else if (!strcmp(line, "bgper")) bgPer = atoi(v);
    else if (!strcmp(line, "client")) {
      if (nClients == capClients) clientLists = realloc(clientLists, (capClients *= 2) * sizeof *clientLists);
      clientLists[nClients++] = strdup(v);
    } else if (!strcmp(line, "bg")) {
      if (nBg == capBg) bgLists = realloc(bgLists, (capBg *= 2) * sizeof *bgLists);
      bgLists[nBg++] = strdup(v);
    }
  }
  free(line);
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: tick-fleet CONFIG\n");
    return 2;
  }
  loadConfig(argv[1]);
  srand(42);
  lat = malloc(MAX_LAT * sizeof *lat);
  iters = malloc(MAX_ITER * sizeof *iters);
  tKeys = calloc(TABLE_SLOTS, sizeof *tKeys);
  tTimes = calloc(TABLE_SLOTS, sizeof *tTimes);
  conns = calloc(nClients + nBg + 1, sizeof *conns);
  if (!lat || !iters || !tKeys || !tTimes || !conns) die("malloc");
  epfd = epoll_create1(0);
  if (epfd < 0) die("epoll_create1");
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev);
  static int stampsTag;
  if (stampsPath[0]) {
    /* Read-write: this process is a writer too, so the FIFO never reads as closed. */
    stampsFd = open(stampsPath, O_RDWR | O_NONBLOCK);
    if (stampsFd < 0) die(stampsPath);
    struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &stampsTag};
    epoll_ctl(epfd, EPOLL_CTL_ADD, stampsFd, &sev);
  }
  reply("{\"ready\":true}");
  struct epoll_event events[512];
  for (;;) {
    int n = epoll_wait(epfd, events, 512, 100);
    double t0 = nowMs();
    for (int i = 0; i < n; i++) {
      void *p = events[i].data.ptr;
      if (p == NULL) {
        onStdin();
        continue;
      }
      if (p == &stampsTag) {
        readStamps();
        continue;
      }
      conn_t *c = p;
      if (c->state == CLOSED) continue;
      if (events[i].events & EPOLLOUT) onWritable(c);
      if (c->state != CLOSED && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) onReadable(c);
    }
    if (waiting == WAIT_BG && bgPending == 0) {
      waiting = NONE;
      char out[256];
      snprintf(out, sizeof out, "{\"reply\":\"background\",\"bgMessages\":%.0f}", bgMessages);
      reply(out);
    }
    if (waiting == WAIT_FLEET && fleetStarted) {
      waiting = NONE;
      char out[256];
      snprintf(out, sizeof out, "{\"reply\":\"fleet\",\"open\":%d}", fleetOpen());
      reply(out);
    }
    if (measuring && n > 0 && iterN < MAX_ITER) iters[iterN++] = nowMs() - t0;
  }
}
