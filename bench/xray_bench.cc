// xray_bench: the X-Ray daemon-protocol benchmark (issue 4): UDP segments per
// second received and stored on loopback without loss. Run it through
// bench/run_xray.sh, which starts a real `waggle serve` and passes its
// addresses and pid.
//
// The sender is one thread with one connected UDP socket that sends X-Ray
// datagrams (bench/xray_workload.h: Flask-middleware-like segment documents of
// ~600-1000 bytes, a distinct trace id each) with sendmmsg, 32 at a time.
// Phases, each labelled by the documents' `bench_phase` annotation:
//   paced   `--rate` datagrams/s (default 100,000) for `--duration` s; the
//   check is zero loss ladder  `--ladder` rates (default
//   150k,200k,250k,300k,400k), `--step` s each, stopping after
//           the first step with loss: the highest rate stored with zero loss
//   flood   as fast as the sender can for `--flood` s: the rate stored and the
//   loss fraction
// After each phase the benchmark waits until waggle has accounted for every
// datagram (or nothing changes for 2 s), then counts, exactly:
//   sent     datagrams sendmmsg accepted (on loopback nothing is lost before
//   the receiver socket) stored   the delta of
//   waggle_xray_segments_total{result="stored"} (segment documents appended
//            to the store), cross-checked with a Query API COUNT of rows with
//            xray.type = "segment" and annotation.bench_phase = the phase (one
//            row per segment document)
//   lost     sent - stored, split into the kernel's drops for waggle's socket
//   (its receive buffer
//            was full: waggle_xray_datagrams_total{result="kernel_dropped"} and
//            the drops column of /proc/net/udp) and the daemon's own drop
//            counters (queue_full, bad_*, store_error)
// and reads waggle's CPU time from /proc/<pid>/stat for CPU seconds per million
// segments.
//
// Peer: none is measured. The issue names none, and the natural one (the
// OpenTelemetry Collector's awsxray receiver, or the AWS X-Ray daemon, which
// forwards rather than stores) is not installable here without downloads;
// ratios are printed against the issue's targets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_flags.h"
#include "net/http_client.h"
#include "xray_workload.h"

namespace waggle::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kTargetMaxRate = 200'000; // segments/s stored with zero loss
constexpr size_t kSendBatch = 32;          // datagrams per sendmmsg

struct Options {
  std::string xray; // host:port of waggle's UDP daemon
  std::string api;  // host:port of waggle's API (metrics, query)
  int pid = 0;      // waggle's pid, for CPU figures
  double rate = 100'000;
  double duration_s = 10;
  std::vector<double> ladder = {150'000, 200'000, 250'000, 300'000, 400'000};
  double step_s = 5;
  double flood_s = 5;
  uint64_t seed = 42;
};

double ProcCpuSeconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)),
                std::istreambuf_iterator<char>());
  const size_t rp = s.rfind(')');
  if (rp == std::string::npos)
    return -1;
  std::istringstream in(s.substr(rp + 2));
  std::string tok;
  double ut = 0;
  for (int field = 3; in >> tok; ++field) {
    if (field == 14)
      ut = std::atof(tok.c_str());
    if (field == 15)
      return (ut + std::atof(tok.c_str())) /
             static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return -1;
}

double SelfCpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool ParseHostPort(const std::string &address, sockaddr_in *out) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos)
    return false;
  std::memset(out, 0, sizeof(*out));
  out->sin_family = AF_INET;
  out->sin_port =
      htons(static_cast<uint16_t>(std::atoi(address.c_str() + colon + 1)));
  return inet_pton(AF_INET, address.substr(0, colon).c_str(), &out->sin_addr) ==
         1;
}

// The drops column of /proc/net/udp for the socket bound to `addr`, or -1.
int64_t KernelDrops(const sockaddr_in &addr) {
  char local[32];
  std::snprintf(local, sizeof(local), "%08X:%04X", addr.sin_addr.s_addr,
                ntohs(addr.sin_port));
  std::ifstream f("/proc/net/udp");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string sl, local_address, tok, last;
    in >> sl >> local_address;
    if (local_address != local)
      continue;
    while (in >> tok)
      last = tok;
    return std::atoll(last.c_str());
  }
  return -1;
}

// Waggle's counters that matter here, read from /metrics.
struct Counters {
  double stored = 0, accepted = 0, kernel_dropped = 0, queue_full = 0,
         rejected = 0, other = 0;
  double Accounted() const {
    return accepted + kernel_dropped + queue_full + rejected + other;
  }
};

