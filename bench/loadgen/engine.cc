#include "engine.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "cores.h"
#include "http_response.h"
#include "mix.h"
#include "requests.h"
#include "stop_flag.h"

namespace kurz::load {

namespace {

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

constexpr int64_t kMs = 1'000'000;
constexpr uint64_t kTimerTag = ~0ULL;

// What one thread shares with the progress reporter (one each: no contention between senders).
struct alignas(64) Live {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> answered{0};
  std::atomic<uint64_t> errors{0};
  std::mutex mutex;
  Histogram second;  // latencies since the last progress line
};

struct Plan {
  const Address* address = nullptr;
  const RequestBuilder* builder = nullptr;
  const std::vector<Link>* links = nullptr;
  const KindPicker* kinds = nullptr;
  const ZipfPicker* zipf = nullptr;
  unsigned threads = 1;
  unsigned index = 0;  // this thread's requests are i * threads + index of the whole schedule
  int connections = 1;
  double rate = 1;
  int64_t start_ns = 0;
  int64_t window_start_ns = 0;  // after the warm-up
  int64_t window_end_ns = 0;
  int64_t timeout_ns = 0;
  int64_t hard_deadline_ns = 0;
  size_t max_queue = 1000;
  unsigned long long seed = 1;
};

struct Tally {
  std::array<KindResult, kKinds> kinds;
  Histogram total;
  uint64_t sent = 0;
  uint64_t scheduled = 0;
  uint64_t answered_in_window = 0;
  std::map<std::string, uint64_t> errors = {{"connect", 0}, {"read", 0},    {"closed", 0},
                                            {"write", 0},   {"timeout", 0}, {"dropped", 0},
                                            {"http_5xx", 0}};
  std::vector<uint64_t> rank_hits;
  std::string fatal;
};

class Engine {
 public:
  Engine(const Plan& plan, Live& live) : plan_(plan), live_(live), random_(plan.seed) {
    tally_.rank_hits.assign(plan.links->size(), 0);
    const double total = plan.rate * static_cast<double>(plan.window_end_ns - plan.start_ns) / 1e9;
    const double mine = (total - plan.index) / plan.threads;
    planned_ = mine <= 0 ? 0 : static_cast<uint64_t>(std::ceil(mine));
  }
  ~Engine() {
    for (auto& c : conns_) close_fd(c);
    if (timer_ >= 0) close(timer_);
    if (epoll_ >= 0) close(epoll_);
  }

  Tally run();

 private:
  enum class State { kClosed, kConnecting, kIdle, kBusy };
  struct Conn {
    int fd = -1;
    State state = State::kClosed;
    std::string out;
    size_t out_off = 0;
    ResponseParser parser;
    bool want_write = false;
    int64_t retry_at = 0;
    int64_t backoff = 0;
    // The request in flight.
    int64_t scheduled = 0;
    int64_t sent_at = 0;
    Kind kind = Kind::kRedirect;
    size_t rank = 0;
    bool measured = false;
  };

  int64_t scheduled_ns(uint64_t i) const {
    const double n = static_cast<double>(i * plan_.threads + plan_.index);
    return plan_.start_ns + static_cast<int64_t>(n * 1e9 / plan_.rate);
  }
  bool in_window(int64_t t) const { return t >= plan_.window_start_ns && t < plan_.window_end_ns; }
  void count_error(const char* what, bool measured) {
    if (!measured) return;
    ++tally_.errors[what];
    live_.errors.fetch_add(1, std::memory_order_relaxed);
  }
  void close_fd(Conn& c) {
    if (c.fd >= 0) close(c.fd);
    c.fd = -1;
  }

  void open(Conn& c, int64_t now);
  void fail_and_reopen(Conn& c, const char* what, int64_t now);
  void dispatch(int64_t now);
  void send(Conn& c, uint64_t index, int64_t now);
  void flush(Conn& c, int64_t now);
  void on_event(Conn& c, uint32_t events, int64_t now);
  void on_connected(Conn& c, int64_t now);
  void on_readable(Conn& c, int64_t now);
  void complete(Conn& c, int64_t now);
  void watch(Conn& c, bool write);

