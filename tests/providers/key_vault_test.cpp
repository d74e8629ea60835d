#include "providers/key_vault.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <sys/stat.h>

#include "support/temp_dir.hpp"

namespace orchflow {
namespace {

std::string key_of(char c) {
  return std::string(32, c);
}

TEST(KeyVaultTest, SealUnsealBindsTheAssociatedData) {
  auto v = key_vault::from_keys({key_of('a')});
  auto s = v->seal("sk-secret", "acct_1|prv_1");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->key_id, v->primary_key_id());
  EXPECT_EQ(s->ciphertext.find("sk-secret"), std::string::npos);
  auto back = v->unseal(*s, "acct_1|prv_1");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, "sk-secret");
  EXPECT_FALSE(v->unseal(*s, "acct_2|prv_1")); // moved to another record
}

TEST(KeyVaultTest, NoncesNeverRepeatAndFlipsFail) {
  auto v = key_vault::from_keys({key_of('a')});
  std::set<std::string> nonces;
  for (int i = 0; i < 10000; ++i)
    nonces.insert(v->seal("x", "aad")->nonce);
  EXPECT_EQ(nonces.size(), 10000u);
  auto s = *v->seal("provider key", "aad");
  bool ok = false;
  auto raw = base64_decode(s.ciphertext, ok);
  ASSERT_TRUE(ok);
  for (size_t i = 0; i < raw.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      auto flipped = raw;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      auto t = s;
      t.ciphertext = base64_encode(flipped);
      EXPECT_FALSE(v->unseal(t, "aad")) << i << ":" << bit;
    }
}

TEST(KeyVaultTest, RotationKeepsOldSecretsReadable) {
  auto old_vault = key_vault::from_keys({key_of('a')});
  auto sealed = *old_vault->seal("old secret", "aad");
  auto rotated = key_vault::from_keys({key_of('b'), key_of('a')});
  EXPECT_NE(rotated->primary_key_id(), old_vault->primary_key_id());
  EXPECT_EQ(*rotated->unseal(sealed, "aad"), "old secret");
  auto fresh = *rotated->seal("new", "aad");
  EXPECT_EQ(fresh.key_id, rotated->primary_key_id());
  auto wrong = key_vault::from_keys({key_of('c')});
  auto err = wrong->unseal(sealed, "aad");
  ASSERT_FALSE(err);
  EXPECT_FALSE(wrong->has_key(sealed.key_id));
}

TEST(KeyVaultTest, CreatesAPrivateKeyFileWithoutEncryptionKey) {
  test::temp_dir dir;
  ::unsetenv("ENCRYPTION_KEY");
  auto v = key_vault::open(dir.str());
  ASSERT_TRUE(v);
  EXPECT_TRUE((*v)->created_key_file());
  struct stat st {};
  ASSERT_EQ(::stat((dir.str() + "/master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto again = key_vault::open(dir.str());
  ASSERT_TRUE(again);
  EXPECT_FALSE((*again)->created_key_file());
  EXPECT_EQ((*again)->primary_key_id(), (*v)->primary_key_id());
  ::setenv("ENCRYPTION_KEY", "not base64 of 32 bytes", 1);
  EXPECT_FALSE(key_vault::open(dir.str()));
  ::setenv("ENCRYPTION_KEY", base64_encode(key_of('z')).c_str(), 1);
  auto from_env = key_vault::open(dir.str());
  ASSERT_TRUE(from_env);
  EXPECT_NE((*from_env)->primary_key_id(), (*v)->primary_key_id());
  ::unsetenv("ENCRYPTION_KEY");
}

} // namespace
} // namespace orchflow
