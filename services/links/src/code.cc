#include "kurz/links/code.h"

namespace kurz::links {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::uint64_t kBase = 62;

// Multipliers must be coprime to 62^7, i.e. odd and not divisible by 31: then x -> a*x + b
// (mod 62^7) is a bijection.
constexpr std::uint64_t kMul1 = 2'176'782'337ULL;
constexpr std::uint64_t kAdd1 = 1'296'214'441'013ULL;
constexpr std::uint64_t kMul2 = 916'132'833'421ULL;
constexpr std::uint64_t kAdd2 = 2'718'281'828'459ULL;
static_assert(kMul1 % 2 == 1 && kMul1 % 31 != 0 && kMul2 % 2 == 1 && kMul2 % 31 != 0);
static_assert(kMul1 < kCodeSpace && kMul2 < kCodeSpace && kAdd1 < kCodeSpace && kAdd2 < kCodeSpace);

// (a * x) mod kCodeSpace without 128-bit arithmetic: both operands are below 2^42, so split `a`
// into 21-bit halves to keep every intermediate product below 2^63.
std::uint64_t mul_mod(std::uint64_t a, std::uint64_t x) {
  const std::uint64_t hi = a >> 21;
  const std::uint64_t lo = a & ((1ULL << 21) - 1);
  const std::uint64_t high_part = ((hi * x) % kCodeSpace << 21) % kCodeSpace;
  return (high_part + lo * x % kCodeSpace) % kCodeSpace;
}

std::uint64_t affine(std::uint64_t x, std::uint64_t mul, std::uint64_t add) {
  return (mul_mod(mul, x) + add) % kCodeSpace;
}

// Reverses the base62 digits of x (a bijection of [0, kCodeSpace)): moves the fast-changing low
// digits of the first affine step to the top, so neighbouring ids differ in every position.
std::uint64_t reverse_digits(std::uint64_t x) {
  std::uint64_t out = 0;
  for (std::size_t i = 0; i < kCodeLength; ++i) {
    out = out * kBase + x % kBase;
    x /= kBase;
  }
  return out;
}

}  // namespace

std::string encode_code(std::uint64_t id) {
  std::uint64_t x = affine(id % kCodeSpace, kMul1, kAdd1);
  x = affine(reverse_digits(x), kMul2, kAdd2);
  std::string code(kCodeLength, '0');
  for (std::size_t i = kCodeLength; i-- > 0;) {
    code[i] = kAlphabet[x % kBase];
    x /= kBase;
  }
  return code;
}

}  // namespace kurz::links