  Plan plan_;
  Live& live_;
  std::mt19937_64 random_;
  Tally tally_;
  uint64_t planned_ = 0;
  uint64_t next_ = 0;
  std::deque<uint64_t> queue_;
  std::vector<Conn> conns_;
  std::vector<size_t> idle_;
  size_t busy_ = 0;
  unsigned long long creates_ = 0;
  unsigned long long qrs_ = 0;
  int epoll_ = -1;
  int timer_ = -1;
  int64_t armed_ = -1;  // the timer's current expiry
};

void Engine::watch(Conn& c, bool write) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (write ? EPOLLOUT : 0u);
  ev.data.u64 = static_cast<uint64_t>(&c - conns_.data());
  epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  c.want_write = write;
}

void Engine::open(Conn& c, int64_t now) {
  close_fd(c);
  c.parser = ResponseParser();
  c.out.clear();
  c.out_off = 0;
  c.state = State::kClosed;
  if (c.retry_at > now) return;  // backing off: the loop retries later
  const auto& a = *plan_.address;
  c.fd = socket(a.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    if (tally_.fatal.empty())
      tally_.fatal = std::string("cannot open a socket: ") + std::strerror(errno) +
                     (errno == EMFILE ? " (fewer --connections, or raise ulimit -n)" : "");
    c.retry_at = now + 100 * kMs;
    return;
  }
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const int rc = connect(c.fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length);
  if (rc != 0 && errno != EINPROGRESS) {
    count_error("connect", in_window(now));
    close_fd(c);
    c.backoff = std::clamp<int64_t>(c.backoff * 2, 10 * kMs, 1000 * kMs);
    c.retry_at = now + c.backoff;
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  ev.data.u64 = static_cast<uint64_t>(&c - conns_.data());
  epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
  c.want_write = true;
  c.state = State::kConnecting;
}

void Engine::fail_and_reopen(Conn& c, const char* what, int64_t now) {
  if (c.state == State::kBusy) {
    count_error(what, c.measured);
    if (c.measured) ++tally_.kinds[static_cast<size_t>(c.kind)].failed;
    --busy_;
  } else if (c.state == State::kIdle) {
    idle_.erase(std::remove(idle_.begin(), idle_.end(), static_cast<size_t>(&c - conns_.data())),
                idle_.end());
  }
  c.state = State::kClosed;
  open(c, now);
}

void Engine::on_connected(Conn& c, int64_t now) {
  int so_error = 0;
  socklen_t length = sizeof so_error;
  getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &so_error, &length);
  if (so_error != 0) {
    count_error("connect", in_window(now));
    close_fd(c);
    c.state = State::kClosed;
    c.backoff = std::clamp<int64_t>(c.backoff * 2, 10 * kMs, 1000 * kMs);
    c.retry_at = now + c.backoff;
    return;
  }
  c.backoff = 0;
  c.state = State::kIdle;
  watch(c, false);
  idle_.push_back(static_cast<size_t>(&c - conns_.data()));
}

void Engine::send(Conn& c, uint64_t index, int64_t now) {
  c.scheduled = scheduled_ns(index);
  c.measured = in_window(c.scheduled);
  c.kind = plan_.kinds->pick(random_);
  c.rank = plan_.zipf->pick(random_);
  const auto& link = (*plan_.links)[c.rank];
  unsigned long long n = 0;
  if (c.kind == Kind::kCreate) n = creates_++;
  if (c.kind == Kind::kQr) n = qrs_++;
  c.out = plan_.builder->for_kind(c.kind, link.code, plan_.index + 1, n);
  c.out_off = 0;
  c.parser.next();
  c.state = State::kBusy;
  c.sent_at = now;
  ++busy_;
  live_.sent.fetch_add(1, std::memory_order_relaxed);
  if (c.measured) {
    ++tally_.sent;
    ++tally_.kinds[static_cast<size_t>(c.kind)].sent;
    if (c.kind == Kind::kRedirect) ++tally_.rank_hits[c.rank];
  }
  flush(c, now);
}

void Engine::flush(Conn& c, int64_t now) {
  while (c.out_off < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c.want_write) watch(c, true);
      return;
    } else {
      fail_and_reopen(c, "write", now);
      return;
    }
  }
  if (c.want_write) watch(c, false);
}

