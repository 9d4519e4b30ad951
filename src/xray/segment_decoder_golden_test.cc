// DecodeSegmentDocument on a corpus of varied and mutated documents (testdata/
// segment_documents.txt, one per line, made by testdata/gen_segment_documents.py), compared
// with the recorded output in testdata/segment_documents.golden: per document, the error
// message or the decoded facts, and a hash of every row with its attributes. Keeps the
// decoder's output exact across rewrites. WAGGLE_UPDATE_GOLDEN=1 rewrites the golden file.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "xray/segment_document.h"

namespace waggle::xray {
namespace {

const std::string kDir = WAGGLE_XRAY_TESTDATA_DIR;

std::string Hex(const uint8_t* b, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += kDigits[b[i] >> 4];
    s += kDigits[b[i] & 15];
  }
  return s;
}

// Every fact of the rows appended from `first`, one line per row and attribute.
std::string Render(const SpanBatch& batch, size_t first) {
  std::ostringstream out;
  char num[64];
  for (size_t r = first; r < batch.rows.size(); ++r) {
    const SpanRow& row = batch.rows[r];
    out << "row " << static_cast<int>(row.row_kind) << " " << Hex(row.trace_id.data(), 16) << " "
        << Hex(row.span_id.data(), 8) << " " << Hex(row.parent_span_id.data(), 8) << " "
        << row.start_ns << " " << row.end_ns << " [" << row.name << "] [" << row.service_name
        << "] " << static_cast<int>(row.kind) << " " << static_cast<int>(row.status_code) << " ["
        << row.status_message << "] [" << row.parent_name << "]\n";
    for (uint32_t a = row.attrs.begin; a < row.attrs.end; ++a) {
      const AttrView& v = batch.attrs[a];
      out << "  " << v.key << " " << static_cast<int>(v.type) << " ";
      switch (v.type) {
        case ValueType::kString: out << "[" << v.str << "]"; break;
        case ValueType::kInt: out << v.i; break;
        case ValueType::kDouble:
          std::snprintf(num, sizeof num, "%.17g", v.d);
          out << num;
          break;
        case ValueType::kBool: out << v.b; break;
        default: out << "?"; break;
      }
      out << "\n";
    }
  }
  return out.str();
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

// One line per document: the error, or the DocumentInfo and the rows' hash.
std::string Summary(std::string_view document, std::string* rows_out) {
  SpanBatch batch;
  StatusOr<DocumentInfo> info = DecodeSegmentDocument(document, &batch);
  if (!info.ok()) {
    EXPECT_TRUE(batch.rows.empty()) << document.substr(0, 200);
    EXPECT_TRUE(batch.attrs.empty()) << document.substr(0, 200);
    return "error " + std::string(info.status().message());
  }
  *rows_out = Render(batch, 0);
  char hash[32];
  std::snprintf(hash, sizeof hash, "%016" PRIx64, Fnv1a(*rows_out));
  return "ok " + Hex(info->trace_id.data(), 16) + " " + Hex(info->id.data(), 8) + " " +
         Hex(info->parent_id.data(), 8) + " sub=" + std::to_string(info->is_subsegment) +
         " in_progress=" + std::to_string(info->in_progress) +
         " rows=" + std::to_string(info->rows) + " attrs=" + std::to_string(batch.attrs.size()) +
         " hash=" + hash;
}

TEST(SegmentDecoderGolden, CorpusDecodesAsRecorded) {
  std::ifstream corpus(kDir + "/segment_documents.txt");
  ASSERT_TRUE(corpus) << kDir;
  std::vector<std::string> actual;
  std::vector<std::string> rows;
  for (std::string line; std::getline(corpus, line);) {
    rows.emplace_back();
    actual.push_back(Summary(line, &rows.back()));
  }
  const std::string golden_path = kDir + "/segment_documents.golden";
  if (std::getenv("WAGGLE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream out(golden_path);
    for (const std::string& s : actual) out << s << "\n";
    GTEST_SKIP() << "rewrote " << golden_path;
  }
  std::ifstream golden(golden_path);
  ASSERT_TRUE(golden) << golden_path;
  std::vector<std::string> expected;
  for (std::string line; std::getline(golden, line);) expected.push_back(line);
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(expected[i], actual[i]) << "document " << i + 1 << " decodes to:\n" << rows[i];
  }
}

}  // namespace
}  // namespace waggle::xray
