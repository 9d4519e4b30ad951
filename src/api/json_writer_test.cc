#include "api/json_writer.h"

#include <gtest/gtest.h>

namespace waggle {
namespace {

TEST(JsonWriter, NestedContainersAndCommas) {
  JsonWriter w;
  w.BeginObject().Key("a").Int(-1).Key("b").BeginArray().Bool(true).Null().Double(1.5).EndArray();
  w.Key("c").BeginObject().EndObject().Key("d").Uint(18446744073709551615ull).EndObject();
  EXPECT_EQ(w.str(), R"({"a":-1,"b":[true,null,1.5],"c":{},"d":18446744073709551615})");
}

TEST(JsonWriter, EscapesAndSanitizesStrings) {
  std::string out;
  AppendJsonString(std::string("q\"b\\n\n\x01\t\xc3\xa9", 10), &out);
  EXPECT_EQ(out, "\"q\\\"b\\\\n\\n\\u0001\\t\xc3\xa9\"");
  out.clear();
  AppendJsonString("bad \xff\xc3 end", &out);  // invalid UTF-8 → U+FFFD
  EXPECT_EQ(out, "\"bad \xef\xbf\xbd\xef\xbf\xbd end\"");
}

TEST(JsonWriter, NonFiniteIsNull) {
  JsonWriter w;
  w.BeginArray().Double(1.0 / 0.0).EndArray();
  EXPECT_EQ(w.str(), "[null]");
  EXPECT_EQ(JsonError("boom \"x\""), R"({"error":"boom \"x\""})");
}

}  // namespace
}  // namespace waggle
