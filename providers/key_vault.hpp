#pragma once

#include <caf/expected.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace orchflow {

/// A provider key encrypted at rest (AES-256-GCM).
struct sealed_secret {
  /// Which master key encrypted it (rotation: old keys stay readable).
  std::string key_id;
  /// The 96-bit nonce, base64; fresh for every encryption.
  std::string nonce;
  /// Ciphertext followed by the 16-byte tag, base64.
  std::string ciphertext;
};

/// The master keys and AES-256-GCM through OpenSSL's EVP interface.
///
/// The primary key comes from `ENCRYPTION_KEY` (base64 of 32 bytes, as
/// `python -c "import secrets,base64; print(base64.b64encode(
/// secrets.token_bytes(32)).decode())"` prints it); without it, from
/// `<data dir>/master.key`, created with mode 0600 on first start. Keys in
/// `ENCRYPTION_KEYS_PREVIOUS` (comma-separated) still decrypt, so the master
/// key can be rotated. Thread-safe after construction; never logs a key.
class key_vault {
public:
  /// Loads the keys. Fails with a sentence on a malformed key.
  [[nodiscard]] static caf::expected<std::unique_ptr<key_vault>>
  open(const std::string& data_dir);

  /// Builds a vault from raw 32-byte keys (tests); the first is primary.
  static std::unique_ptr<key_vault> from_keys(std::vector<std::string> keys);

  /// Encrypts `plaintext`, binding `aad` (account and provider ids).
  [[nodiscard]] caf::expected<sealed_secret> seal(std::string_view plaintext,
                                                  std::string_view aad) const;

  /// Decrypts; fails if the key id is unknown, the tag does not verify, or
  /// `aad` differs from the one sealed with.
  [[nodiscard]] caf::expected<std::string> unseal(const sealed_secret& s,
                                                  std::string_view aad) const;

  /// True if a key with this id is loaded.
  bool has_key(std::string_view key_id) const;

  /// The id of the key new secrets are sealed with.
  const std::string& primary_key_id() const;

  /// True if the primary key was created by this start (no ENCRYPTION_KEY).
  bool created_key_file() const { return created_; }

private:
  key_vault() = default;
  std::map<std::string, std::string, std::less<>> keys_; // id -> raw key
  std::string primary_;
  bool created_ = false;
};

/// Base64 (standard alphabet, padded).
std::string base64_encode(std::string_view bytes);

/// Decodes base64; nullopt-like empty result plus `ok=false` on bad input.
std::string base64_decode(std::string_view text, bool& ok);

} // namespace orchflow
