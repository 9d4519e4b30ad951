#include "xray/trace_id.h"

#include <gtest/gtest.h>

namespace waggle::xray {
namespace {

TEST(TraceId, MapsXrayToW3cAndBack) {
  StatusOr<TraceId> id = ParseTraceId("1-5759e988-bd862e3fe1be46a994272793");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(ToHex(*id), "5759e988bd862e3fe1be46a994272793");
  EXPECT_EQ(FormatTraceId(*id), "1-5759e988-bd862e3fe1be46a994272793");
  // Any W3C id maps to an X-Ray id; its first four bytes need not be a time.
  TraceId w3c{};
  ASSERT_TRUE(ParseHex("4bf92f3577b34da6a3ce929d0e0e4736", &w3c));
  EXPECT_EQ(FormatTraceId(w3c), "1-4bf92f35-77b34da6a3ce929d0e0e4736");
  EXPECT_EQ(*ParseTraceId(FormatTraceId(w3c)), w3c);
  EXPECT_EQ(ToHex(*ParseTraceId("1-5759E988-BD862E3FE1BE46A994272793")),
            "5759e988bd862e3fe1be46a994272793");
}

TEST(TraceId, RejectsMalformedIds) {
  for (const char* bad : {"", "5759e988bd862e3fe1be46a994272793",
                          "2-5759e988-bd862e3fe1be46a994272793",
                          "1-5759e988-bd862e3fe1be46a99427279",
                          "1-5759e988-bd862e3fe1be46a9942727930",
                          "1-5759e98-8bd862e3fe1be46a994272793",
                          "1-5759e988xbd862e3fe1be46a994272793",
                          "1-5759e98g-bd862e3fe1be46a994272793",
                          "1-00000000-000000000000000000000000"}) {
    StatusOr<TraceId> id = ParseTraceId(bad);
    EXPECT_FALSE(id.ok()) << bad;
    if (!id.ok()) {
      EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
  EXPECT_NE(std::string(ParseTraceId("1-5759e98g-bd862e3fe1be46a994272793").status().message())
                .find("not hexadecimal"),
            std::string::npos);
}

TEST(SegmentId, ParsesSixteenHexDigits) {
  ASSERT_TRUE(ParseSegmentId("53995c3f42cd8ad8").ok());
  EXPECT_EQ(ToHex(*ParseSegmentId("53995C3F42CD8AD8")), "53995c3f42cd8ad8");
  EXPECT_FALSE(ParseSegmentId("53995c3f42cd8ad").ok());
  EXPECT_FALSE(ParseSegmentId("53995c3f42cd8ad8a").ok());
  EXPECT_FALSE(ParseSegmentId("0000000000000000").ok());
  EXPECT_FALSE(ParseSegmentId("zz995c3f42cd8ad8").ok());
}

TEST(TraceHeader, ParsesAndFormats) {
  StatusOr<TraceHeader> h = ParseTraceHeader(
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_TRUE(h->has_root);
  EXPECT_EQ(ToHex(h->root), "5759e988bd862e3fe1be46a994272793");
  EXPECT_TRUE(h->has_parent);
  EXPECT_EQ(ToHex(h->parent), "53995c3f42cd8ad8");
  EXPECT_EQ(h->sampled, TraceHeader::Sampled::kYes);
  EXPECT_EQ(FormatTraceHeader(*h),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
}

TEST(TraceHeader, KeepsUnknownKeysAndAcceptsDeferAndSpaces) {
  StatusOr<TraceHeader> h = ParseTraceHeader(
      " root = 1-5759e988-bd862e3fe1be46a994272793 ; Sampled=? ;Lineage=a87bd80c:0;Self=x");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_FALSE(h->has_parent);
  EXPECT_EQ(h->sampled, TraceHeader::Sampled::kDefer);
  ASSERT_EQ(h->extra.size(), 2u);
  EXPECT_EQ(h->extra[0].first, "Lineage");
  EXPECT_EQ(h->extra[0].second, "a87bd80c:0");
  EXPECT_EQ(FormatTraceHeader(*h),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?;Lineage=a87bd80c:0;Self=x");
  StatusOr<TraceHeader> no_root = ParseTraceHeader("Sampled=0");
  ASSERT_TRUE(no_root.ok());
  EXPECT_FALSE(no_root->has_root);
  EXPECT_EQ(no_root->sampled, TraceHeader::Sampled::kNo);
}

TEST(TraceHeader, RejectsBadValues) {
  EXPECT_FALSE(ParseTraceHeader("Root=1-zz").ok());
  EXPECT_FALSE(ParseTraceHeader("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=xyz").ok());
  EXPECT_FALSE(ParseTraceHeader("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=yes").ok());
  EXPECT_FALSE(ParseTraceHeader("garbage").ok());
}

}  // namespace
}  // namespace waggle::xray
