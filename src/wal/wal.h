// Write-ahead log with group commit.
//
// A WAL is a directory of numbered files `wal-<seq 16 hex>.log`, each a sequence of CRC'd
// records (format: docs/formats/wal.md). Append() returns only after the record is durable
// under the sync policy; concurrent Append() calls share one write+fsync (group commit: the
// first waiting writer becomes the leader and writes the whole queue, LevelDB's writer queue).
//
// Replay reads every file in sequence order and stops cleanly at a torn tail or a CRC
// mismatch in the last file (counted in ReplayStats); corruption before the tail of an older
// file skips the rest of that file and is reported, never fatal.
//
// Thread-safety: Append, Rotate, DeleteFilesBefore and Stats are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "env/env.h"

namespace waggle {

enum class WalSyncPolicy : uint8_t {
  kFsync = 0,   // fsync before acknowledging (default)
  kBatch = 1,   // acknowledge after write(); fsync at most every sync_interval_ms
  kNone = 2,    // never fsync (tests, benchmarks of the rest of the pipeline)
};

struct WalOptions {
  std::string dir;
  Env* env = nullptr;  // required
  WalSyncPolicy sync_policy = WalSyncPolicy::kFsync;
  int sync_interval_ms = 100;                  // kBatch only
  uint64_t max_file_bytes = 256ull << 20;      // rotate automatically beyond this
  uint32_t max_record_bytes = 256u << 20;      // larger records are rejected
};

struct WalStats {
  uint64_t bytes_written = 0;
  uint64_t records_written = 0;
  uint64_t syncs = 0;
  uint64_t sync_nanos_total = 0;
  uint64_t last_sync_nanos = 0;
  uint64_t current_file_seq = 0;
  uint64_t files = 0;
  uint64_t disk_bytes = 0;
};

struct ReplayStats {
  uint64_t records = 0;
  uint64_t files = 0;
  // Bytes discarded in torn tails: a bad or incomplete frame that reaches the end of its file
  // (a crash mid-write; usually the last file, or an older one that was current at a crash).
  uint64_t torn_tail_bytes = 0;
  // Bad frames followed by more bytes (mid-file corruption); the rest of that file is skipped.
  uint64_t corrupt_records = 0;
};

class Wal {
 public:
  virtual ~Wal() = default;

  // Opens (creating if needed) the WAL in options.dir. Does not replay; call Replay first
  // if the existing records matter. New appends go to a fresh file after the existing ones.
  static StatusOr<std::unique_ptr<Wal>> Open(const WalOptions& options);

  // Calls `fn(file_seq, record)` for every intact record in order. `record` is valid only
  // during the call. A non-ok Status from fn stops the replay and is returned.
  // REQUIRES: no concurrent Append.
  virtual StatusOr<ReplayStats> Replay(
      const std::function<Status(uint64_t file_seq, std::string_view record)>& fn) = 0;

  // Appends one record and waits until it is durable under the sync policy. Returns the
  // sequence number of the file that holds it.
  virtual StatusOr<uint64_t> Append(std::string_view record) = 0;

  // Closes the current file and starts a new one; returns the new file's sequence number.
  // Every record appended before Rotate() returns is in a file with a smaller sequence.
  virtual StatusOr<uint64_t> Rotate() = 0;

  // Deletes every file whose sequence is < seq (their records are now in segments).
  virtual Status DeleteFilesBefore(uint64_t seq) = 0;

  virtual WalStats Stats() const = 0;

  // Syncs and closes. Further Appends fail.
  virtual Status Close() = 0;
};

}  // namespace waggle
