// The order a segment stores a head's rows in: by (service.name bytes, trace id bytes, start
// time, insertion order). A service's rows are one range; within it each trace's rows are one
// run (the rows of one service and trace). The trace index numbers the distinct trace ids
// ascending and lists each trace's runs.
//
// Cost: the head already chains each trace's rows, so only the distinct trace ids are sorted
// (about one per eight rows); each trace's few rows are ordered among themselves and placed
// into their service's range. No comparison sort over all rows.
//
// Thread-safety: reads `head`, which must not be mutated meanwhile.
#pragma once

#include <cstdint>
#include <vector>

#include "store/internal/head.h"
#include "store/internal/segment_format.h"

namespace waggle::store_internal {

struct SegmentOrder {
  std::vector<uint32_t> perm;        // sorted position -> head row
  std::vector<uint32_t> run_of_pos;  // sorted position -> its run (0, 1, ... in segment order)
  std::vector<uint32_t> run_begin;   // sorted position of each run's first row, then the rows
  // Runs grouped by trace: the runs of the trace with table position d (ids ascending) are
  // trace_runs[trace_runs_begin[d] .. trace_runs_begin[d + 1]), ascending.
  std::vector<uint32_t> trace_runs_begin;
  std::vector<uint32_t> trace_runs;
  std::vector<uint32_t> ordinal_of_run;  // run -> its trace's table position d
  std::vector<ServiceRange> services;    // in row order, names ascending

  size_t runs() const { return run_begin.size() - 1; }
  size_t distinct_traces() const { return trace_runs_begin.size() - 1; }
  uint32_t rows_of_run(size_t run) const { return run_begin[run + 1] - run_begin[run]; }
  // The head row of the first row of the trace with table position d.
  uint32_t first_row_of_trace(size_t d) const {
    return perm[run_begin[trace_runs[trace_runs_begin[d]]]];
  }
};

// REQUIRES: !head.empty().
SegmentOrder OrderHeadRows(const Head& head);

}  // namespace waggle::store_internal
