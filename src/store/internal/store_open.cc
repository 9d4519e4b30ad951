// EmbeddedStore::Open: segments (with quarantine and compaction clean-up), the manifest and
// WAL replay. See embedded_store.h for the recovery rules.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "model/batch_codec.h"
#include "store/internal/embedded_store.h"

namespace waggle::store_internal {
namespace {

constexpr std::string_view kManifestHeader = "waggle-store-manifest 1\n";
constexpr uint64_t kMaxCatchUpRotations = 100'000;

bool ParseSegmentName(std::string_view name, uint64_t* id) {
  constexpr std::string_view kPrefix = "seg-", kSuffix = ".wseg";
  if (name.size() != kPrefix.size() + 16 + kSuffix.size() || name.substr(0, 4) != kPrefix ||
      name.substr(20) != kSuffix) {
    return false;
  }
  *id = 0;
  for (char c : name.substr(4, 16)) {
    int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (v < 0) return false;
    *id = *id << 4 | static_cast<uint64_t>(v);
  }
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

void EmbeddedStore::Quarantine(const std::string& name, const Status& why) {
  spdlog::error("store: quarantining segment {}: {}", name, std::string(why.message()));
  const std::string to =
      JoinPath(quarantine_dir_, name + "." + std::to_string(env_->NowUnixNanos()));
  Status s = env_->RenameFile(JoinPath(segment_dir_, name), to);
  if (s.ok()) s = env_->SyncDir(segment_dir_);
  if (s.ok()) s = env_->SyncDir(quarantine_dir_);
  if (!s.ok()) spdlog::error("store: could not quarantine {}: {}", name, std::string(s.message()));
  absl::MutexLock lock(&mu_);
  ++stats_.segments_quarantined;
}

Status EmbeddedStore::LoadSegments(uint64_t* wal_floor) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(segment_dir_));
  std::sort(names.begin(), names.end());
  std::vector<std::shared_ptr<Segment>> loaded;
  uint64_t max_id = 0;
  for (const std::string& name : names) {
    uint64_t id;
    if (EndsWith(name, ".tmp")) {  // a flush or compaction that never finished
      RETURN_IF_ERROR(env_->RemoveFile(JoinPath(segment_dir_, name)));
      continue;
    }
    if (!ParseSegmentName(name, &id)) continue;
    max_id = std::max(max_id, id);
    StatusOr<std::shared_ptr<Segment>> seg = Segment::Open(env_, JoinPath(segment_dir_, name));
    if (seg.ok() && (*seg)->id() != id) {
      seg = absl::DataLossError("segment id does not match its file name");
    }
    if (!seg.ok()) {
      if (absl::IsDataLoss(seg.status())) {
        Quarantine(name, seg.status());
        continue;
      }
      return Annotate(seg.status(), name);  // an environment failure, not corruption
    }
    loaded.push_back(std::move(*seg));
  }
  // A compacted segment lists the segments it replaces; a crash may have left them behind.
  absl::flat_hash_set<uint64_t> replaced;
  for (const auto& seg : loaded) replaced.insert(seg->footer().replaces.begin(),
                                                 seg->footer().replaces.end());
  *wal_floor = 0;
  absl::MutexLock lock(&mu_);
  for (auto& seg : loaded) {
    *wal_floor = std::max(*wal_floor, seg->footer().wal_seq_end);
    if (replaced.contains(seg->id())) {
      seg->MarkObsolete();
      continue;
    }
    segments_.push_back(seg);
  }
  next_segment_id_ = max_id + 1;
  return OkStatus();
}

StatusOr<uint64_t> EmbeddedStore::ReadManifestFloor() {
  if (!env_->FileExists(manifest_path_)) return uint64_t{0};
  ASSIGN_OR_RETURN(std::string text, env_->ReadFile(manifest_path_));
  std::string_view rest(text);
  uint64_t floor = 0;
  constexpr std::string_view kKey = "wal_floor ";
  if (rest.substr(0, kManifestHeader.size()) != kManifestHeader) {
    return absl::DataLossError("MANIFEST: unknown format");
  }
  rest.remove_prefix(kManifestHeader.size());
  if (rest.substr(0, kKey.size()) != kKey) return absl::DataLossError("MANIFEST: no wal_floor");
  rest.remove_prefix(kKey.size());
  size_t nl = rest.find('\n');
  if (nl == std::string_view::npos ||
      !absl::SimpleAtoi(absl::string_view(rest.data(), nl), &floor)) {
    return absl::DataLossError("MANIFEST: bad wal_floor");
  }
  return floor;
}

Status EmbeddedStore::WriteManifest(uint64_t wal_floor) {
  std::string text(kManifestHeader);
  text += "wal_floor " + std::to_string(wal_floor) + "\n";
  return env_->WriteFileAtomic(manifest_path_, text);
}

Status EmbeddedStore::ReplayWal(uint64_t wal_floor) {
  const int64_t now = env_->NowUnixNanos();
  uint64_t replayed = 0, undecodable = 0;
  ASSIGN_OR_RETURN(ReplayStats rs,
                   wal_->Replay([&](uint64_t seq, std::string_view record) -> Status {
                     if (seq < wal_floor) return OkStatus();  // already in segments
                     StatusOr<SpanBatch> batch = DecodeBatch(record);
                     if (!batch.ok()) {
                       ++undecodable;
                       return OkStatus();
                     }
                     absl::MutexLock lock(&mu_);
                     if (active_->empty()) active_since_mono_ns_ = env_->MonotonicNanos();
                     active_->AddBatch(*batch, now);
                     ++replayed;
                     return OkStatus();
                   }));
  if (undecodable > 0 || rs.corrupt_records > 0 || rs.torn_tail_bytes > 0) {
    spdlog::warn("store: WAL replay skipped {} undecodable and {} corrupt records, {} torn bytes",
                 undecodable, rs.corrupt_records, rs.torn_tail_bytes);
  }
  absl::MutexLock lock(&mu_);
  stats_.replayed_records = replayed;
  return OkStatus();
}

Status EmbeddedStore::Open() {
  RETURN_IF_ERROR(env_->CreateDirs(options_.data_dir));
  ASSIGN_OR_RETURN(dir_lock_, env_->LockFile(JoinPath(options_.data_dir, "LOCK")));
  for (const std::string& dir : {wal_dir_, segment_dir_, quarantine_dir_}) {
    RETURN_IF_ERROR(env_->CreateDirs(dir));
  }
  uint64_t floor = 0;
  RETURN_IF_ERROR(LoadSegments(&floor));
  StatusOr<uint64_t> manifest_floor = ReadManifestFloor();
  if (manifest_floor.ok()) {
    floor = std::max(floor, *manifest_floor);
  } else {
    spdlog::warn("store: {}; using the segments' WAL floor",
                 std::string(manifest_floor.status().message()));
  }
  WalOptions wo;
  wo.dir = wal_dir_;
  wo.env = env_;
  wo.sync_policy = options_.wal_sync;
  ASSIGN_OR_RETURN(wal_, Wal::Open(wo));
  // New records must land in files >= floor, or a later replay would skip them. Only a
  // wal/ directory emptied by hand can be behind; catch up by rotating.
  for (uint64_t i = 0; wal_->Stats().current_file_seq < floor; ++i) {
    if (i >= kMaxCatchUpRotations) return absl::FailedPreconditionError("WAL is far behind");
    RETURN_IF_ERROR(wal_->Rotate().status());
  }
  RETURN_IF_ERROR(ReplayWal(floor));
  RETURN_IF_ERROR(wal_->DeleteFilesBefore(floor));
  opened_ = true;
  RETURN_IF_ERROR(Freeze(false));
  if (options_.background_threads) {
    flush_thread_ = std::thread([this] { FlushLoop(); });
    maintenance_thread_ = std::thread([this] { MaintenanceLoop(); });
  } else {
    bool did = true;
    while (did) RETURN_IF_ERROR(FlushOneFrozen(&did));
  }
  return OkStatus();
}

}  // namespace waggle::store_internal
