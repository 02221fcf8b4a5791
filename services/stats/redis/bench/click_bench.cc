// Click stream benchmark: prints figures, asserts nothing. It starts nothing itself:
//
//   REDIS_URL=redis://127.0.0.1:6399 CLICK_BENCH_EVENTS=200000 kurz_click_bench
//
// Use a scratch Redis of its own (a bare redis-server): it FLUSHes the database, deletes the
// click streams (and their groups) and writes kurz:stats:*; it resets Redis's statistics
// (CONFIG RESETSTAT), so nothing else should use that Redis meanwhile.
// 1. record(): the hot-path cost, into a buffer whose publisher does nothing;
// 2. publish: N events through ClickBuffer → RedisClickPublisher into the stream (the recorder
//    waits whenever the buffer is full, so nothing is dropped);
// 3. consume: one ClickConsumer counts the N clicks into the stats;
// 4. Redis's cost per click, producer and consumer running together (the redirect + stats pair's
//    click path, as in stage 2 and 3), for clicks uniform over 300 links and Zipf (s = 1) over
//    1000 links, 20 referrer hosts and 8 user agents: commands per click (INFO commandstats,
//    the commands run inside scripts included, EVALSHA too; the bench's own INFO/CONFIG/FLUSHDB
//    excluded) and Redis CPU per click (INFO cpu used_cpu_sys + used_cpu_user, the whole process:
//    network, scripts, everything). Commands per click do not depend on the machine's load; CPU
//    does (measure on a quiet machine).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "kurz/clickstream/stream.h"
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

// Clicks over `links` links, uniform or Zipf (s = 1), with a fixed seed.
std::vector<common::ClickEvent> distributed_events(std::size_t n, std::size_t links, bool zipf) {
  std::mt19937_64 random(7);
  std::vector<double> cdf(links);
  double sum = 0;
  for (std::size_t i = 0; i < links; ++i) {
    sum += zipf ? 1.0 / static_cast<double>(i + 1) : 1.0;
    cdf[i] = sum;
  }
  std::uniform_real_distribution<double> unit(0, sum);
  std::vector<common::ClickEvent> events;
  events.reserve(n);
  const auto now = std::chrono::system_clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    const auto link = static_cast<std::size_t>(
        std::lower_bound(cdf.begin(), cdf.end(), unit(random)) - cdf.begin());
    events.push_back({now, "link" + std::to_string(link),
                      "https://r" + std::to_string(random() % 20) + ".example/p" +
                          std::to_string(random() % 1000),
                      "Mozilla/5.0 (X11; Linux x86_64) bench/" + std::to_string(random() % 8)});
  }
  return events;
}

// name -> calls, from INFO commandstats; and used_cpu_sys + used_cpu_user, from INFO cpu.
struct RedisCost {
  std::map<std::string, double> calls;
  std::map<std::string, double> usec;
  double cpu_s = 0;
};

RedisCost redis_cost(redis::Client& client) {
  RedisCost cost;
  const auto stats = client.command({"INFO", "commandstats"});
  if (stats.ok()) {
    const std::string& text = stats.value().str;
    std::size_t at = 0;
    while ((at = text.find("cmdstat_", at)) != std::string::npos) {
      const auto colon = text.find(':', at);
      const auto calls = text.find("calls=", colon);
      if (colon == std::string::npos || calls == std::string::npos) break;
      const std::string name = text.substr(at + 8, colon - at - 8);
      cost.calls[name] = std::atof(text.c_str() + calls + 6);
      const auto usec = text.find("usec=", calls);
      if (usec != std::string::npos) cost.usec[name] = std::atof(text.c_str() + usec + 5);
      at = colon;
    }
  }
  const auto cpu = client.command({"INFO", "cpu"});
  if (cpu.ok()) {
    for (const char* field : {"used_cpu_sys:", "used_cpu_user:"}) {
      const auto at = cpu.value().str.find(field);
      if (at != std::string::npos)
        cost.cpu_s += std::atof(cpu.value().str.c_str() + at + std::strlen(field));
    }
  }
  return cost;
}

