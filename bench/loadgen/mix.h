#pragma once
// The request mix: four kinds with integer weights, and the Zipf-like popularity of the codes
// (rank r, counted from 0, is picked with probability proportional to 1 / (r + 1)^s).
#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace kurz::load {

enum class Kind { kRedirect = 0, kCreate = 1, kStats = 2, kQr = 3 };
constexpr int kKinds = 4;
constexpr std::array<const char*, kKinds> kKindNames = {"redirect", "create", "stats", "qr"};

struct Mix {
  std::array<int, kKinds> weight{90, 3, 4, 3};

  // "redirect=90,create=3,stats=4,qr=3"; kinds left out weigh 0. Empty optional and a message
  // in `error` on bad input.
  static std::optional<Mix> parse(std::string_view text, std::string& error);
  std::string to_string() const;
  int total() const;
  double share(Kind kind) const;  // weight / total
};

// Picks kinds by weight (one uniform draw each).
class KindPicker {
 public:
  explicit KindPicker(const Mix& mix);
  Kind pick(std::mt19937_64& random) const;

 private:
  std::array<int, kKinds> cumulative_{};
  int total_ = 0;
};

// Picks a rank in [0, n) with P(r) proportional to 1 / (r + 1)^s (binary search on the CDF).
class ZipfPicker {
 public:
  ZipfPicker(size_t n, double s);
  size_t pick(std::mt19937_64& random) const;
  double probability(size_t rank) const;
  size_t size() const { return cdf_.size(); }

 private:
  std::vector<double> cdf_;
};

}  // namespace kurz::load