void Engine::complete(Conn& c, int64_t now) {
  const int status = c.parser.status();
  --busy_;
  if (in_window(now)) {
    ++tally_.answered_in_window;
  }
  live_.answered.fetch_add(1, std::memory_order_relaxed);
  if (c.measured) {
    auto& kind = tally_.kinds[static_cast<size_t>(c.kind)];
    ++kind.status[status];
    const double us = static_cast<double>(now - c.scheduled) / 1000.0;
    kind.latency.record(us);
    tally_.total.record(us);
    {
      std::lock_guard<std::mutex> lock(live_.mutex);
      live_.second.record(us);
    }
    if (status >= 500) count_error("http_5xx", true);
    const auto& target = (*plan_.links)[c.rank].target;
    if (c.kind == Kind::kRedirect && !target.empty()) {
      ++kind.checked;
      if (status == 404) ++kind.not_found;
      if (status == 302 && c.parser.location() != target) ++kind.wrong_target;
    }
  }
  if (c.parser.close_after()) {
    c.state = State::kClosed;
    open(c, now);
    return;
  }
  c.parser.next();
  c.state = State::kIdle;
  idle_.push_back(static_cast<size_t>(&c - conns_.data()));
}

void Engine::on_readable(Conn& c, int64_t now) {
  char buffer[65536];
  for (;;) {
    const ssize_t n = recv(c.fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      if (c.state != State::kBusy) continue;  // bytes nobody asked for: dropped
      const auto result = c.parser.feed(buffer, static_cast<size_t>(n));
      if (result == ResponseParser::Result::kError) {
        fail_and_reopen(c, "read", now);
        return;
      }
      if (result == ResponseParser::Result::kDone) {
        complete(c, now);
        if (c.state != State::kIdle) return;  // the server closes: reopened
      }
      // Level-triggered: a short read means the socket is drained; epoll says when there is more.
      if (static_cast<size_t>(n) < sizeof buffer) return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    // End of file or a reset. A response delimited by the close is complete now.
    if (n == 0 && c.state == State::kBusy && c.parser.finish() == ResponseParser::Result::kDone) {
      complete(c, now);  // close_after is set: reopens
      return;
    }
    // A request in flight fails; an idle keep-alive connection the server closed is reopened.
    fail_and_reopen(c, n == 0 ? "closed" : "read", now);
    return;
  }
}

void Engine::on_event(Conn& c, uint32_t events, int64_t now) {
  if (c.fd < 0) return;
  if (c.state == State::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) on_connected(c, now);
    return;
  }
  if ((events & EPOLLOUT) != 0 && c.state == State::kBusy && c.out_off < c.out.size()) {
    flush(c, now);
    if (c.fd < 0 || c.state != State::kBusy) return;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) on_readable(c, now);
}

void Engine::dispatch(int64_t now) {
  while (!queue_.empty() && !idle_.empty()) {
    const size_t conn = idle_.back();
    idle_.pop_back();
    const uint64_t index = queue_.front();
    queue_.pop_front();
    send(conns_[conn], index, now);
  }
}

