// TableSource: a ChunkSource over rows held in memory, for tests of the executor and of
// anything that feeds it. Rows are split into chunks of `chunk_rows`.
//
// Thread-safety: PlanScan's tasks may run concurrently (they only read the table).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "query/chunk.h"

namespace waggle::query::testing {

struct TableRow {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::map<std::string, Value> columns;  // absent = null
};

class TableChunk final : public Chunk {
 public:
  // With `dictionary`, string columns also carry dictionary codes (ColumnView::codes).
  TableChunk(const std::vector<TableRow>& rows, size_t begin, size_t end, bool dictionary = false)
      : rows_(rows), begin_(begin), end_(end), dictionary_(dictionary) {
    for (size_t r = begin; r < end; ++r) {
      starts_.push_back(rows[r].start_ns);
      ends_.push_back(rows[r].end_ns);
    }
  }
  size_t rows() const override { return end_ - begin_; }
  StatusOr<const int64_t*> start_ns() override { return starts_.data(); }
  StatusOr<const int64_t*> end_ns() override { return ends_.data(); }
  StatusOr<ColumnView> Column(std::string_view name) override {
    auto buffer = std::make_unique<ColumnBuffer>(rows());
    for (size_t r = begin_; r < end_; ++r) {
      auto it = rows_[r].columns.find(std::string(name));
      if (it == rows_[r].columns.end()) continue;
      const Value& v = it->second;
      size_t i = r - begin_;
      switch (v.kind) {
        case Value::Kind::kString: buffer->SetString(i, v.str); break;
        case Value::Kind::kInt: buffer->SetInt(i, v.i); break;
        case Value::Kind::kDouble: buffer->SetDouble(i, v.d); break;
        case Value::Kind::kBool: buffer->SetBool(i, v.b); break;
        case Value::Kind::kNull: break;
      }
    }
    if (dictionary_) AddDictionary(buffer.get());
    buffers_.push_back(std::move(buffer));
    return buffers_.back()->View();
  }

 private:
  void AddDictionary(ColumnBuffer* buffer) {
    const ColumnView view = buffer->View();
    auto& codes = codes_.emplace_back(rows(), 0);
    auto& dict = dicts_.emplace_back();
    std::map<std::string_view, uint32_t> code_of;
    for (size_t r = 0; r < rows(); ++r) {
      if (view.TypeAt(r) != TypeCode(ValueType::kString)) continue;
      auto [it, fresh] = code_of.try_emplace(view.strs[r], static_cast<uint32_t>(dict.size()));
      if (fresh) dict.push_back(view.strs[r]);
      codes[r] = it->second;
    }
    buffer->SetDictionary(codes.data(), dict.data(), static_cast<uint32_t>(dict.size()));
  }

  const std::vector<TableRow>& rows_;
  size_t begin_, end_;
  bool dictionary_;
  std::deque<std::vector<uint32_t>> codes_;
  std::deque<std::vector<std::string_view>> dicts_;
  std::vector<int64_t> starts_, ends_;
  std::vector<std::unique_ptr<ColumnBuffer>> buffers_;
};

class TableSource final : public ChunkSource {
 public:
  explicit TableSource(std::vector<TableRow> rows, size_t chunk_rows = 4, bool dictionary = false)
      : rows_(std::move(rows)), chunk_rows_(chunk_rows), dictionary_(dictionary) {}

  std::vector<ChunkTask> PlanScan(const ScanPlan& plan) override {
    last_plan_ = plan;
    std::vector<ChunkTask> tasks;
    for (size_t b = 0; b < rows_.size(); b += chunk_rows_) {
      size_t e = std::min(rows_.size(), b + chunk_rows_);
      tasks.push_back([this, b, e](const ChunkConsumer& consume) {
        TableChunk chunk(rows_, b, e, dictionary_);
        return consume(chunk);
      });
    }
    return tasks;
  }
  const ScanPlan& last_plan() const { return last_plan_; }

 private:
  std::vector<TableRow> rows_;
  size_t chunk_rows_;
  bool dictionary_;
  ScanPlan last_plan_;
};

}  // namespace waggle::query::testing
