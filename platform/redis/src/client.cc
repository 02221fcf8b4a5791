#include "kurz/redis/client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>

#include "kurz/platform/log.h"

namespace kurz::redis {
namespace {

using SteadyClock = std::chrono::steady_clock;
namespace log = platform::log;

common::Error unavailable() {
  return common::Error{common::ErrorKind::Unavailable, "unavailable",
                       "the data store is unavailable; try again shortly"};
}

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

Reply convert(const redisReply& raw) {
  Reply reply;
  switch (raw.type) {
    case REDIS_REPLY_STATUS:
      reply.type = Reply::Type::Status;
      reply.str.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_ERROR:
      reply.type = Reply::Type::Error;
      reply.str.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_INTEGER:
      reply.type = Reply::Type::Integer;
      reply.integer = raw.integer;
      break;
    case REDIS_REPLY_STRING:
      reply.type = Reply::Type::String;
      reply.str.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = Reply::Type::Array;
      reply.elements.reserve(raw.elements);
      for (std::size_t i = 0; i < raw.elements; ++i)
        reply.elements.push_back(convert(*raw.element[i]));
      break;
    default:
      reply.type = Reply::Type::Nil;
  }
  return reply;
}

struct ContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

}  // namespace

bool starts_with(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// The node is not (or no longer) a usable primary: drop every connection and resolve again.
bool demoted(const Reply& reply) {
  return reply.is_error() &&
         (starts_with(reply.str, "READONLY") || starts_with(reply.str, "LOADING"));
}

constexpr auto kRoleRefresh = std::chrono::seconds(5);

// The pool: idle contexts, how many exist, and the shared reconnect backoff.
class Client::Pool {
 public:
  explicit Pool(const Options& options) : options_(options), sentinels_(options.url.sentinels) {
    for (std::size_t i = 0; i < options_.pool_size; ++i) slots_.emplace_back();
  }

  // Runs `commands` on one context; every failure comes back as Unavailable. `replicated`: after
  // the commands, WAIT as Options::wait_replicas says; its reply is checked, not returned.
  common::Result<std::vector<Reply>> run(const std::vector<Command>& commands, bool replicated) {
    const auto deadline = SteadyClock::now() + options_.command_timeout;
    std::string error;
    std::unique_lock lock(mutex_);
    if (!available_.wait_until(lock, deadline, [this] { return !slots_.empty(); })) {
      return unavailable();
    }
    Slot slot = std::move(slots_.back());
    slots_.pop_back();
    if (slot.generation != generation_) slot.context.reset();  // the pool was dropped
    if (!slot.context) {
      if (options_.clock->now() < retry_at_) {
        give_back(Slot{}, lock);
        return unavailable();
      }
      lock.unlock();
      Endpoint target;
      int replicas = -1;
      slot.context = connect(error, target, replicas);
      lock.lock();
      if (!slot.context) {
        backoff_ = backoff_.count() == 0 ? std::chrono::milliseconds(50)
                                         : std::min(backoff_ * 2, options_.max_backoff);
        retry_at_ = options_.clock->now() + backoff_;
        mark(false, error, lock);
        give_back(Slot{}, lock);
        return unavailable();
      }
      backoff_ = std::chrono::milliseconds(0);
      slot.generation = adopt(target, replicas, lock);
    }
    int wait = 0;
    bool refresh_role = false;
    if (replicated) {
      wait = options_.wait_replicas;
      if (wait == kWaitAuto) {
        refresh_role = options_.clock->now() - role_read_at_ >= kRoleRefresh;
        wait = replicas_ > 0 ? 1 : 0;
      }
    }
    lock.unlock();
    if (refresh_role) {
      if (const auto count = read_role(slot.context.get(), error); count >= 0) {
        lock.lock();
        replicas_ = count;
        role_read_at_ = options_.clock->now();
        lock.unlock();
        if (options_.wait_replicas == kWaitAuto) wait = count > 0 ? 1 : 0;
      }
    }
    common::Result<std::vector<Reply>> replies = std::vector<Reply>{};
    if (wait > 0) {
      auto with_wait = commands;
      with_wait.push_back(
          {"WAIT", std::to_string(wait), std::to_string(options_.wait_timeout.count())});
      // WAIT may take wait_timeout by itself: the reply bound is widened for this call only.
      redisSetTimeout(slot.context.get(),
                      to_timeval(options_.command_timeout + options_.wait_timeout));
      replies = execute(slot.context.get(), with_wait, error);
      redisSetTimeout(slot.context.get(), to_timeval(options_.command_timeout));
    } else {
      replies = execute(slot.context.get(), commands, error);
    }
    lock.lock();
    bool drop = false;
    if (replies.ok()) {
      for (const auto& reply : replies.value()) drop = drop || demoted(reply);
    }
    if (drop) {
      error = "the node is not a writable primary any more";
      ++generation_;  // every pooled connection goes; the next call resolves again
      replies = unavailable();
    }
    if (!replies.ok()) slot.context.reset();  // unusable after any error
    mark(replies.ok(), error, lock);
    give_back(std::move(slot), lock);
    if (replies.ok() && wait > 0) {
      const Reply acked = std::move(replies.value().back());
      replies.value().pop_back();
      const bool script_failed = !replies.value().empty() && replies.value().front().is_error();
      if (!script_failed && (acked.type != Reply::Type::Integer || acked.integer < wait)) {
        return common::Error{common::ErrorKind::Unavailable, "not_replicated",
                             "the write was not confirmed by " + std::to_string(wait) +
                                 " replica(s) within " +
                                 std::to_string(options_.wait_timeout.count()) +
                                 " ms; it may be lost in a failover; try again"};
      }
    }
    return replies;
  }

  int replicas_to_wait() {
    std::lock_guard lock(mutex_);
    if (options_.wait_replicas != kWaitAuto) return options_.wait_replicas;
    return replicas_ > 0 ? 1 : 0;
  }

 private:
  struct Slot {
    Context context;
    std::uint64_t generation = 0;
  };

  void give_back(Slot slot, std::unique_lock<std::mutex>&) {
    slots_.push_back(std::move(slot));
    available_.notify_one();
  }

  // A new connection was made to `connected_`: when that is another primary than before, every
  // older connection is dropped. Returns the generation the new one belongs to.
  std::uint64_t adopt(const Endpoint& connected, int replicas, std::unique_lock<std::mutex>&) {
    if (connected.host != current_.host || connected.port != current_.port) {
      if (!current_.host.empty()) {
        ++generation_;
        log::info("redis primary changed",
                  {{"from", current_.to_string()}, {"to", connected.to_string()}});
      }
      current_ = connected;
    }
    if (replicas >= 0) {
      replicas_ = replicas;
      role_read_at_ = options_.clock->now();
    }
    return generation_;
  }

  // Logs transitions only, so that an outage is two lines, not one per request.
  void mark(bool healthy, const std::string& error, std::unique_lock<std::mutex>&) {
    if (healthy == healthy_) return;
    healthy_ = healthy;
    if (healthy) {
      log::info("redis reachable again", {{"redis", options_.url.redacted()}});
    } else {
      log::warn("redis unreachable", {{"redis", options_.url.redacted()}, {"error", error}});
    }
  }

  Context open(const std::string& host, std::uint16_t port, std::string& error) {
    Context context(
        redisConnectWithTimeout(host.c_str(), port, to_timeval(options_.connect_timeout)));
    if (!context || context->err != 0) {
      error = context ? context->errstr : "cannot allocate a context";
      return nullptr;
    }
    // The connect timeout does not cover replies; without this a command could block forever.
    if (redisSetTimeout(context.get(), to_timeval(options_.command_timeout)) != REDIS_OK) {
      error = "cannot set the command timeout";
      return nullptr;
    }
    redisEnableKeepAlive(context.get());
    return context;
  }

  // The primary's address from the first sentinel that knows it (which then goes first).
  bool resolve(Endpoint& primary, std::string& error) {
    std::vector<Endpoint> order;
    {
      std::lock_guard lock(sentinel_mutex_);
      order = sentinels_;
    }
    error = "no sentinel knows the primary '" + options_.url.master_name + "'";
    for (const auto& sentinel : order) {
      std::string why;
      auto context = open(sentinel.host, sentinel.port, why);
      if (!context) continue;
      const auto replies = execute(
          context.get(), {{"SENTINEL", "get-master-addr-by-name", options_.url.master_name}}, why);
      if (!replies.ok()) continue;
      const auto& reply = replies.value().front();
      if (reply.type != Reply::Type::Array || reply.elements.size() != 2) continue;
      std::uint16_t port = 0;
      const auto& text = reply.elements[1].str;
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
      if (ec != std::errc() || ptr != text.data() + text.size() || port == 0) continue;
      primary = Endpoint{reply.elements[0].str, port};
      std::lock_guard lock(sentinel_mutex_);
      const auto it = std::find_if(sentinels_.begin(), sentinels_.end(), [&](const Endpoint& e) {
        return e.host == sentinel.host && e.port == sentinel.port;
      });
      if (it != sentinels_.end()) std::rotate(sentinels_.begin(), it, it + 1);
      return true;
    }
    return false;
  }

  // ROLE: the number of connected replicas of a master, -1 if it is not a master (or ROLE
  // failed: then `error` says why).
  static int read_role(redisContext* context, std::string& error) {
    const auto replies = execute(context, {{"ROLE"}}, error);
    if (!replies.ok()) return -1;
    const auto& role = replies.value().front();
    if (role.type != Reply::Type::Array || role.elements.empty()) {
      error = role.is_error() ? role.str : "unexpected ROLE reply";
      return -1;
    }
    if (role.elements[0].str != "master") {
      error = "the node is a " + role.elements[0].str + ", not the primary";
      return -1;
    }
    if (role.elements.size() < 3 || role.elements[2].type != Reply::Type::Array) return 0;
    return static_cast<int>(role.elements[2].elements.size());
  }

  // A new connection, and where it goes (`target`) and the master's replicas (-1: unknown).
  Context connect(std::string& error, Endpoint& target, int& replicas) {
    target = Endpoint{options_.url.host, options_.url.port};
    const bool sentinel = !options_.url.sentinels.empty();
    if (sentinel && !resolve(target, error)) return nullptr;
    Context context = open(target.host, target.port, error);
    if (!context) return nullptr;
    std::vector<Command> setup;
    if (!options_.url.password.empty()) setup.push_back({"AUTH", options_.url.password});
    if (options_.url.db != 0) setup.push_back({"SELECT", std::to_string(options_.url.db)});
    if (!setup.empty()) {
      const auto replies = execute(context.get(), setup, error);
      if (!replies.ok()) return nullptr;
      for (const auto& reply : replies.value()) {
        if (reply.is_error()) {
          error = reply.str;
          return nullptr;
        }
      }
    }
    // With Sentinel, the address may be stale (a failover under way): only a master will do.
    // ROLE also tells how many replicas WAIT can count on (auto). Without Sentinel, a new
    // connection is set up as before; the first eval_replicated() reads ROLE (auto).
    if (sentinel) {
      replicas = read_role(context.get(), error);
      if (replicas < 0) return nullptr;
    }
    return context;
  }

  static common::Result<std::vector<Reply>> execute(redisContext* context,
                                                    const std::vector<Command>& commands,
                                                    std::string& error) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& command : commands) {
      argv.clear();
      lengths.clear();
      for (const auto& arg : command) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
      }
      if (redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(),
                                 lengths.data()) != REDIS_OK) {
        error = context->errstr;
        return unavailable();
      }
    }
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(context, &raw) != REDIS_OK || raw == nullptr) {
        error = context->errstr;
        return unavailable();
      }
      replies.push_back(convert(*static_cast<redisReply*>(raw)));
      freeReplyObject(raw);
    }
    return replies;
  }

  const Options& options_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Slot> slots_;  // idle; no context: a slot whose context must be (re)connected
  common::TimePoint retry_at_{};
  std::chrono::milliseconds backoff_{0};
  bool healthy_ = true;
  std::uint64_t generation_ = 0;  // raised to drop every pooled connection
  Endpoint current_;              // the primary the pool's connections go to
  int replicas_ = 0;              // the primary's connected replicas, from the last ROLE
  common::TimePoint role_read_at_{};
  std::mutex sentinel_mutex_;
  std::vector<Endpoint> sentinels_;  // the one that answered last, first
};

