// Helpers shared by waggle_net's tests (not part of the library).
#pragma once

#include <sys/socket.h>
#include <sys/time.h>
#include <zlib.h>

#include <string>
#include <string_view>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace waggle::net_test {

// gzip (window_bits 16+15) or zlib (15) or raw deflate (-15) compression of `in`.
inline std::string Compress(std::string_view in, int window_bits = 16 + 15,
                            int level = Z_BEST_SPEED) {
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A blocking loopback socket with a receive timeout, for speaking raw HTTP.
class RawConnection {
 public:
  explicit RawConnection(const std::string& address) : socket_(ioc_) {
    const size_t colon = address.rfind(':');
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address(address.substr(0, colon)),
                                      static_cast<unsigned short>(std::stoi(address.substr(colon + 1))));
    socket_.connect(ep);
    timeval tv{5, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  void Send(std::string_view bytes) {
    boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()));
  }
  // Reads until the peer closes (or the 5 s timeout); returns everything received.
  std::string ReadToEof() {
    std::string out;
    char buf[16384];
    for (;;) {
      boost::system::error_code ec;
      const size_t n = socket_.read_some(boost::asio::buffer(buf), ec);
      out.append(buf, n);
      if (ec) return out;
    }
  }
  // Reads until `marker` has been seen (or the peer closes / times out).
  std::string ReadUntil(std::string_view marker) {
    std::string out;
    char buf[4096];
    while (out.find(marker) == std::string::npos) {
      boost::system::error_code ec;
      const size_t n = socket_.read_some(boost::asio::buffer(buf), ec);
      out.append(buf, n);
      if (ec) break;
    }
    return out;
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
};

// Status code of a raw HTTP response ("HTTP/1.1 200 OK..."), or -1.
inline int RawStatus(std::string_view response) {
  if (response.size() < 12 || response.substr(0, 5) != "HTTP/") return -1;
  return std::stoi(std::string(response.substr(9, 3)));
}

}  // namespace waggle::net_test
