#include "providers/key_vault.hpp"

#include "events/error.hpp"
#include "events/ids.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace orchflow {

namespace {

constexpr size_t key_size = 32;
constexpr size_t nonce_size = 12;
constexpr size_t tag_size = 16;

std::string key_id_of(std::string_view key) {
  return sha256_hex("orchflow-master-key:" + std::string{key}).substr(0, 16);
}

caf::error bad(std::string what) {
  return caf::make_error(ec::invalid_argument, std::move(what));
}

caf::expected<std::string> decode_key(std::string_view b64, const char* where) {
  std::string trimmed{b64};
  while (!trimmed.empty()
         && std::isspace(static_cast<unsigned char>(trimmed.back())))
    trimmed.pop_back();
  bool ok = false;
  auto raw = base64_decode(trimmed, ok);
  if (!ok || raw.size() != key_size)
    return bad(std::string{where}
               + " must be the base64 encoding of exactly 32 bytes");
  return raw;
}

} // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(bytes.data()),
                           static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64_decode(std::string_view text, bool& ok) {
  ok = false;
  if (text.size() % 4 != 0)
    return {};
  std::string out(3 * text.size() / 4, '\0');
  auto n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(text.data()),
                           static_cast<int>(text.size()));
  if (n < 0)
    return {};
  // EVP_DecodeBlock keeps the padding's zero bytes.
  size_t pad = 0;
  if (!text.empty() && text.back() == '=')
    ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=')
    ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  ok = true;
  return out;
}

caf::expected<std::unique_ptr<key_vault>>
key_vault::open(const std::string& data_dir) {
  std::unique_ptr<key_vault> v{new key_vault};
  if (auto* env = std::getenv("ENCRYPTION_KEY"); env && *env) {
    auto raw = decode_key(env, "ENCRYPTION_KEY");
    if (!raw)
      return std::move(raw.error());
    v->primary_ = key_id_of(*raw);
    v->keys_[v->primary_] = std::move(*raw);
  } else {
    auto path = data_dir + "/master.key";
    std::ifstream in{path};
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      auto raw = decode_key(ss.str(), path.c_str());
      if (!raw)
        return std::move(raw.error());
      v->primary_ = key_id_of(*raw);
      v->keys_[v->primary_] = std::move(*raw);
    } else {
      std::string raw(key_size, '\0');
      if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()),
                     static_cast<int>(key_size))
          != 1)
        return bad("the system random generator failed");
      auto text = base64_encode(raw) + "\n";
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
      if (fd < 0
          || ::write(fd, text.data(), text.size())
                 != static_cast<ssize_t>(text.size())
          || ::fsync(fd) != 0) {
        if (fd >= 0)
          ::close(fd);
        return bad("cannot create the master key file " + path);
      }
      ::close(fd);
      v->primary_ = key_id_of(raw);
      v->keys_[v->primary_] = std::move(raw);
      v->created_ = true;
    }
  }
  if (auto* prev = std::getenv("ENCRYPTION_KEYS_PREVIOUS"); prev && *prev) {
    std::string all = prev;
    size_t pos = 0;
    while (pos <= all.size()) {
      auto comma = all.find(',', pos);
      auto item = all.substr(pos, comma == std::string::npos ? std::string::npos
                                                             : comma - pos);
      if (!item.empty()) {
        auto raw = decode_key(item, "every ENCRYPTION_KEYS_PREVIOUS entry");
        if (!raw)
          return std::move(raw.error());
        v->keys_[key_id_of(*raw)] = std::move(*raw);
      }
      if (comma == std::string::npos)
        break;
      pos = comma + 1;
    }
  }
  return v;
}

std::unique_ptr<key_vault> key_vault::from_keys(std::vector<std::string> keys) {
  std::unique_ptr<key_vault> v{new key_vault};
  for (auto& k : keys) {
    auto id = key_id_of(k);
    if (v->primary_.empty())
      v->primary_ = id;
    v->keys_[id] = std::move(k);
  }
  return v;
}

