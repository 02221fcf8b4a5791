#pragma once
// A small, thread-safe Redis client over hiredis 0.14, built for services that must never hang
// on Redis:
//   - every command is bounded: the connect by connect_timeout, each reply by command_timeout
//     (hiredis's redisConnectWithTimeout bounds only the connect; the command timeout is set with
//     redisSetTimeout on every new connection, since a reconnect drops it);
//   - a context is thrown away after any error and replaced by a fresh one, after a backoff that
//     grows from 50 ms to max_backoff while Redis stays away; during the backoff, commands fail
//     at once with Unavailable instead of waiting;
//   - contexts are not thread-safe, so the client keeps a small pool and lends one per call;
//     a call that cannot get one within command_timeout fails with Unavailable.
//   - with sentinels (Url::sentinels), every new connection first asks the sentinels in turn
//     (SENTINEL get-master-addr-by-name, each bounded by the connect and command timeouts; the
//     one that answers moves to the front), connects to that address and checks ROLE: a node
//     that is not a master is refused (backoff, then resolve again). When the primary's address
//     changes, every pooled connection is dropped;
//   - a -READONLY or -LOADING reply (the node is now a replica, or is loading its data) drops the
//     whole pool, and the call fails with Unavailable: the next one resolves again.
// Failures are values (common::Error, kind Unavailable); other Redis error replies are Reply
// values of type Error, not failures of the call.
//
// Acknowledged means kept: eval_replicated() sends WAIT after the script on the same connection,
// so that a write is reported done only once `wait_replicas` replicas have it. kWaitAuto: WAIT 1
// when the primary has at least one connected replica (from ROLE, read at most every 5 s, and on
// every new connection with Sentinel), else no WAIT.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "kurz/common/clock.h"
#include "kurz/common/error.h"
#include "kurz/redis/url.h"

namespace kurz::redis {

struct Reply {
  enum class Type { Nil, Status, Error, Integer, String, Array };
  Type type = Type::Nil;
  long long integer = 0;
  std::string str;  // Status, Error and String
  std::vector<Reply> elements;

  bool is_nil() const { return type == Type::Nil; }
  bool is_error() const { return type == Type::Error; }
};

using Command = std::vector<std::string>;

// Options::wait_replicas: -1 (auto), 0 (never WAIT) or how many replicas must confirm.
inline constexpr int kWaitAuto = -1;

struct Options {
  Url url;  // with url.sentinels: only its password, db, sentinels and master name are used
  std::chrono::milliseconds connect_timeout{250};
  std::chrono::milliseconds command_timeout{250};
  std::chrono::milliseconds max_backoff{2000};
  // The clock the reconnect backoff and the ROLE refresh are measured on (tests pass a
  // common::ManualClock). Timeouts of a command in flight are the socket's, in real time.
  const common::Clock* clock = &common::system_clock();
  std::size_t pool_size = 4;
  int wait_replicas = kWaitAuto;
  std::chrono::milliseconds wait_timeout{1000};
};

// A Lua script, run with EVALSHA: loaded with SCRIPT LOAD on first use, and again after NOSCRIPT
// (Redis restarted and forgot it). Thread-safe.
class Script {
 public:
  explicit Script(std::string source) : source_(std::move(source)) {}
  const std::string& source() const { return source_; }

 private:
  friend class Client;
  std::string source_;
  mutable std::mutex mutex_;
  mutable std::string sha1_;
};

class Client {
 public:
  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  common::Result<Reply> command(const Command& args);
  // Sends every command in one write and reads every reply: one round trip.
  common::Result<std::vector<Reply>> pipeline(const std::vector<Command>& commands);
  common::Result<Reply> eval(const Script& script, const std::vector<std::string>& keys,
                             const std::vector<std::string>& args);

  // The script, then WAIT (Options::wait_replicas) on the same connection, in one round trip.
  // The script's reply once enough replicas have confirmed; when they have not within
  // wait_timeout: Unavailable with code "not_replicated" (the write is on the primary, and may
  // be lost in a failover). An error reply of the script is returned as is (no WAIT matters).
  common::Result<Reply> eval_replicated(const Script& script, const std::vector<std::string>& keys,
                                        const std::vector<std::string>& args);

  // How many replicas the next eval_replicated() waits for (auto: from the last ROLE).
  int replicas_to_wait() const;

  // PING; for readiness checks. Fails at once while a reconnect is backing off.
  common::Result<void> ping();

  const Options& options() const { return options_; }

 private:
  class Pool;
  common::Result<Reply> run_script(const Script& script, const std::vector<std::string>& keys,
                                   const std::vector<std::string>& args, bool replicated);
  Options options_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace kurz::redis