double MetricValue(const std::string &text, std::string_view series) {
  for (size_t at = text.find(series); at != std::string::npos;
       at = text.find(series, at + 1)) {
    if ((at == 0 || text[at - 1] == '\n') && text[at + series.size()] == ' ') {
      return std::atof(text.c_str() + at + series.size() + 1);
    }
  }
  return 0;
}

bool ReadCounters(HttpClient &api, Counters *c) {
  auto r = api.Request("GET", "/metrics", {}, "");
  if (!r.ok() || r->status != 200)
    return false;
  auto datagrams = [&](const char *result) {
    return MetricValue(r->body, "waggle_xray_datagrams_total{result=\"" +
                                    std::string(result) + "\"}");
  };
  c->stored =
      MetricValue(r->body, "waggle_xray_segments_total{result=\"stored\"}");
  c->accepted = datagrams("accepted");
  c->kernel_dropped = datagrams("kernel_dropped");
  c->queue_full = datagrams("queue_full");
  c->rejected = datagrams("bad_document") + datagrams("bad_frame") +
                datagrams("too_large");
  c->other = datagrams("store_error");
  return true;
}

// Rows with xray.type = "segment" and annotation.bench_phase = `phase`, by the
// Query API; -1 on failure.
int64_t CountSegmentRows(HttpClient &api, std::string_view phase) {
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"x-honeycomb-team", "bench"}, {"Content-Type", "application/json"}};
  const std::string spec =
      R"({"calculations":[{"op":"COUNT"}],"time_range":86400,"filters":[)"
      R"({"column":"xray.type","op":"=","value":"segment"},)"
      R"({"column":"annotation.bench_phase","op":"=","value":")" +
      std::string(phase) + "\"}]}";
  auto created = api.Request("POST", "/1/queries/__all__", headers, spec);
  if (!created.ok() || created->status != 200)
    return -1;
  const size_t id_at = created->body.find("\"id\":\"");
  if (id_at == std::string::npos)
    return -1;
  const std::string id = created->body.substr(
      id_at + 6, created->body.find('"', id_at + 6) - id_at - 6);
  auto result =
      api.Request("POST", "/1/query_results/__all__", headers,
                  R"({"query_id":")" + id + R"(","disable_series":true})");
  if (!result.ok() || result->status != 201)
    return -1;
  const size_t count_at = result->body.find("\"COUNT\":");
  if (count_at == std::string::npos)
    return 0; // no rows: no result group
  return std::atoll(result->body.c_str() + count_at + 8);
}

class Sender {
public:
  Sender(const sockaddr_in &to, uint64_t seed)
      : templates_(BuildXrayTemplates()), patcher_(seed), buffers_(kSendBatch) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    int sndbuf = 4 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    if (connect(fd_, reinterpret_cast<const sockaddr *>(&to), sizeof(to)) != 0)
      fd_ = -1;
  }
  ~Sender() {
    if (fd_ >= 0)
      close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  double MeanBytes() const {
    double sum = 0;
    for (const XrayTemplate &t : templates_)
      sum += static_cast<double>(t.datagram.size());
    return sum / static_cast<double>(templates_.size());
  }

  // Sends at `rate` datagrams/s (0: as fast as possible) for `seconds`. Returns
  // datagrams sent.
  uint64_t Run(double rate, double seconds, std::string_view phase) {
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    uint64_t sent = 0;
    for (;;) {
      const auto now = Clock::now();
      if (now >= end)
        break;
      size_t n = kSendBatch;
      if (rate > 0) {
        const double due =
            rate * std::chrono::duration<double>(now - start).count() -
            static_cast<double>(sent);
        // Sends whole batches (fewer, cheaper syscalls on the shared cores):
        // sleeps until a batch is due, then sends what is due, at most a batch.
        if (due < static_cast<double>(kSendBatch)) {
          const double wait_us =
              (static_cast<double>(kSendBatch) - due) / rate * 1e6;
          std::this_thread::sleep_for(std::chrono::microseconds(
              std::max<int64_t>(20, static_cast<int64_t>(wait_us))));
          continue;
        }
        n = std::min(n, static_cast<size_t>(due));
      }
      sent += SendBatch(n, phase);
    }
    return sent;
  }

private:
  size_t SendBatch(size_t n, std::string_view phase) {
    const int64_t now_us = NowUs();
    mmsghdr msgs[kSendBatch];
    iovec iov[kSendBatch];
    for (size_t i = 0; i < n; ++i) {
      patcher_.Patch(templates_[sequence_ % templates_.size()], sequence_,
                     now_us, phase, &buffers_[i]);
      ++sequence_;
      iov[i] = {buffers_[i].data(), buffers_[i].size()};
      std::memset(&msgs[i], 0, sizeof(msgs[i]));
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    size_t done = 0;
    while (done < n) {
      int r = sendmmsg(fd_, msgs + done, static_cast<unsigned>(n - done), 0);
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == EINTR))
          continue;
        break;
      }
      done += static_cast<size_t>(r);
    }
    return done;
  }

  std::vector<XrayTemplate> templates_;
  XrayPatcher patcher_;
  std::vector<std::string> buffers_;
  uint64_t sequence_ = 0;
  int fd_ = -1;
};