caf::expected<sealed_secret> key_vault::seal(std::string_view plaintext,
                                             std::string_view aad) const {
  auto& key = keys_.at(primary_);
  unsigned char nonce[nonce_size];
  if (RAND_bytes(nonce, nonce_size) != 1)
    return bad("the system random generator failed");
  std::string out(plaintext.size() + tag_size, '\0');
  auto* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  int total = 0;
  bool ok
      = ctx
        && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr)
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr)
        && EVP_EncryptInit_ex(
            ctx, nullptr, nullptr,
            reinterpret_cast<const unsigned char*>(key.data()), nonce)
        && EVP_EncryptUpdate(ctx, nullptr, &len,
                             reinterpret_cast<const unsigned char*>(aad.data()),
                             static_cast<int>(aad.size()))
        && EVP_EncryptUpdate(
            ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
            reinterpret_cast<const unsigned char*>(plaintext.data()),
            static_cast<int>(plaintext.size()));
  total = len;
  ok = ok
       && EVP_EncryptFinal_ex(
           ctx, reinterpret_cast<unsigned char*>(out.data()) + total, &len);
  total += len;
  ok = ok
       && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, tag_size,
                              out.data() + total);
  EVP_CIPHER_CTX_free(ctx);
  if (!ok)
    return bad("encrypting the provider key failed");
  out.resize(static_cast<size_t>(total) + tag_size);
  sealed_secret s;
  s.key_id = primary_;
  s.nonce = base64_encode({reinterpret_cast<char*>(nonce), nonce_size});
  s.ciphertext = base64_encode(out);
  OPENSSL_cleanse(out.data(), out.size());
  return s;
}

caf::expected<std::string> key_vault::unseal(const sealed_secret& s,
                                             std::string_view aad) const {
  auto i = keys_.find(s.key_id);
  if (i == keys_.end())
    return caf::make_error(ec::unavailable,
                           "the master key " + s.key_id
                               + " that encrypted this provider key is not "
                                 "loaded (set ENCRYPTION_KEY or "
                                 "ENCRYPTION_KEYS_PREVIOUS)");
  bool ok1 = false;
  bool ok2 = false;
  auto nonce = base64_decode(s.nonce, ok1);
  auto data = base64_decode(s.ciphertext, ok2);
  if (!ok1 || !ok2 || nonce.size() != nonce_size || data.size() < tag_size)
    return caf::make_error(ec::corrupt_record,
                           "the stored provider key is damaged");
  auto body = data.size() - tag_size;
  std::string out(body, '\0');
  auto* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  int total = 0;
  auto& key = i->second;
  bool ok
      = ctx
        && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr)
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr)
        && EVP_DecryptInit_ex(
            ctx, nullptr, nullptr,
            reinterpret_cast<const unsigned char*>(key.data()),
            reinterpret_cast<const unsigned char*>(nonce.data()))
        && EVP_DecryptUpdate(ctx, nullptr, &len,
                             reinterpret_cast<const unsigned char*>(aad.data()),
                             static_cast<int>(aad.size()))
        && EVP_DecryptUpdate(
            ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
            reinterpret_cast<const unsigned char*>(data.data()),
            static_cast<int>(body));
  total = len;
  ok = ok
       && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, tag_size,
                              data.data() + body)
       && EVP_DecryptFinal_ex(
              ctx, reinterpret_cast<unsigned char*>(out.data()) + total, &len)
              > 0;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    return caf::make_error(ec::corrupt_record,
                           "the stored provider key does not decrypt (wrong "
                           "master key, or the record was altered)");
  }
  return out;
}

bool key_vault::has_key(std::string_view key_id) const {
  return keys_.find(key_id) != keys_.end();
}

const std::string& key_vault::primary_key_id() const {
  return primary_;
}

} // namespace orchflow