Client::Client(Options options)
    : options_(std::move(options)), pool_(std::make_unique<Pool>(options_)) {}

Client::~Client() = default;

common::Result<Reply> Client::command(const Command& args) {
  auto replies = pool_->run({args}, false);
  if (!replies.ok()) return replies.error();
  return std::move(replies.value().front());
}

common::Result<std::vector<Reply>> Client::pipeline(const std::vector<Command>& commands) {
  if (commands.empty()) return std::vector<Reply>{};
  return pool_->run(commands, false);
}

common::Result<Reply> Client::eval(const Script& script, const std::vector<std::string>& keys,
                                   const std::vector<std::string>& args) {
  return run_script(script, keys, args, false);
}

common::Result<Reply> Client::eval_replicated(const Script& script,
                                              const std::vector<std::string>& keys,
                                              const std::vector<std::string>& args) {
  return run_script(script, keys, args, true);
}

int Client::replicas_to_wait() const { return pool_->replicas_to_wait(); }

common::Result<Reply> Client::run_script(const Script& script, const std::vector<std::string>& keys,
                                         const std::vector<std::string>& args, bool replicated) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string sha;
    {
      std::lock_guard lock(script.mutex_);
      sha = script.sha1_;
    }
    if (sha.empty()) {
      auto loaded = command({"SCRIPT", "LOAD", script.source()});
      if (!loaded.ok()) return loaded.error();
      if (loaded.value().type != Reply::Type::String) return std::move(loaded).value();
      sha = loaded.value().str;
      std::lock_guard lock(script.mutex_);
      script.sha1_ = sha;
    }
    Command call{"EVALSHA", sha, std::to_string(keys.size())};
    call.insert(call.end(), keys.begin(), keys.end());
    call.insert(call.end(), args.begin(), args.end());
    auto replies = pool_->run({call}, replicated);
    if (!replies.ok()) return replies.error();
    auto& reply = replies.value().front();
    if (reply.is_error() && reply.str.rfind("NOSCRIPT", 0) == 0) {
      std::lock_guard lock(script.mutex_);
      script.sha1_.clear();
      continue;
    }
    return std::move(reply);
  }
  return unavailable();
}

common::Result<void> Client::ping() {
  const auto reply = command({"PING"});
  if (!reply.ok()) return reply.error();
  if (reply.value().is_error()) {
    return common::Error{common::ErrorKind::Unavailable, "unavailable", reply.value().str};
  }
  return {};
}

}  // namespace kurz::redis
