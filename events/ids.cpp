#include "events/ids.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace orchflow {

namespace {

constexpr char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";

void fill_random(uint8_t* buf, size_t n) {
  if (RAND_bytes(buf, static_cast<int>(n)) != 1)
    throw std::runtime_error("the system random generator failed");
}

} // namespace

std::string random_id(std::string_view prefix, size_t chars) {
  std::vector<uint8_t> buf(chars);
  fill_random(buf.data(), buf.size());
  std::string result{prefix};
  result.reserve(prefix.size() + chars);
  for (auto b : buf)
    result += alphabet[b % 32]; // 256 is a multiple of 32: no bias
  return result;
}

std::string new_api_key() {
  return random_id("orch_", 52); // 52 * 5 = 260 bits
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xf];
  }
  return out;
}

bool constant_time_equal(std::string_view x, std::string_view y) {
  return x.size() == y.size()
         && CRYPTO_memcmp(x.data(), y.data(), x.size()) == 0;
}

} // namespace orchflow
