#pragma once
// Which answered requests get an access line: every error and every slow request, and a share of
// the rest (ACCESS_LOG, ACCESS_LOG_SAMPLE, ACCESS_LOG_SLOW_MS; README, configuration).
//
// Errors are 5xx and every 4xx except 404 and 410: those two are a URL shortener's normal answers
// (a mistyped or expired link, a scanner walking paths) and are sampled like a 302, so that a
// flood of them costs what a flood of redirects costs. A 400, 405, 408, 409, 413, 415, 429 or 431
// says the client or kurz did something worth reading, and is always written.
//
// The decision costs a few instructions and no lock: a compare on the status, one on the
// duration, and one draw of a per-thread generator (splitmix64) against a precomputed threshold.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>

namespace kurz::platform {

class AccessLogSampler {
 public:
  enum class Reason : std::uint8_t { None, Error, Slow, Sample };

  // `share` in [0, 1]: the part of the other requests written (1: all of them, 0: none).
  AccessLogSampler(bool enabled, double share, std::chrono::milliseconds slow)
      : enabled_(enabled),
        all_(share >= 1.0),
        threshold_(share > 0.0 && share < 1.0 ? static_cast<std::uint64_t>(std::ldexp(share, 64))
                                              : 0),
        slow_seconds_(std::chrono::duration<double>(slow).count()) {}

  static constexpr bool is_error(int status) {
    return status >= 500 || (status >= 400 && status != 404 && status != 410);
  }

  // `draw()`: 64 uniformly distributed bits (thread_random), called only when the request is
  // neither an error nor slow and the share is strictly between 0 and 1.
  template <typename Draw>
  Reason decide(int status, double seconds, Draw&& draw) const {
    if (!enabled_) return Reason::None;
    if (is_error(status)) return Reason::Error;
    if (seconds >= slow_seconds_) return Reason::Slow;
    if (all_) return Reason::Sample;
    return threshold_ != 0 && draw() < threshold_ ? Reason::Sample : Reason::None;
  }

  static constexpr const char* name(Reason reason) {
    switch (reason) {
      case Reason::Error:
        return "error";
      case Reason::Slow:
        return "slow";
      case Reason::Sample:
        return "sample";
      case Reason::None:
        break;
    }
    return "none";
  }

 private:
  bool enabled_;
  bool all_;
  std::uint64_t threshold_;  // share × 2^64: random < threshold with probability share
  double slow_seconds_;
};

// splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, passes BigCrush, a handful of
// instructions a draw. Plenty for sampling; not for anything secret.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A draw from this thread's generator, seeded once per thread from std::random_device.
inline std::uint64_t thread_random() {
  thread_local std::uint64_t state = 0;
  if (state == 0)
    state = (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}() ^
            0x5851F42D4C957F2Dull;
  return splitmix64(state);
}

}  // namespace kurz::platform
