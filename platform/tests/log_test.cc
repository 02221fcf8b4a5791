// The log writer on a real pipe: access lines wait for a batch, the interval, the next other line
// or the shutdown; nothing is lost and each thread's order is kept.
#include "kurz/platform/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kurz::platform {
namespace {

using namespace std::chrono_literals;

// A pipe whose read end a thread drains into `text` (so that the writer never blocks on it).
class Pipe {
 public:
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    read_ = fds[0];
    write_ = fds[1];
    reader_ = std::thread([this] {
      char buffer[4096];
      for (;;) {
        const auto n = ::read(read_, buffer, sizeof buffer);
        if (n <= 0) break;
        std::lock_guard lock(mutex_);
        text_.append(buffer, static_cast<std::size_t>(n));
        ++reads_;
        changed_.notify_all();
      }
    });
  }
  ~Pipe() {
    close_write();
    reader_.join();
    ::close(read_);
  }
  int fd() const { return write_; }
  void close_write() {
    if (write_ >= 0) ::close(write_);
    write_ = -1;
  }

  // The lines read so far, once there are at least `count` of them or `timeout` has passed.
  std::vector<std::string> lines(std::size_t count, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return split().size() >= count; });
    return split();
  }
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }
  int reads() {
    std::lock_guard lock(mutex_);
    return reads_;
  }

 private:
  std::vector<std::string> split() const {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (auto end = text_.find('\n'); end != std::string::npos; end = text_.find('\n', start)) {
      out.push_back(text_.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }

  int read_ = -1;
  int write_ = -1;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string text_;
  int reads_ = 0;
  std::thread reader_;  // last: starts once the rest is built
};

bool has(const std::string& line, const std::string& part) {
  return line.find(part) != std::string::npos;
}

class LogTest : public ::testing::Test {
 protected:
  void start(log::Output output) {
    output.fd = pipe_.fd();
    log::init("logtest", "i-1", LogLevel::Info, output);
  }
  void TearDown() override { log::shutdown(); }

  Pipe pipe_;
};

TEST_F(LogTest, AccessLinesWaitAndTheNextOtherLineTakesThemAlongInOrder) {
  start({1, 1 << 20, 10s});
  for (int i = 0; i < 3; ++i) log::access("request", {{"n", i}});
  // The interval is 10 s and the batch 1 MiB: nothing may be written yet.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(pipe_.text(), "");
  log::info("ready", {{"port", 8080}});
  const auto lines = pipe_.lines(4);
  ASSERT_EQ(lines.size(), 4u) << pipe_.text();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(has(lines[i], R"("level":"info","service":"logtest","instance":"i-1")"))
        << lines[i];
    EXPECT_TRUE(has(lines[i], R"("msg":"request","n":)" + std::to_string(i) + "}")) << lines[i];
  }
  EXPECT_TRUE(has(lines[3], R"("msg":"ready","port":8080})")) << lines[3];
  EXPECT_EQ(pipe_.reads(), 1);  // one write for the four
}

TEST_F(LogTest, AWarningIsWrittenAtOnce) {
  start({1, 1 << 20, 10s});
  log::access("request", {{"n", 1}});
  log::warn("redis unreachable");
  const auto lines = pipe_.lines(2, 2s);
  ASSERT_EQ(lines.size(), 2u) << pipe_.text();
  EXPECT_TRUE(has(lines[1], R"("level":"warning")")) << lines[1];
}

TEST_F(LogTest, AccessLinesAreWrittenWithinTheInterval) {
  start({1, 1 << 20, 50ms});
  log::access("request", {{"n", 1}});
  const auto started = std::chrono::steady_clock::now();
  const auto lines = pipe_.lines(1, 5s);
  ASSERT_EQ(lines.size(), 1u);
  // Loose on purpose (a loaded machine): the point is that no other line was needed.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(LogTest, AFullBatchIsWrittenBeforeTheInterval) {
  start({1, 2000, 10s});
  for (int i = 0; i < 25; ++i) log::access("request", {{"path", std::string(100, 'x')}, {"n", i}});
  // About 200 bytes a line: two or more batches of 2000 bytes, each ending with a whole line; the
  // last few lines wait (for 10 s, or the shutdown).
  const auto lines = pipe_.lines(25, 1s);
  EXPECT_GE(lines.size(), 9u);
  EXPECT_LT(lines.size(), 25u);
  EXPECT_EQ(pipe_.text().back(), '\n');
}

TEST_F(LogTest, ShutdownWritesEveryLineAndKeepsEachThreadsOrder) {
  start({1, 32 * 1024, 10s});
  const auto dropped = log::dropped_lines();
  constexpr int kThreads = 4;
  constexpr int kLines = 400;  // 1600 in all: within the queue, so none is dropped
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) log::access("request", {{"thread", t}, {"seq", i}});
    });
  }
  for (auto& thread : threads) thread.join();
  log::shutdown();
  const auto lines = pipe_.lines(kThreads * kLines);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kLines));
  std::vector<int> next(kThreads, 0);
  for (const auto& line : lines) {
    const auto at = line.find(R"("thread":)");
    ASSERT_NE(at, std::string::npos) << line;
    const int t = std::atoi(line.c_str() + at + 9);
    const int seq = std::atoi(line.c_str() + line.find(R"("seq":)") + 6);
    ASSERT_EQ(seq, next[t]) << line;
    ++next[t];
  }
  EXPECT_EQ(log::dropped_lines(), dropped);
}

TEST_F(LogTest, NothingIsWrittenAfterShutdownAndInitAgainWorks) {
  start({1, 1 << 20, 10s});
  log::shutdown();
  log::access("request", {{"n", 1}});
  log::info("after");
  EXPECT_FALSE(log::enabled(LogLevel::Info));
  start({1, 1 << 20, 10s});
  EXPECT_TRUE(log::enabled(LogLevel::Info));
  EXPECT_FALSE(log::enabled(LogLevel::Debug));
  log::access("request", {{"n", 2}});
  log::shutdown();
  const auto lines = pipe_.lines(1);
  ASSERT_EQ(lines.size(), 1u) << pipe_.text();
  EXPECT_TRUE(has(lines[0], R"("n":2)"));
}

TEST_F(LogTest, AClosedOutputCountsTheLinesAsDropped) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ::close(fds[0]);  // nobody will read: write() fails with EPIPE (SIGPIPE ignored below)
  const auto previous = std::signal(SIGPIPE, SIG_IGN);
  log::init("logtest", "i-1", LogLevel::Info, {fds[1], 1 << 20, 10s});
  const auto dropped = log::dropped_lines();
  log::access("request", {{"n", 1}});
  log::access("request", {{"n", 2}});
  log::shutdown();
  EXPECT_EQ(log::dropped_lines(), dropped + 2);
  ::close(fds[1]);
  std::signal(SIGPIPE, previous);
}

// exit() runs shutdown() (registered by init()): the access lines still waiting are written.
TEST(LogExitTest, ExitWritesTheWaitingAccessLines) {
  GTEST_FLAG_SET(death_test_style, "fast");
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  EXPECT_EXIT(
      {
        log::init("logtest", "i-1", LogLevel::Info, {fds[1], 1 << 20, 10s});
        for (int i = 0; i < 5; ++i) log::access("request", {{"n", i}});
        std::exit(3);
      },
      ::testing::ExitedWithCode(3), "");
  ::close(fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, n);
  ::close(fds[0]);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 5) << text;
  EXPECT_TRUE(has(text, R"("n":4})")) << text;
}

}  // namespace
}  // namespace kurz::platform
