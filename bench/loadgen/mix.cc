#include "mix.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace kurz::load {

std::optional<Mix> Mix::parse(std::string_view text, std::string& error) {
  Mix mix;
  mix.weight.fill(0);
  std::array<bool, kKinds> seen{};
  if (text.empty() || text.back() == ',') {
    error = "--mix: expected kind=weight[,kind=weight...], got '" + std::string(text) + "'";
    return std::nullopt;
  }
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) {
      error = "--mix: expected kind=weight, got '" + std::string(item) + "'";
      return std::nullopt;
    }
    const std::string_view name = item.substr(0, equals);
    const std::string_view number = item.substr(equals + 1);
    const auto kind = std::find(kKindNames.begin(), kKindNames.end(), name);
    if (kind == kKindNames.end()) {
      error =
          "--mix: unknown kind '" + std::string(name) + "' (kinds: redirect, create, stats, qr)";
      return std::nullopt;
    }
    const auto index = static_cast<size_t>(kind - kKindNames.begin());
    int value = -1;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size() || value < 0 || value > 1000000) {
      error = "--mix: the weight of " + std::string(name) +
              " must be an integer from 0 to 1000000, got '" + std::string(number) + "'";
      return std::nullopt;
    }
    if (seen[index]) {
      error = "--mix: " + std::string(name) + " given twice";
      return std::nullopt;
    }
    seen[index] = true;
    mix.weight[index] = value;
  }
  if (mix.total() == 0) {
    error = "--mix: at least one weight must be positive";
    return std::nullopt;
  }
  return mix;
}

std::string Mix::to_string() const {
  std::string out;
  for (int i = 0; i < kKinds; ++i) {
    if (i > 0) out += ',';
    out += std::string(kKindNames[static_cast<size_t>(i)]) + "=" +
           std::to_string(weight[static_cast<size_t>(i)]);
  }
  return out;
}

int Mix::total() const {
  int sum = 0;
  for (const int w : weight) sum += w;
  return sum;
}

double Mix::share(Kind kind) const {
  return total() == 0 ? 0 : weight[static_cast<size_t>(kind)] / static_cast<double>(total());
}

KindPicker::KindPicker(const Mix& mix) {
  for (size_t i = 0; i < cumulative_.size(); ++i) {
    total_ += mix.weight[i];
    cumulative_[i] = total_;
  }
}

Kind KindPicker::pick(std::mt19937_64& random) const {
  const int draw = static_cast<int>(random() % static_cast<uint64_t>(total_));
  for (size_t i = 0; i < cumulative_.size(); ++i) {
    if (draw < cumulative_[i]) return static_cast<Kind>(i);
  }
  return Kind::kRedirect;
}

ZipfPicker::ZipfPicker(size_t n, double s) : cdf_(std::max<size_t>(n, 1)) {
  double sum = 0;
  for (size_t r = 0; r < cdf_.size(); ++r) {
    sum += 1.0 / std::pow(static_cast<double>(r + 1), s);
    cdf_[r] = sum;
  }
  for (double& c : cdf_) c /= sum;
  cdf_.back() = 1.0;
}

size_t ZipfPicker::pick(std::mt19937_64& random) const {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(random);
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return std::min(static_cast<size_t>(it - cdf_.begin()), cdf_.size() - 1);
}

double ZipfPicker::probability(size_t rank) const {
  if (rank >= cdf_.size()) return 0;
  return rank == 0 ? cdf_[0] : cdf_[rank] - cdf_[rank - 1];
}

}  // namespace kurz::load