void reset_streams(redis::Client& client) {
  client.command({"FLUSHDB"});
  client.command({"DEL", std::string(clickstream::kStream), std::string(clickstream::kLegacyStream),
                  std::string(clickstream::kAppendedKey)});
}

// Part 4 for one distribution.
void cost_per_click(redis::Client& client, const redis::Options& options, const char* label,
                    std::vector<common::ClickEvent> events) {
  reset_streams(client);
  const std::size_t n = events.size();
  client.command({"CONFIG", "RESETSTAT"});
  const auto before = redis_cost(client);
  stats::redis::ConsumerOptions consumer_options;
  consumer_options.consumer = "bench";
  if (const char* rows = std::getenv("STATS_APPLY_ROWS")) {
    consumer_options.apply_max_rows = std::strtoull(rows, nullptr, 10);
    consumer_options.apply_min_clicks = consumer_options.apply_max_rows;
  }
  stats::redis::ClickConsumer consumer(options, consumer_options);
  consumer.start();
  redirect::redis::RedisClickPublisher publisher(client, "bench");
  {
    redirect::ClickBuffer buffer(publisher, {});
    for (auto& event : events) {
      while (buffer.pending() >= 90000) std::this_thread::sleep_for(std::chrono::microseconds(50));
      buffer.record(std::move(event));
    }
    if (!buffer.flush(std::chrono::seconds(60))) std::fprintf(stderr, "flush timed out\n");
  }
  const auto start = SteadyClock::now();
  while (consumer.counters().applied < n && seconds_since(start) < 120) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  consumer.stop();
  const auto applied = consumer.counters().applied;
  const auto after = redis_cost(client);
  double commands = 0;
  std::string top;
  std::vector<std::pair<double, std::string>> by_count;
  for (const auto& [name, calls] : after.calls) {
    if (name == "info" || name == "config|resetstat" || name == "config" || name == "flushdb")
      continue;
    const auto it = before.calls.find(name);
    const double delta = calls - (it == before.calls.end() ? 0 : it->second);
    commands += delta;
    if (name != "evalsha" && name != "eval") by_count.emplace_back(delta, name);
  }
  std::sort(by_count.rbegin(), by_count.rend());
  for (std::size_t i = 0; i < by_count.size() && i < 6; ++i) {
    char part[96];
    std::snprintf(part, sizeof part, "%s%s %.3f", i ? ", " : "", by_count[i].second.c_str(),
                  by_count[i].first / static_cast<double>(n));
    top += part;
  }
  // The consumer's scripts: every EVALSHA but the producer's (one XADD each).
  const auto of = [](const std::map<std::string, double>& values, const char* name) {
    const auto it = values.find(name);
    return it == values.end() ? 0.0 : it->second;
  };
  const double scripts = of(after.calls, "evalsha") - of(before.calls, "evalsha") -
                         (of(after.calls, "xadd") - of(before.calls, "xadd"));
  std::printf(
      "redis per click, %s: %.3f commands, %.2f us CPU (%llu clicks counted of %zu; %s; "
      "%.0f apply scripts of %zu rows at most, %.1f ms each on average)\n",
      label, commands / static_cast<double>(n),
      (after.cpu_s - before.cpu_s) * 1e6 / static_cast<double>(n),
      static_cast<unsigned long long>(applied), n, top.c_str(), scripts,
      consumer_options.apply_max_rows,
      scripts > 0 ? (of(after.usec, "evalsha") - of(before.usec, "evalsha")) / 1000.0 / scripts
                  : 0.0);
}

class NullPublisher final : public redirect::ClickPublisher {
 public:
  common::Result<void> publish(std::uint64_t, const std::vector<common::ClickEvent>&) override {
    return {};
  }
};

}  // namespace

int main() {  // NOLINT(bugprone-exception-escape): a benchmark; an error ends it loudly
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
  reset_streams(client);

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

  // 4. Redis's cost per click (targets: at most 2 commands and 3 us of CPU).
  cost_per_click(client, options, "uniform over 300 links", distributed_events(n, 300, false));
  cost_per_click(client, options, "Zipf over 1000 links", distributed_events(n, 1000, true));
  return 0;
}
