// Click stream benchmark: prints figures, asserts nothing. It starts nothing itself:
//
//   REDIS_URL=redis://127.0.0.1:6399 CLICK_BENCH_EVENTS=200000 kurz_click_bench
//
// Use a scratch Redis: it deletes kurz:clicks (and its groups) and writes kurz:stats:bench*.
// 1. record(): the hot-path cost, into a buffer whose publisher does nothing;
// 2. publish: N events through ClickBuffer → RedisClickPublisher into the stream (the recorder
//    waits whenever the buffer is full, so nothing is dropped);
// 3. consume: one ClickConsumer counts the N entries into the stats.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "kurz/redirect/click_buffer.h"
#include "kurz/redirect/redis/click_publisher.h"
#include "kurz/redis/client.h"
#include "kurz/stats/redis/click_consumer.h"
#include "kurz/stats/redis/keys.h"

namespace {

using namespace kurz;
using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

common::ClickEvent bench_event(std::size_t i) {
  return {std::chrono::system_clock::now(), "bench" + std::to_string(i % 100),
          "https://r" + std::to_string(i % 50) + ".example/page",
          "Mozilla/5.0 (X11; Linux x86_64) bench/" + std::to_string(i % 20)};
}

class NullPublisher final : public redirect::ClickPublisher {
 public:
  common::Result<void> publish(std::uint64_t, const std::vector<common::ClickEvent>&) override {
    return {};
  }
};

}  // namespace

int main() {
  const char* url_text = std::getenv("REDIS_URL");
  const char* events_text = std::getenv("CLICK_BENCH_EVENTS");
  const std::size_t n = events_text ? std::strtoull(events_text, nullptr, 10) : 200000;
  const auto url = redis::parse_url(url_text ? url_text : "");
  if (!url.ok() || n == 0) {
    std::fprintf(stderr, "usage: REDIS_URL=redis://host:port [CLICK_BENCH_EVENTS=n] %s\n",
                 "kurz_click_bench");
    return 2;
  }
  redis::Options options;
  options.url = url.value();
  options.command_timeout = std::chrono::milliseconds(2000);
  redis::Client client(options);
  if (!client.ping().ok()) {
    std::fprintf(stderr, "redis at %s does not answer\n", url.value().redacted().c_str());
    return 1;
  }
  client.command({"DEL", std::string(stats::redis::kClickStream)});

  std::vector<common::ClickEvent> events;
  events.reserve(n);
  for (std::size_t i = 0; i < n; ++i) events.push_back(bench_event(i));

  {  // 1. record() alone
    NullPublisher null;
    redirect::ClickBuffer buffer(null, {});
    auto copy = events;
    const auto start = SteadyClock::now();
    for (auto& event : copy) {
      while (buffer.pending() >= 90000) std::this_thread::yield();
      buffer.record(std::move(event));
    }
    const double s = seconds_since(start);
    std::printf("record():  %.0f ns per call (%zu calls, no-op publisher)\n", s * 1e9 / n, n);
  }

  {  // 2. publish into the stream
    redirect::redis::RedisClickPublisher publisher(client, "bench");
    redirect::ClickBuffer buffer(publisher, {});
    const auto start = SteadyClock::now();
    for (auto& event : events) {
      while (buffer.pending() >= 90000) std::this_thread::sleep_for(std::chrono::microseconds(50));
      buffer.record(std::move(event));
    }
    if (!buffer.flush(std::chrono::seconds(60))) std::fprintf(stderr, "flush timed out\n");
    const double s = seconds_since(start);
    std::printf("publish:   %.0f clicks/s (%llu published, %llu dropped, %.2f s)\n",
                static_cast<double>(buffer.published()) / s,
                static_cast<unsigned long long>(buffer.published()),
                static_cast<unsigned long long>(buffer.dropped()), s);
  }

  {  // 3. consume with one worker
    stats::redis::ConsumerOptions consumer_options;
    consumer_options.consumer = "bench";
    stats::redis::ClickConsumer consumer(options, consumer_options);
    const auto start = SteadyClock::now();
    consumer.start();
    while (consumer.counters().applied < n && seconds_since(start) < 120) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const double s = seconds_since(start);
    const auto applied = consumer.counters().applied;
    consumer.stop();
    std::printf("consume:   %.0f clicks/s (%llu applied by one consumer, %.2f s; target 50000)\n",
                static_cast<double>(applied) / s, static_cast<unsigned long long>(applied), s);
  }
  return 0;
}