struct PhaseResult {
  std::string phase;
  double target_rate = 0; // 0: flood
  double send_seconds = 0, drain_seconds = 0;
  uint64_t sent = 0;
  Counters delta;
  int64_t kernel_drops = 0; // /proc/net/udp
  int64_t rows = -1;        // COUNT query
  double waggle_cpu = 0, client_cpu = 0;
  int64_t Lost() const {
    return static_cast<int64_t>(sent) - static_cast<int64_t>(delta.stored);
  }
  double StoredRate() const { return delta.stored / send_seconds; }
};

class Bench {
public:
  Bench(const Options &o, const sockaddr_in &daemon)
      : o_(o), daemon_(daemon), api_(NewHttpClient(o.api, 60000)),
        sender_(daemon, o.seed) {}

  // Reads waggle's counters at the start; every phase is counted from here.
  bool Start() {
    if (!sender_.ok() || !ReadCounters(*api_, &base_))
      return false;
    base0_ = base_;
    return true;
  }
  const Sender &sender() const { return sender_; }

  PhaseResult RunPhase(std::string phase, double rate, double seconds) {
    PhaseResult r;
    r.phase = phase;
    r.target_rate = rate;
    const int64_t drops0 = KernelDrops(daemon_);
    const double cpu0 = o_.pid ? ProcCpuSeconds(o_.pid) : 0,
                 self0 = SelfCpuSeconds();
    const auto t0 = Clock::now();
    r.sent = sender_.Run(rate, seconds, phase);
    const auto t1 = Clock::now();
    r.client_cpu = SelfCpuSeconds() - self0;
    total_sent_ += r.sent;
    Counters now = Settle();
    r.drain_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
    r.waggle_cpu = o_.pid ? ProcCpuSeconds(o_.pid) - cpu0 : 0;
    r.send_seconds = std::chrono::duration<double>(t1 - t0).count();
    r.delta = Minus(now, base_);
    base_ = now;
    r.kernel_drops = KernelDrops(daemon_) - drops0;
    r.rows = CountSegmentRows(*api_, phase);
    Print(r);
    return r;
  }

private:
  static Counters Minus(const Counters &a, const Counters &b) {
    return {a.stored - b.stored,
            a.accepted - b.accepted,
            a.kernel_dropped - b.kernel_dropped,
            a.queue_full - b.queue_full,
            a.rejected - b.rejected,
            a.other - b.other};
  }

  // Waits until every datagram sent is accounted for by waggle's counters
  // (accepted and stored, or dropped), or until they have not moved for 2 s
  // (kernel drops are only counted when the daemon next receives), at most 60
  // s.
  Counters Settle() {
    Counters c, last;
    auto changed = Clock::now();
    const auto deadline = changed + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
      if (!ReadCounters(*api_, &c))
        break;
      const Counters d = Minus(c, base0_);
      const double settled =
          d.stored + d.kernel_dropped + d.queue_full + d.rejected + d.other;
      if (settled >= static_cast<double>(total_sent_))
        break;
      if (c.stored != last.stored || c.Accounted() != last.Accounted())
        changed = Clock::now();
      if (Clock::now() - changed > std::chrono::seconds(2))
        break;
      last = c;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return c;
  }