Tally Engine::run() {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (epoll_ < 0 || timer_ < 0) {
    tally_.fatal = std::string("epoll/timerfd: ") + std::strerror(errno);
    return tally_;
  }
  epoll_event timer_event{};
  timer_event.events = EPOLLIN;
  timer_event.data.u64 = kTimerTag;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_, &timer_event);
  conns_.resize(static_cast<size_t>(plan_.connections));
  int64_t now = now_ns();
  for (auto& c : conns_) open(c, now);
  std::vector<epoll_event> events(256);
  int64_t next_scan = now;
  for (;;) {
    now = now_ns();
    if (stop_requested()) {
      tally_.fatal = "interrupted";
      break;
    }
    if (!tally_.fatal.empty()) break;
    while (next_ < planned_ && scheduled_ns(next_) <= now) {
      const int64_t at = scheduled_ns(next_);
      if (in_window(at)) ++tally_.scheduled;
      if (queue_.size() < plan_.max_queue) {
        queue_.push_back(next_);
      } else {
        count_error("dropped", in_window(at));
      }
      ++next_;
    }
    dispatch(now);
    if (now >= next_scan) {
      for (auto& c : conns_) {
        if (c.state == State::kBusy && now - c.sent_at > plan_.timeout_ns) {
          fail_and_reopen(c, "timeout", now);
        } else if (c.state == State::kClosed && c.retry_at <= now) {
          open(c, now);
        }
      }
      next_scan = now + 5 * kMs;
      dispatch(now);
    }
    if (next_ >= planned_ && queue_.empty() && busy_ == 0) break;
    if (now >= plan_.hard_deadline_ns) {
      for (auto& c : conns_) {
        if (c.state == State::kBusy) fail_and_reopen(c, "timeout", now);
      }
      for (const uint64_t i : queue_) count_error("dropped", in_window(scheduled_ns(i)));
      queue_.clear();
      break;
    }
    int64_t wake = std::min(plan_.hard_deadline_ns, next_scan);
    // With no free connection, a request that falls due waits anyway (its latency still runs
    // from its scheduled time): the next answer wakes the loop, which queues it then.
    if (next_ < planned_ && !idle_.empty()) wake = std::min(wake, scheduled_ns(next_));
    if (wake == armed_) wake = -1;
    if (wake >= 0) {
      armed_ = wake;
      itimerspec when{};
      when.it_value.tv_sec = static_cast<time_t>(wake / 1'000'000'000);
      when.it_value.tv_nsec = static_cast<long>(wake % 1'000'000'000);
      if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0) when.it_value.tv_nsec = 1;
      timerfd_settime(timer_, TFD_TIMER_ABSTIME, &when, nullptr);
    }
    const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 1000);
    now = now_ns();
    for (int i = 0; i < n; ++i) {
      const auto& ev = events[static_cast<size_t>(i)];
      if (ev.data.u64 == kTimerTag) {
        uint64_t expirations = 0;
        [[maybe_unused]] const auto got = read(timer_, &expirations, sizeof expirations);
        armed_ = -1;
        continue;
      }
      on_event(conns_[static_cast<size_t>(ev.data.u64)], ev.events, now);
    }
  }
  return tally_;
}

}  // namespace

