#pragma once
// A real redis-server for tests: started on a free port of 127.0.0.1, without persistence, and
// stopped when the object goes away. It can be stopped, restarted on the same port, and paused
// (SIGSTOP) to play a Redis that accepts connections but never answers.

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace kurz::testing {

class RedisServer {
 public:
  RedisServer();  // throws std::runtime_error when redis-server cannot start within 5 s
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  void start();
  void stop();
  void pause();
  void resume();

 private:
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// A port nothing listens on right now (the kernel's choice).
std::uint16_t free_port();

}  // namespace kurz::testing