  void Print(const PhaseResult &r) const {
    const double stored = r.delta.stored;
    std::printf(
        "\nphase %s: %s for %.1f s\n", r.phase.c_str(),
        r.target_rate > 0
            ? (std::to_string(static_cast<int64_t>(r.target_rate)) + "/s")
                  .c_str()
            : "as fast as the sender can",
        r.send_seconds);
    std::printf(
        "  sent                 %llu datagrams = %.0f/s (client CPU %.2f s)\n",
        (unsigned long long)r.sent, r.sent / r.send_seconds, r.client_cpu);
    std::printf("  stored               %.0f segments = %.0f/s (metric "
                "stored); COUNT xray.type=segment "
                "rows: %lld; drained %.2f s after the last send\n",
                stored, r.StoredRate(), (long long)r.rows, r.drain_seconds);
    std::printf(
        "  lost                 %lld (%.3f%%): kernel %.0f (metric "
        "kernel_dropped; /proc/net/udp "
        "drops %lld), queue_full %.0f, rejected %.0f, store_error %.0f\n",
        (long long)r.Lost(),
        r.sent ? 100.0 * static_cast<double>(r.Lost()) / r.sent : 0.0,
        r.delta.kernel_dropped, (long long)r.kernel_drops, r.delta.queue_full,
        r.delta.rejected, r.delta.other);
    if (o_.pid && stored > 0) {
      std::printf(
          "  waggle CPU           %.2f s = %.2f CPU-s per million segments\n",
          r.waggle_cpu, r.waggle_cpu / (stored / 1e6));
    }
  }

  const Options &o_;
  const sockaddr_in daemon_;
  std::unique_ptr<HttpClient> api_;
  Sender sender_;
  Counters base_;  // at the end of the previous phase
  Counters base0_; // at Start
  uint64_t total_sent_ = 0;
};

std::vector<double> ParseRates(const std::string &v) {
  std::vector<double> out;
  std::istringstream in(v);
  std::string tok;
  while (std::getline(in, tok, ',')) {
    if (!tok.empty())
      out.push_back(std::atof(tok.c_str()));
  }
  return out;
}

bool ParseArgs(int argc, char **argv, Options *o) {
  auto set = [&](const std::string& a, const std::string& v) {
    if (a == "--xray")
      o->xray = v;
    else if (a == "--api")
      o->api = v;
    else if (a == "--pid")
      o->pid = std::atoi(v.c_str());
    else if (a == "--rate")
      o->rate = std::atof(v.c_str());
    else if (a == "--duration")
      o->duration_s = std::atof(v.c_str());
    else if (a == "--ladder")
      o->ladder = ParseRates(v);
    else if (a == "--step")
      o->step_s = std::atof(v.c_str());
    else if (a == "--flood")
      o->flood_s = std::atof(v.c_str());
    else if (a == "--seed")
      o->seed = std::strtoull(v.c_str(), nullptr, 10);
    else
      return false;
    return true;
  };
  if (!bench::ForEachFlag(argc, argv, set)) return false;
  if (o->xray.empty() || o->api.empty()) {
    std::fprintf(
        stderr,
        "usage: xray_bench --xray HOST:PORT --api HOST:PORT [--pid "
        "WAGGLE_PID]\n"
        "       [--rate 100000] [--duration 10] [--ladder 150000,200000,...] "
        "[--step 5]\n"
        "       [--flood 5] [--seed 42]   (--ladder '' or --flood 0 skip those "
        "phases)\n"
        "Normally run through bench/run_xray.sh, which starts waggle.\n");
    return false;
  }
  return true;
}

const char *Verdict(bool ok) { return ok ? "met" : "NOT met"; }

