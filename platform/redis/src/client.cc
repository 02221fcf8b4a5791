#include "kurz/redis/client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

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

// The pool: idle contexts, how many exist, and the shared reconnect backoff.
class Client::Pool {
 public:
  explicit Pool(const Options& options) : options_(options) {
    for (std::size_t i = 0; i < options_.pool_size; ++i) slots_.emplace_back();
  }

  // Runs `commands` on one context; every failure comes back as Unavailable.
  common::Result<std::vector<Reply>> run(const std::vector<Command>& commands) {
    const auto deadline = SteadyClock::now() + options_.command_timeout;
    std::string error;
    std::unique_lock lock(mutex_);
    if (!available_.wait_until(lock, deadline, [this] { return !slots_.empty(); })) {
      return unavailable();
    }
    Context context = std::move(slots_.back());
    slots_.pop_back();
    if (!context) {
      if (SteadyClock::now() < retry_at_) {
        give_back(std::move(context), lock);
        return unavailable();
      }
      lock.unlock();
      context = connect(error);
      lock.lock();
      if (!context) {
        backoff_ = backoff_.count() == 0 ? std::chrono::milliseconds(50)
                                         : std::min(backoff_ * 2, options_.max_backoff);
        retry_at_ = SteadyClock::now() + backoff_;
        mark(false, error, lock);
        give_back(nullptr, lock);
        return unavailable();
      }
      backoff_ = std::chrono::milliseconds(0);
    }
    lock.unlock();
    auto replies = execute(context.get(), commands, error);
    lock.lock();
    if (!replies.ok()) context.reset();  // unusable after any error
    mark(replies.ok(), error, lock);
    give_back(std::move(context), lock);
    return replies;
  }

 private:
  void give_back(Context context, std::unique_lock<std::mutex>&) {
    slots_.push_back(std::move(context));
    available_.notify_one();
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

  Context connect(std::string& error) {
    Context context(redisConnectWithTimeout(options_.url.host.c_str(), options_.url.port,
                                            to_timeval(options_.connect_timeout)));
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
  std::vector<Context> slots_;  // idle; nullptr: a slot whose context must be (re)connected
  SteadyClock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
  bool healthy_ = true;
};

Client::Client(Options options)
    : options_(std::move(options)), pool_(std::make_unique<Pool>(options_)) {}

Client::~Client() = default;

common::Result<Reply> Client::command(const Command& args) {
  auto replies = pool_->run({args});
  if (!replies.ok()) return replies.error();
  return std::move(replies.value().front());
}

common::Result<std::vector<Reply>> Client::pipeline(const std::vector<Command>& commands) {
  if (commands.empty()) return std::vector<Reply>{};
  return pool_->run(commands);
}

common::Result<Reply> Client::eval(const Script& script, const std::vector<std::string>& keys,
                                   const std::vector<std::string>& args) {
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
    auto reply = command(call);
    if (!reply.ok()) return reply;
    if (reply.value().is_error() && reply.value().str.rfind("NOSCRIPT", 0) == 0) {
      std::lock_guard lock(script.mutex_);
      script.sha1_.clear();
      continue;
    }
    return reply;
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
