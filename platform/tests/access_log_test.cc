// Which requests get an access line (access_log.h) and how the three settings are read.
#include "access_log.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "kurz/platform/config.h"
#include "kurz/platform/server.h"

namespace kurz::platform {
namespace {

using namespace std::chrono_literals;
using Reason = AccessLogSampler::Reason;

// A draw that must not happen: the decision was already made without one.
std::uint64_t no_draw() {
  ADD_FAILURE() << "drew a random number for a request that needs none";
  return 0;
}

TEST(AccessLogSamplerTest, ErrorsAreFiveHundredsAndEveryFourHundredButNotFoundAndGone) {
  for (const int status : {400, 401, 403, 405, 408, 409, 413, 415, 429, 431, 499, 500, 501, 503}) {
    EXPECT_TRUE(AccessLogSampler::is_error(status)) << status;
  }
  for (const int status : {200, 201, 204, 301, 302, 304, 404, 410}) {
    EXPECT_FALSE(AccessLogSampler::is_error(status)) << status;
  }
}

TEST(AccessLogSamplerTest, ErrorsAndSlowRequestsAlwaysNothingElseAtShareZero) {
  const AccessLogSampler sampler(true, 0.0, 100ms);
  EXPECT_EQ(sampler.decide(500, 0.001, no_draw), Reason::Error);
  EXPECT_EQ(sampler.decide(429, 0.001, no_draw), Reason::Error);
  EXPECT_EQ(sampler.decide(400, 5.0, no_draw), Reason::Error);  // an error first, however slow
  EXPECT_EQ(sampler.decide(302, 0.100, no_draw), Reason::Slow);
  EXPECT_EQ(sampler.decide(404, 0.250, no_draw), Reason::Slow);
  EXPECT_EQ(sampler.decide(302, 0.0999, no_draw), Reason::None);
  EXPECT_EQ(sampler.decide(404, 0.001, no_draw), Reason::None);
  EXPECT_EQ(sampler.decide(410, 0.001, no_draw), Reason::None);
  EXPECT_EQ(sampler.decide(200, 0.0, no_draw), Reason::None);
}

TEST(AccessLogSamplerTest, ShareOneWritesEveryRequestWithoutADraw) {
  const AccessLogSampler sampler(true, 1.0, 100ms);
  EXPECT_EQ(sampler.decide(302, 0.0, no_draw), Reason::Sample);
  EXPECT_EQ(sampler.decide(404, 0.0, no_draw), Reason::Sample);
  EXPECT_EQ(sampler.decide(503, 0.0, no_draw), Reason::Error);
}

TEST(AccessLogSamplerTest, DisabledWritesNothingNotEvenErrors) {
  const AccessLogSampler sampler(false, 1.0, 0ms);
  EXPECT_EQ(sampler.decide(500, 10.0, no_draw), Reason::None);
  EXPECT_EQ(sampler.decide(200, 10.0, no_draw), Reason::None);
}

TEST(AccessLogSamplerTest, SlowZeroCountsEveryRequestAsSlow) {
  const AccessLogSampler sampler(true, 0.0, 0ms);
  EXPECT_EQ(sampler.decide(302, 0.0, no_draw), Reason::Slow);
}

TEST(AccessLogSamplerTest, TheDrawIsComparedWithTheShareOfTwoToTheSixtyFour) {
  const AccessLogSampler half(true, 0.5, 100ms);
  EXPECT_EQ(half.decide(302, 0.0, [] { return std::uint64_t{0}; }), Reason::Sample);
  EXPECT_EQ(half.decide(302, 0.0, [] { return (std::uint64_t{1} << 63) - 1; }), Reason::Sample);
  EXPECT_EQ(half.decide(302, 0.0, [] { return std::uint64_t{1} << 63; }), Reason::None);
  const AccessLogSampler almost_all(true, 0.999999, 100ms);
  EXPECT_EQ(almost_all.decide(302, 0.0, [] { return ~std::uint64_t{0}; }), Reason::None);
  const AccessLogSampler tiny(true, 1e-18, 100ms);  // 18 in 2^64: still above zero
  EXPECT_EQ(tiny.decide(302, 0.0, [] { return std::uint64_t{0}; }), Reason::Sample);
}

// Deterministic: a fixed seed, so the counts are the same on every run; the bounds are those a
// fair generator keeps (about 5 standard deviations).
TEST(AccessLogSamplerTest, TheShareIsKeptOverManyRequests) {
  for (const double share : {0.01, 0.1, 0.5}) {
    const AccessLogSampler sampler(true, share, 100ms);
    std::uint64_t state = 42;
    const int n = 200000;
    int sampled = 0;
    for (int i = 0; i < n; ++i) {
      sampled += sampler.decide(302, 0.001, [&] { return splitmix64(state); }) == Reason::Sample;
    }
    const double expected = share * n;
    const double spread = 5 * std::sqrt(n * share * (1 - share));
    EXPECT_NEAR(sampled, expected, spread) << share;
  }
}

TEST(AccessLogSamplerTest, EachThreadHasItsOwnGenerator) {
  std::set<std::uint64_t> first_draws;
  std::mutex mutex;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      const auto draw = thread_random();
      std::lock_guard lock(mutex);
      first_draws.insert(draw);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(first_draws.size(), 4u);  // equal by chance once in 2^61
  EXPECT_NE(thread_random(), thread_random());
}

EnvLookup env_of(const std::map<std::string, std::string>& values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(AccessLogConfigTest, DefaultsAreErrorsSlowAndOnePercent) {
  EnvReader env(env_of({}));
  const auto config = load_service_config("redirect", env);
  env.finish();
  EXPECT_TRUE(config.access_log);
  EXPECT_DOUBLE_EQ(config.access_log_sample, 0.01);
  EXPECT_EQ(config.access_log_slow, 100ms);
  const auto options = ServerOptions::from(config, "3");
  EXPECT_DOUBLE_EQ(options.access_log_sample, 0.01);
  EXPECT_EQ(options.access_log_slow, 100ms);
}

TEST(AccessLogConfigTest, ValidValues) {
  const std::map<std::string, double> shares = {{"1", 1.0},      {"0", 0.0},    {"0.5", 0.5},
                                                {"1e-3", 0.001}, {".25", 0.25}, {"1.0", 1.0}};
  for (const auto& [text, share] : shares) {
    EnvReader env(env_of({{"ACCESS_LOG_SAMPLE", text}, {"ACCESS_LOG_SLOW_MS", "250"}}));
    const auto config = load_service_config("redirect", env);
    EXPECT_NO_THROW(env.finish()) << text;
    EXPECT_DOUBLE_EQ(config.access_log_sample, share) << text;
    EXPECT_EQ(config.access_log_slow, 250ms);
  }
}

TEST(AccessLogConfigTest, InvalidValuesAreNamed) {
  for (const char* text : {"-0.1", "1.5", "abc", "nan", "inf", "0.5x", "1%", " 0.1", "1/100"}) {
    EnvReader env(env_of({{"ACCESS_LOG_SAMPLE", text}}));
    load_service_config("redirect", env);
    try {
      env.finish();
      ADD_FAILURE() << "ACCESS_LOG_SAMPLE=" << text << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("ACCESS_LOG_SAMPLE=\"" + std::string(text) + "\""),
                std::string::npos)
          << e.what();
    }
  }
  for (const char* text : {"-1", "fast", "600001", "1.5"}) {
    EnvReader env(env_of({{"ACCESS_LOG_SLOW_MS", text}}));
    load_service_config("redirect", env);
    EXPECT_THROW(env.finish(), ConfigError) << text;
  }
}

}  // namespace
}  // namespace kurz::platform
