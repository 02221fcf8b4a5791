#pragma once
// The stats worker: consumes the click streams (services/clickstream's stream.h: kurz:clicks:v2,
// and the format 1 kurz:clicks) as one consumer of the group "stats" and counts every entry
// exactly once into the keys of keys.h, however many workers share the group.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kurz/redis/client.h"
#include "kurz/stats/redis/click_apply.h"

namespace kurz::stats::redis {

struct ConsumerCounters {
  std::uint64_t applied = 0;  // clicks this worker counted, since start
  std::int64_t lag = 0;       // the group's clicks not yet counted (last measured), see
                              // stream_lag(); -1 before the first measurement
  std::uint64_t unknown = 0;  // entries of a format this build does not know, seen and left
                              // pending for a newer worker (each time seen), since start
};

struct ConsumerOptions {
  std::string consumer;  // this worker's name in the group: the instance id
  std::string group = "stats";
  std::size_t batch_size = 512;          // entries per XREADGROUP (per stream)
  std::chrono::milliseconds block{500};  // XREADGROUP BLOCK; also bounds stop()
  // Aggregated rows per apply script at most (whole entries: an entry with more goes alone). The
  // more clicks a script counts, the fewer writes per click (one per link, day and name), but the
  // longer Redis serves nothing else: a few ms per 1000 rows.
  std::size_t apply_max_rows = 4096;
  // New entries are held (pending) until they carry apply_min_clicks clicks or the oldest has
  // waited apply_linger. Bounds how late a click shows in the stats.
  std::uint64_t apply_min_clicks = 4096;
  std::chrono::milliseconds apply_linger{50};
  std::chrono::milliseconds claim_interval{5000};
  std::chrono::milliseconds claim_min_idle{30000};  // pending this long: its consumer is dead
  std::chrono::milliseconds trim_interval{5000};
  std::chrono::milliseconds lag_interval{1000};
  std::chrono::milliseconds max_backoff{2000};
  // Called by the worker thread after every cycle: the hook for metrics. Must be cheap.
  std::function<void(const ConsumerCounters&)> observer;
};

// The loop, on its own thread: read new entries of both streams (XREADGROUP ... BLOCK ... STREAMS
// kurz:clicks kurz:clicks:v2 > >) and count them with ack_and_apply(); every claim_interval take
// over entries idle for claim_min_idle (XAUTOCLAIM: their consumer died or failed) and count them
// the same way; every trim_interval trim_acknowledged(); every lag_interval measure the lag. At
// start, and after any failure, it first re-reads its own pending entries (a failed apply leaves
// them pending), walking past those it leaves pending on purpose (a format it does not know).
//
// Redis away, restarted or emptied: the loop backs off (50 ms doubling to max_backoff),
// recreates the group if it is gone, and resumes by itself; it never throws.
//
// It uses its own redis::Client, built from `redis` with the command timeout raised by `block`,
// so that a blocking read is not mistaken for a dead Redis.
class ClickConsumer {
 public:
  ClickConsumer(const kurz::redis::Options& redis, ConsumerOptions options);
  ~ClickConsumer();  // stop()
  ClickConsumer(const ClickConsumer&) = delete;
  ClickConsumer& operator=(const ClickConsumer&) = delete;

  void start();
  // Finishes the batch in hand and returns: within about block + two command timeouts.
  // Idempotent.
  void stop();

  ConsumerCounters counters() const;
  // Whether the last Redis call of the loop succeeded (for readiness).
  bool healthy() const { return healthy_.load(); }

 private:
  using SteadyClock = std::chrono::steady_clock;

  void run();
  bool cycle();
  bool read();
  bool claim();
  bool apply(const kurz::redis::Reply& entries, int stream);
  bool apply_entries(const std::vector<StreamEntry>& entries);
  bool apply_held();

  std::unique_ptr<kurz::redis::Client> client_;
  ConsumerOptions options_;
  std::atomic<std::uint64_t> applied_{0};
  std::atomic<std::uint64_t> unknown_{0};
  std::atomic<std::int64_t> lag_{-1};
  std::atomic<bool> healthy_{true};

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;

  // The worker thread's own state.
  bool group_ready_ = false;
  bool own_pending_ = true;  // re-read this consumer's pending entries before new ones
  std::string pending_from_[2] = {"0", "0"};  // per stream: where that re-read continues
  bool pending_done_[2] = {false, false};
  std::vector<StreamEntry> held_;  // read, pending, not yet applied (apply_min_clicks)
  std::uint64_t held_clicks_ = 0;
  SteadyClock::time_point held_since_{};
  SteadyClock::time_point next_claim_{};
  SteadyClock::time_point next_trim_{};
  SteadyClock::time_point next_lag_{};
};

}  // namespace kurz::stats::redis
