// libFuzzer target: untrusted bytes as a WAL file (replayed through a MemEnv) and as a span
// batch payload (DecodeBatch). Invariants checked beyond "no crash":
//  - every replayed record decodes or fails cleanly;
//  - a batch that decodes re-encodes to bytes that decode to the same encoding (canonical).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "env/env.h"
#include "model/batch_codec.h"
#include "wal/wal.h"

namespace {

void CheckBatch(std::string_view bytes) {
  auto batch = waggle::DecodeBatch(bytes);
  if (!batch.ok()) return;
  std::string once;
  waggle::EncodeBatch(*batch, &once);
  auto again = waggle::DecodeBatch(once);
  if (!again.ok()) std::abort();
  std::string twice;
  waggle::EncodeBatch(*again, &twice);
  if (once != twice) std::abort();
}

void ReplayAsWal(std::string_view bytes) {
  auto env = waggle::NewMemEnv();
  if (!env->CreateDirs("/wal").ok()) std::abort();
  // Two files: the input and the input again as the newer file, so both the "older file"
  // and the "last file" paths of replay see it.
  // The header's sequence field is set to match each file name so that the fuzzer need not
  // guess it.
  for (uint64_t seq : {1, 2}) {
    std::string file(bytes);
    for (size_t i = 8; i < 16 && i < file.size(); ++i) file[i] = i == 8 ? char(seq) : '\0';
    const std::string name = "/wal/wal-000000000000000" + std::to_string(seq) + ".log";
    if (!env->WriteFileAtomic(name, file).ok()) std::abort();
  }
  waggle::WalOptions options;
  options.dir = "/wal";
  options.env = env.get();
  options.max_record_bytes = 1 << 20;
  options.sync_policy = waggle::WalSyncPolicy::kNone;
  auto wal = waggle::Wal::Open(options);
  if (!wal.ok()) return;  // e.g. an unsupported format version: refused, not crashed
  auto stats = (*wal)->Replay([](uint64_t, std::string_view record) {
    CheckBatch(record);
    return waggle::OkStatus();
  });
  if (stats.ok() && stats->records > 0 && !(*wal)->Append("after").ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  CheckBatch(bytes);
  ReplayAsWal(bytes);
  return 0;
}
