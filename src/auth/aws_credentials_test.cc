#include "auth/aws_credentials.h"

#include <gtest/gtest.h>

namespace waggle {
namespace {

TEST(AwsCredentials, ParsesIdColonSecret) {
  StatusOr<AwsCredential> c = ParseAwsCredential(" AKIDTEST:abc/def+ghi:jkl ");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKIDTEST");
  EXPECT_EQ(c->secret_access_key, "abc/def+ghi:jkl");  // the secret is all after the first ':'
}

TEST(AwsCredentials, RejectsMalformedPairsWithoutEchoingTheSecret) {
  for (const char* bad : {"", "AKID", ":SeKr", "AKID:", "AK ID:SeKr", "AKID:SeKr et",
                          "AKID:SeKr\x01", "AKID:SeKr,et"}) {
    StatusOr<AwsCredential> c = ParseAwsCredential(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(c.status()));
    EXPECT_EQ(std::string(c.status().message()).find("SeKr"), std::string::npos) << c.status();
  }
  EXPECT_FALSE(ParseAwsCredential("AKID:" + std::string(300, 'x')).ok());
}

TEST(AwsCredentials, ParsesSharedCredentialsFile) {
  StatusOr<std::vector<AwsCredential>> creds = ParseSharedCredentialsFile(
      "# comment\n"
      "[default]\n"
      "aws_access_key_id = AKIDDEFAULT\n"
      "aws_secret_access_key=secret1\n"
      "region = us-east-1\n"
      "\n"
      "; another comment\n"
      "[profile ci]\n"
      "  aws_secret_access_key = secret2  \n"
      "  aws_access_key_id = AKIDCI\n"
      "aws_session_token = ignored\n"
      "[config-only]\n"
      "region = eu-west-1\n",
      "credentials");
  ASSERT_TRUE(creds.ok()) << creds.status();
  EXPECT_EQ(*creds,
            (std::vector<AwsCredential>{{"AKIDDEFAULT", "secret1"}, {"AKIDCI", "secret2"}}));
}

TEST(AwsCredentials, SharedCredentialsFileErrorsNameTheLine) {
  auto error = [](std::string_view text) {
    StatusOr<std::vector<AwsCredential>> c = ParseSharedCredentialsFile(text, "creds");
    EXPECT_FALSE(c.ok()) << text;
    return std::string(c.status().message());
  };
  EXPECT_NE(error("[a]\naws_access_key_id = X\n").find("creds:1: profile [a] needs both"),
            std::string::npos);
  EXPECT_NE(error("[a]\njunk\n").find("creds:2: expected"), std::string::npos);
  EXPECT_NE(error("[a\n").find("creds:1: unterminated"), std::string::npos);
  EXPECT_NE(error("").find("no profile"), std::string::npos);
  EXPECT_NE(error("[a]\nregion = x\n").find("no profile"), std::string::npos);
}

}  // namespace
}  // namespace waggle