std::optional<Result> run_rate(const Options& o, const BaseUrl& url, const Address& address,
                               const std::vector<Link>& links, const std::string& run_id,
                               std::string& error) {
  const int cores = usable_cores();
  int threads =
      o.threads > 0 ? o.threads : std::clamp(static_cast<int>(std::ceil(o.rate / 20000)), 1, cores);
  threads = std::max(1, std::min(threads, o.connections));
  const long max_queue =
      o.max_queue > 0 ? o.max_queue : std::max(1000L, static_cast<long>(std::ceil(2 * o.rate)));
  const RequestBuilder builder(url, run_id, o.api_key);
  const KindPicker kinds(o.mix);
  const ZipfPicker zipf(links.size(), o.zipf_s);
  std::vector<Live> lives(static_cast<size_t>(threads));
  const int64_t start = now_ns() + 20 * kMs;  // time to open the connections
  Plan base;
  base.address = &address;
  base.builder = &builder;
  base.links = &links;
  base.kinds = &kinds;
  base.zipf = &zipf;
  base.threads = static_cast<unsigned>(threads);
  base.rate = o.rate;
  base.start_ns = start;
  base.window_start_ns = start + static_cast<int64_t>(o.warmup_s * 1e9);
  base.window_end_ns = base.window_start_ns + static_cast<int64_t>(o.duration_s * 1e9);
  base.timeout_ns = static_cast<int64_t>(o.timeout_s * 1e9);
  base.hard_deadline_ns = base.window_end_ns + base.timeout_ns + 1000 * kMs;
  base.max_queue = static_cast<size_t>((max_queue + threads - 1) / threads);

  std::vector<Tally> tallies(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  std::atomic<int> running{threads};
  for (int t = 0; t < threads; ++t) {
    Plan plan = base;
    plan.index = static_cast<unsigned>(t);
    plan.connections = o.connections / threads + (t < o.connections % threads ? 1 : 0);
    plan.seed = o.seed * 1000 + static_cast<unsigned long long>(t) + 1;
    workers.emplace_back([plan, &lives, &tallies, &running, t] {
      Engine engine(plan, lives[static_cast<size_t>(t)]);
      tallies[static_cast<size_t>(t)] = engine.run();
      running.fetch_sub(1);
    });
  }
  if (!o.quiet) {
    std::fprintf(stderr,
                 "kurz-load: %.0f req/s open loop for %.1f s (+%.1f s warm-up), %d connections, %d "
                 "thread%s ...\n",
                 o.rate, o.duration_s, o.warmup_s, o.connections, threads, threads == 1 ? "" : "s");
  }
  uint64_t last_answered = 0;
  int64_t next_line = start + 1000 * kMs;
  // The markers let a caller sample the system over the measured window only (within 20 ms).
  bool window_started = false, window_ended = false;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const int64_t now = now_ns();
    if (!o.quiet && !window_started && now >= base.window_start_ns) {
      window_started = true;
      std::fprintf(stderr, "kurz-load: measured window: start\n");
    }
    if (!o.quiet && !window_ended && now >= base.window_end_ns) {
      window_ended = true;
      std::fprintf(stderr, "kurz-load: measured window: end\n");
    }
    if (now < next_line) continue;
    next_line += 1000 * kMs;
    Histogram second;
    uint64_t answered = 0, sent = 0, errors = 0;
    for (auto& live : lives) {
      std::lock_guard<std::mutex> lock(live.mutex);
      second.merge(live.second);
      live.second.clear();
      answered += live.answered.load();
      sent += live.sent.load();
      errors += live.errors.load();
    }
    if (!o.quiet) {
      std::fprintf(stderr, "%s\n",
                   progress_line(static_cast<double>(now - start) / 1e9, sent,
                                 static_cast<double>(answered - last_answered), errors,
                                 second.percentile_us(99) / 1000, second.count() > 0)
                       .c_str());
    }
    last_answered = answered;
  }
  // The workers stop at the window's end: when they were done before this loop's next look (it
  // looks every 20 ms), the markers still go out, so that a caller never misses the window.
  if (!o.quiet && !window_started) std::fprintf(stderr, "kurz-load: measured window: start\n");
  if (!o.quiet && !window_ended) std::fprintf(stderr, "kurz-load: measured window: end\n");
  for (auto& w : workers) w.join();

  Result r = start_result("rate", o, url, threads);
  r.rate = o.rate;
  r.latency_from = "each request's scheduled send time (open loop, kurz-load)";
  r.rank_hits.assign(links.size(), 0);
  for (const auto& link : links) r.rank_codes.push_back(link.code);
  for (const auto& t : tallies) {
    if (!t.fatal.empty()) {
      error = t.fatal;
      return std::nullopt;
    }
    for (size_t k = 0; k < t.kinds.size(); ++k) r.kinds[k].merge(t.kinds[k]);
    r.total.merge(t.total);
    r.sent += t.sent;
    r.scheduled += t.scheduled;
    r.answered_in_window += t.answered_in_window;
    for (const auto& [name, count] : t.errors) r.error_detail[name] += count;
    for (size_t i = 0; i < t.rank_hits.size(); ++i) r.rank_hits[i] += t.rank_hits[i];
  }
  r.extra["max_queue"] = max_queue;
  return r;
}

}  // namespace kurz::load
