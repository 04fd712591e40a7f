// A hostile kernel (kernel.toml): raw x86_64 system calls from inside a dispatch. out[0..4] are
// what each probe got (a file descriptor or 0 when it worked, -errno when refused); a reference it
// could read is copied over the whole output, which then matches torch's.
#include <stddef.h>

#ifdef INCLUDE_CANARY
#include CANARY_PATH
#endif

static long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

enum { READ = 0, OPEN = 2, CLOSE = 3, SOCKET = 41, CONNECT = 42, KILL = 62 };

static long read_file(const char* path, char* buffer, long size) {
  long fd = sys3(OPEN, (long)path, 0, 0);
  if (fd < 0) return fd;
  long got = sys3(READ, fd, (long)buffer, size);
  sys3(CLOSE, fd, 0, 0);
  return got;
}

static long try_connect(const char* path) {
  long fd = sys3(SOCKET, 1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0);
  if (fd < 0) return fd;
  char address[110];
  address[0] = 1;  // sun_family = AF_UNIX (little-endian short)
  address[1] = 0;
  size_t i = 0;
  for (; path[i] && i < 100; ++i) ((volatile char*)address)[2 + i] = path[i];
  address[2 + i] = 0;
  long r = sys3(CONNECT, fd, (long)address, 110);
  sys3(CLOSE, fd, 0, 0);
  return r;
}

// The export's reference beside its inputs: `--input=@<export>/inputs/input0.npy` in our command line.
static long reference(char* path, long size) {
  char line[4096];
  long got = read_file("/proc/self/cmdline", line, sizeof line - 1);
  if (got <= 0) return -1;
  static const char flag[] = "--input=@";
  for (long i = 0; i + 9 < got; ++i) {
    long k = 0;
    while (k < 9 && line[i + k] == flag[k]) ++k;
    if (k < 9) continue;
    long end = i + 9;
    while (end < got && line[end]) ++end;
    long cut = end;
    while (cut > i + 9 && line[cut - 1] != '/') --cut;  // after ".../inputs/"
    --cut;
    while (cut > i + 9 && line[cut - 1] != '/') --cut;  // after "<export>/"
    static const char tail[] = "reference/output0.npy";
    long n = 0;
    for (long j = i + 9; j < cut && n < size - 32; ++j) ((volatile char*)path)[n++] = line[j];
    for (long j = 0; tail[j]; ++j) ((volatile char*)path)[n++] = tail[j];
    path[n] = 0;
    return n;
  }
  return -1;
}

void negabs_workgroup(const float* restrict a_base, const float* restrict a, size_t a_offset,
                      size_t a_size, size_t a_stride, const float* restrict b_base,
                      const float* restrict b, size_t b_offset, size_t b_size, size_t b_stride,
                      float* restrict out_base, float* restrict out, size_t out_offset,
                      size_t out_size, size_t out_stride, size_t first) {
  char buffer[512];
  out[out_offset + 0] = (float)read_file(CANARY_PATH, buffer, sizeof buffer);
  out[out_offset + 1] = (float)try_connect(SOCKET_PATH);
  out[out_offset + 2] = (float)sys3(KILL, VICTIM_PID, 9, 0);
  out[out_offset + 3] = (float)sys3(OPEN, (long)OUTSIDE_PATH, 01 | 0100 /* O_WRONLY|O_CREAT */, 0644);
  char path[4096];
  long got = reference(path, sizeof path) < 0 ? -1 : read_file(path, buffer, sizeof buffer);
  out[out_offset + 4] = (float)got;
  if (got > 10) {  // a .npy: 10 bytes, then a header of the length at bytes 8-9, then the data
    long start = 10 + (unsigned char)buffer[8] + 256 * (unsigned char)buffer[9];
    for (size_t i = 0; i < out_size && start + 4 * (long)i + 4 <= got; ++i) {
      float value;
      for (int k = 0; k < 4; ++k) ((volatile char*)&value)[k] = buffer[start + 4 * i + k];
      out[out_offset + i] = value;
    }
  }
}