int Main(int argc, char **argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o))
    return 2;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  sockaddr_in daemon;
  if (!ParseHostPort(o.xray, &daemon)) {
    std::fprintf(stderr,
                 "xray_bench: --xray must be IPv4 host:port, got '%s'\n",
                 o.xray.c_str());
    return 2;
  }
  Bench bench(o, daemon);
  if (!bench.Start()) {
    std::fprintf(stderr,
                 "xray_bench: cannot open a UDP socket or read %s/metrics\n",
                 o.api.c_str());
    return 1;
  }
  std::string loadavg;
  {
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    loadavg = a + " " + b + " " + c;
  }
  std::printf("waggle X-Ray daemon benchmark (UDP, loopback)\n");
  std::printf("  machine              %ld cores, shared by waggle and this "
              "sender; load average "
              "before the run: %s\n",
              sysconf(_SC_NPROCESSORS_ONLN), loadavg.c_str());
  std::printf("  workload             Flask-middleware-like segment documents: "
              "http, annotations, "
              "1-2 subsegments, 1%% faults with a cause; %.0f bytes/datagram "
              "mean; a distinct "
              "trace id each\n",
              bench.sender().MeanBytes());
  std::printf(
      "  sender               1 thread, sendmmsg %zu datagrams per call\n",
      kSendBatch);

  PhaseResult paced = bench.RunPhase("paced", o.rate, o.duration_s);
  double max_zero_loss = 0;
  // The highest rate actually sent in a phase with zero loss, whether or not
  // the sender reached the rate asked (it shares the 2 cores with waggle).
  double achieved_zero_loss = 0;
  auto note_achieved = [&](const PhaseResult &p) {
    if (p.Lost() == 0 && p.send_seconds > 0)
      achieved_zero_loss = std::max(achieved_zero_loss, p.sent / p.send_seconds);
  };
  note_achieved(paced);
  for (double rate : o.ladder) {
    char phase[8];
    std::snprintf(phase, sizeof(phase), "r%04d",
                  static_cast<int>(rate / 1000) % 10000);
    PhaseResult step = bench.RunPhase(phase, rate, o.step_s);
    note_achieved(step);
    // A step counts only if the sender kept up (within 2%) and nothing was
    // lost.
    if (step.Lost() != 0)
      break;
    if (step.sent / step.send_seconds >= 0.98 * rate)
      max_zero_loss = std::max(max_zero_loss, rate);
  }
  PhaseResult flood;
  if (o.flood_s > 0)
    flood = bench.RunPhase("flood", 0, o.flood_s);

  const bool paced_ok =
      paced.Lost() == 0 && paced.sent / paced.send_seconds >= 0.98 * o.rate;
  std::printf("\nsummary\n");
  std::printf("  zero loss at %.0f/s     sent %llu, stored %.0f, lost %lld   "
              "[target: zero loss at "
              "100000/s: %s]\n",
              o.rate, (unsigned long long)paced.sent, paced.delta.stored,
              (long long)paced.Lost(), Verdict(paced_ok && o.rate >= 100'000));
  if (!o.ladder.empty()) {
    std::printf("  max zero-loss rate   %.0f segments/s (highest ladder step "
                "stored without loss) "
                "= %.2fx the target   [target >= 200000/s: %s]\n",
                max_zero_loss, max_zero_loss / kTargetMaxRate,
                Verdict(max_zero_loss >= kTargetMaxRate));
    std::printf("  highest rate sent with zero loss  %.0f segments/s (any phase, "
                "whatever rate it asked for)\n",
                achieved_zero_loss);
  }
  if (o.flood_s > 0) {
    std::printf("  flood                sent %.0f/s, stored %.0f/s = %.2fx the "
                "target, loss %.3f%%\n",
                flood.sent / flood.send_seconds, flood.StoredRate(),
                flood.StoredRate() / kTargetMaxRate,
                flood.sent
                    ? 100.0 * static_cast<double>(flood.Lost()) / flood.sent
                    : 0.0);
  }
  if (o.pid && paced.delta.stored > 0) {
    std::printf(
        "  waggle CPU           %.2f CPU-s per million segments at %.0f/s\n",
        paced.waggle_cpu / (paced.delta.stored / 1e6), o.rate);
  }
  std::printf("  peer                 none measured: the issue names none, and "
              "the OpenTelemetry "
              "Collector's awsxray receiver is not installable here without "
              "downloads; ratios are "
              "against the targets\n");
  std::printf(
      "\nmachine-readable: paced_sent=%llu paced_stored=%.0f paced_lost=%lld "
      "max_zero_loss_rate=%.0f achieved_zero_loss_rate=%.0f "
      "flood_sent_per_s=%.0f flood_stored_per_s=%.0f cpu_s_per_million=%.3f\n",
      (unsigned long long)paced.sent, paced.delta.stored,
      (long long)paced.Lost(), max_zero_loss, achieved_zero_loss,
      flood.send_seconds > 0 ? flood.sent / flood.send_seconds : 0.0,
      flood.send_seconds > 0 ? flood.StoredRate() : 0.0,
      paced.delta.stored > 0 ? paced.waggle_cpu / (paced.delta.stored / 1e6)
                             : 0.0);
  return paced_ok ? 0 : 1;
}

} // namespace
} // namespace waggle::bench

int main(int argc, char **argv) { return waggle::bench::Main(argc, argv); }
