// SHA512/256 (FIPS 180-4) of many byte ranges at once. With AVX-512 (F+VL+BW) the 8 64-bit
// lanes of the zmm registers each carry one independent message ("multi-buffer" hashing, as
// in isa-l_crypto's sha512_mb); without it a portable scalar C SHA-512 does the work. The
// AVX-512 code is compiled with function target attributes, so the module loads anywhere.
#define _GNU_SOURCE
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512_CODE 1
#else
#define HAVE_AVX512_CODE 0
#endif

static const uint64_t K[80] __attribute__((aligned(64))) = {
    0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL,
    0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL,
    0xd807aa98a3030242ULL, 0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
    0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL, 0xc19bf174cf692694ULL,
    0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
    0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
    0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL,
    0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL, 0x06ca6351e003826fULL, 0x142929670a0e6e70ULL,
    0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
    0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
    0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL,
    0xd192e819d6ef5218ULL, 0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
    0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL,
    0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL,
    0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
    0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL,
    0xca273eceea26619cULL, 0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL,
    0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
    0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL, 0x431d67c49c100d4cULL,
    0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL,
};

// SHA-512/256 initial hash values (FIPS 180-4 5.3.6.2).
static const uint64_t IV[8] = {
    0x22312194FC2BF72CULL, 0x9F555FA3C84C64C2ULL, 0x2393B86B6F53B151ULL, 0x963877195940EABDULL,
    0x96283EE2A88EFFE3ULL, 0xBE5E1E2553863992ULL, 0x2B0199FC2C85B8AAULL, 0x0EB72DDC81C52CA2ULL,
};

static inline uint64_t load_be64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

static inline void store_be64(uint8_t *p, uint64_t v) {
  v = __builtin_bswap64(v);
  memcpy(p, &v, 8);
}

static inline uint64_t ror64(uint64_t x, unsigned n) { return (x >> n) | (x << (64 - n)); }

// ---- Portable scalar SHA-512 compression of one 128-byte block.
static void compress1(uint64_t st[8], const uint8_t *block) {
  uint64_t w[80];
  for (int t = 0; t < 16; t++) w[t] = load_be64(block + 8 * t);
  for (int t = 16; t < 80; t++) {
    uint64_t s0 = ror64(w[t - 15], 1) ^ ror64(w[t - 15], 8) ^ (w[t - 15] >> 7);
    uint64_t s1 = ror64(w[t - 2], 19) ^ ror64(w[t - 2], 61) ^ (w[t - 2] >> 6);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint64_t a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
  for (int t = 0; t < 80; t++) {
    uint64_t t1 = h + (ror64(e, 14) ^ ror64(e, 18) ^ ror64(e, 41)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
    uint64_t t2 = (ror64(a, 28) ^ ror64(a, 34) ^ ror64(a, 39)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  st[0] += a;
  st[1] += b;
  st[2] += c;
  st[3] += d;
  st[4] += e;
  st[5] += f;
  st[6] += g;
  st[7] += h;
}

// ---- One message in flight: its full blocks come straight from the input, the final one or
// two blocks (the rest of the message, 0x80, zeros, 128-bit big-endian bit length) from `tail`.
typedef struct {
  const uint8_t *p;   // next full block of the message
  size_t full;        // full message blocks still to hash
  size_t tail_blocks; // padding blocks still to hash (after `full` reaches 0)
  size_t tail_pos;    // offset in `tail` of the next padding block
  uint8_t tail[256];
} msg_t;

static void msg_init(msg_t *m, const uint8_t *p, size_t len) {
  m->p = p;
  m->full = len / 128;
  size_t rest = len % 128;
  m->tail_blocks = rest < 112 ? 1 : 2;
  m->tail_pos = 0;
  memset(m->tail, 0, sizeof m->tail);
  if (rest) memcpy(m->tail, p + (len - rest), rest);
  m->tail[rest] = 0x80;
  uint8_t *end = m->tail + 128 * m->tail_blocks;
  // 128-bit length in bits: high word holds len >> 61.
  store_be64(end - 16, (uint64_t)len >> 61);
  store_be64(end - 8, (uint64_t)len << 3);
}

// The next block to hash and whether it is the message's last.
static inline const uint8_t *msg_next(msg_t *m, bool *last) {
  if (m->full) {
    const uint8_t *b = m->p;
    m->p += 128;
    m->full--;
    *last = false;
    return b;
  }
  const uint8_t *b = m->tail + m->tail_pos;
  m->tail_pos += 128;
  m->tail_blocks--;
  *last = m->tail_blocks == 0;
  return b;
}

static inline size_t msg_blocks_left(const msg_t *m) { return m->full + m->tail_blocks; }

static void write_digest(uint8_t *out, const uint64_t st[8]) {
  for (int i = 0; i < 4; i++) store_be64(out + 8 * i, st[i]);
}

static void digest_scalar(const uint8_t *data, const size_t *starts, const size_t *sizes, size_t n, uint8_t *out) {
  msg_t m;
  for (size_t i = 0; i < n; i++) {
    uint64_t st[8];
    memcpy(st, IV, sizeof st);
    msg_init(&m, data + starts[i], sizes[i]);
    bool last = false;
    while (!last) compress1(st, msg_next(&m, &last));
    write_digest(out + 32 * i, st);
  }
}

#if HAVE_AVX512_CODE
#define AVX512_TARGET __attribute__((target("avx512f,avx512vl,avx512bw")))

// Eight SHA-512 compressions, lane j hashing blocks[j] into st[*][j] (state word-major: st[w]
// holds word w of all eight lanes).
AVX512_TARGET static void compress8(uint64_t st[8][8], const uint8_t *const blocks[8]) {
  const __m512i bswap = _mm512_set_epi8(
      8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7,
      8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  const __m512i ptrs = _mm512_loadu_si512((const void *)blocks);
  __m512i W[16];
#pragma GCC unroll 16
  for (int t = 0; t < 16; t++) {
    __m512i v = _mm512_i64gather_epi64(ptrs, (const void *)(uintptr_t)(8 * t), 1);
    W[t] = _mm512_shuffle_epi8(v, bswap);
  }
  __m512i a = _mm512_load_si512(st[0]), b = _mm512_load_si512(st[1]), c = _mm512_load_si512(st[2]),
          d = _mm512_load_si512(st[3]), e = _mm512_load_si512(st[4]), f = _mm512_load_si512(st[5]),
          g = _mm512_load_si512(st[6]), h = _mm512_load_si512(st[7]);
  const __m512i a0 = a, b0 = b, c0 = c, d0 = d, e0 = e, f0 = f, g0 = g, h0 = h;

#define XOR3(x, y, z) _mm512_ternarylogic_epi64((x), (y), (z), 0x96)
#define CH(x, y, z) _mm512_ternarylogic_epi64((x), (y), (z), 0xCA)
#define MAJ(x, y, z) _mm512_ternarylogic_epi64((x), (y), (z), 0xE8)
#define ADD(x, y) _mm512_add_epi64((x), (y))
#define S0(x) XOR3(_mm512_ror_epi64((x), 28), _mm512_ror_epi64((x), 34), _mm512_ror_epi64((x), 39))
#define S1(x) XOR3(_mm512_ror_epi64((x), 14), _mm512_ror_epi64((x), 18), _mm512_ror_epi64((x), 41))
#define s0(x) XOR3(_mm512_ror_epi64((x), 1), _mm512_ror_epi64((x), 8), _mm512_srli_epi64((x), 7))
#define s1(x) XOR3(_mm512_ror_epi64((x), 19), _mm512_ror_epi64((x), 61), _mm512_srli_epi64((x), 6))
#define ROUND(a, b, c, d, e, f, g, h, t)                                                                   \
  do {                                                                                                   \
    if ((t) >= 16)                                                                                       \
      W[(t) & 15] = ADD(ADD(W[(t) & 15], s0(W[((t) + 1) & 15])), ADD(W[((t) + 9) & 15], s1(W[((t) + 14) & 15]))); \
    __m512i t1 = ADD(ADD(h, S1(e)), ADD(CH(e, f, g), ADD(_mm512_set1_epi64((long long)K[t]), W[(t) & 15]))); \
    d = ADD(d, t1);                                                                                      \
    h = ADD(t1, ADD(S0(a), MAJ(a, b, c)));                                                               \
  } while (0)

#pragma GCC unroll 10
  for (int t = 0; t < 80; t += 8) {
    ROUND(a, b, c, d, e, f, g, h, t);
    ROUND(h, a, b, c, d, e, f, g, t + 1);
    ROUND(g, h, a, b, c, d, e, f, t + 2);
    ROUND(f, g, h, a, b, c, d, e, t + 3);
    ROUND(e, f, g, h, a, b, c, d, t + 4);
    ROUND(d, e, f, g, h, a, b, c, t + 5);
    ROUND(c, d, e, f, g, h, a, b, t + 6);
    ROUND(b, c, d, e, f, g, h, a, t + 7);
  }
  _mm512_store_si512(st[0], ADD(a, a0));
  _mm512_store_si512(st[1], ADD(b, b0));
  _mm512_store_si512(st[2], ADD(c, c0));
  _mm512_store_si512(st[3], ADD(d, d0));
  _mm512_store_si512(st[4], ADD(e, e0));
  _mm512_store_si512(st[5], ADD(f, f0));
  _mm512_store_si512(st[6], ADD(g, g0));
  _mm512_store_si512(st[7], ADD(h, h0));
}

// Below this many busy lanes with no message left to start, the rest is finished one lane at
// a time with the scalar code (a mostly idle vector is slower than scalar SHA-512).
#define MIN_LANES 2

static const uint8_t zero_block[128];

static int cmp_desc(const void *x, const void *y, void *sizes) {
  size_t a = ((const size_t *)sizes)[*(const size_t *)x], b = ((const size_t *)sizes)[*(const size_t *)y];
  return a < b ? 1 : a > b ? -1 : 0;
}

static void digest_avx512(const uint8_t *data, const size_t *starts, const size_t *sizes, size_t n, uint8_t *out,
                          size_t *order) {
  // Longest first, so that the lanes run out of work at about the same time.
  for (size_t i = 0; i < n; i++) order[i] = i;
  qsort_r(order, n, sizeof *order, cmp_desc, (void *)sizes);
  msg_t lanes[8];
  uint64_t st[8][8] __attribute__((aligned(64)));
  long lane_msg[8]; // message index per lane, -1 when idle
  size_t next = 0;
  int busy = 0;
  for (int j = 0; j < 8; j++) {
    lane_msg[j] = -1;
    for (int w = 0; w < 8; w++) st[w][j] = IV[w];
  }
  for (;;) {
    // Start messages on idle lanes.
    for (int j = 0; j < 8 && next < n; j++) {
      if (lane_msg[j] >= 0) continue;
      size_t i = order[next++];
      lane_msg[j] = (long)i;
      msg_init(&lanes[j], data + starts[i], sizes[i]);
      for (int w = 0; w < 8; w++) st[w][j] = IV[w];
      busy++;
    }
    if (busy == 0) break;
    if (next == n && busy < MIN_LANES) {
      for (int j = 0; j < 8; j++) {
        if (lane_msg[j] < 0) continue;
        uint64_t s[8];
        for (int w = 0; w < 8; w++) s[w] = st[w][j];
        bool last = false;
        while (!last) compress1(s, msg_next(&lanes[j], &last));
        write_digest(out + 32 * lane_msg[j], s);
      }
      break;
    }
    // Run every busy lane up to the end of its shortest remaining message: no lane changes
    // in between, so the per-block bookkeeping stays minimal.
    size_t steps = SIZE_MAX;
    for (int j = 0; j < 8; j++)
      if (lane_msg[j] >= 0 && msg_blocks_left(&lanes[j]) < steps) steps = msg_blocks_left(&lanes[j]);
    const uint8_t *blocks[8];
    bool last;
    for (size_t s = 0; s < steps; s++) {
      for (int j = 0; j < 8; j++) {
        if (lane_msg[j] >= 0) blocks[j] = msg_next(&lanes[j], &last);
        else blocks[j] = zero_block;
      }
      compress8(st, blocks);
    }
    for (int j = 0; j < 8; j++) {
      if (lane_msg[j] < 0 || msg_blocks_left(&lanes[j]) != 0) continue;
      uint64_t s[8];
      for (int w = 0; w < 8; w++) s[w] = st[w][j];
      write_digest(out + 32 * lane_msg[j], s);
      lane_msg[j] = -1;
      busy--;
    }
  }
}

static bool cpu_has_avx512(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw");
}
#else
static bool cpu_has_avx512(void) { return false; }
#endif

// ---- Node-API glue.

static size_t element_size(napi_typedarray_type type) {
  switch (type) {
  case napi_int8_array:
  case napi_uint8_array:
  case napi_uint8_clamped_array:
    return 1;
  case napi_int16_array:
  case napi_uint16_array:
    return 2;
  case napi_int32_array:
  case napi_uint32_array:
  case napi_float32_array:
    return 4;
  case napi_float64_array:
  case napi_bigint64_array:
  case napi_biguint64_array:
    return 8;
  default:
    return 0;
  }
}

// The bytes of a TypedArray argument; false (with a TypeError pending) otherwise.
static bool typed_bytes(napi_env env, napi_value v, const char *what, napi_typedarray_type *type, uint8_t **data,
                        size_t *bytes, size_t *length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) {
    napi_throw_type_error(env, NULL, what);
    return false;
  }
  void *p = NULL;
  size_t len = 0;
  if (napi_get_typedarray_info(env, v, type, &len, &p, NULL, NULL) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return false;
  }
  size_t es = element_size(*type);
  if (es == 0) {
    napi_throw_type_error(env, NULL, what);
    return false;
  }
  // `p` already points at the view's first element (byte offset applied).
  *data = (uint8_t *)p;
  *bytes = len * es;
  *length = len;
  return true;
}

static napi_value digest_many_impl(napi_env env, napi_callback_info info, bool allow_simd) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "digestMany(data, starts, sizes, out): four arguments are required");
    return NULL;
  }
  napi_typedarray_type type;
  uint8_t *data, *pstarts, *psizes, *out;
  size_t data_bytes, n, n2, out_bytes, unused;
  if (!typed_bytes(env, argv[0], "data must be a TypedArray", &type, &data, &data_bytes, &unused)) return NULL;
  if (!typed_bytes(env, argv[1], "starts must be a Float64Array", &type, &pstarts, &unused, &n)) return NULL;
  if (type != napi_float64_array) {
    napi_throw_type_error(env, NULL, "starts must be a Float64Array");
    return NULL;
  }
  if (!typed_bytes(env, argv[2], "sizes must be a Float64Array", &type, &psizes, &unused, &n2)) return NULL;
  if (type != napi_float64_array) {
    napi_throw_type_error(env, NULL, "sizes must be a Float64Array");
    return NULL;
  }
  if (!typed_bytes(env, argv[3], "out must be a Uint8Array", &type, &out, &out_bytes, &unused)) return NULL;
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "out must be a Uint8Array");
    return NULL;
  }
  if (n != n2) {
    napi_throw_range_error(env, NULL, "starts and sizes must have the same length");
    return NULL;
  }
  if (n > out_bytes / 32) {
    napi_throw_range_error(env, NULL, "out is too small: it needs 32 bytes per range");
    return NULL;
  }
  if (n == 0) return NULL;
  size_t *buf = malloc(n * 2 * sizeof(size_t) + n * sizeof(size_t) + 32 * n);
  if (!buf) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  size_t *starts = buf, *sizes = buf + n, *order = buf + 2 * n;
  uint8_t *digests = (uint8_t *)(buf + 3 * n);
  for (size_t i = 0; i < n; i++) {
    double s, z;
    memcpy(&s, pstarts + 8 * i, 8); // Float64Array data is 8-byte aligned, memcpy avoids assuming it
    memcpy(&z, psizes + 8 * i, 8);
    // Non-negative integers with start + size <= data's byteLength (NaN fails every test).
    if (!(s >= 0 && z >= 0 && s <= (double)data_bytes && z <= (double)data_bytes - s && s == (double)(size_t)s &&
          z == (double)(size_t)z)) {
      free(buf);
      napi_throw_range_error(env, NULL, "every range [start, start + size) must lie within data");
      return NULL;
    }
    starts[i] = (size_t)s;
    sizes[i] = (size_t)z;
  }
  static const uint8_t empty[1];
  if (!data) data = (uint8_t *)empty; // detached or zero-length buffer: only size-0 ranges got here
#if HAVE_AVX512_CODE
  if (allow_simd && cpu_has_avx512()) digest_avx512(data, starts, sizes, n, digests, order);
  else digest_scalar(data, starts, sizes, n, digests);
#else
  (void)allow_simd;
  digest_scalar(data, starts, sizes, n, digests);
#endif
  // Digests go to a private buffer first, so `out` may even overlap `data`.
  memcpy(out, digests, 32 * n);
  free(buf);
  return NULL;
}

static napi_value digest_many(napi_env env, napi_callback_info info) { return digest_many_impl(env, info, true); }

static napi_value digest_many_scalar(napi_env env, napi_callback_info info) {
  return digest_many_impl(env, info, false);
}

static napi_value supported(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, cpu_has_avx512(), &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "digestMany", NAPI_AUTO_LENGTH, digest_many, NULL, &fn);
  napi_set_named_property(env, exports, "digestMany", fn);
  napi_create_function(env, "digestManyScalar", NAPI_AUTO_LENGTH, digest_many_scalar, NULL, &fn);
  napi_set_named_property(env, exports, "digestManyScalar", fn);
  napi_create_function(env, "supported", NAPI_AUTO_LENGTH, supported, NULL, &fn);
  napi_set_named_property(env, exports, "supported", fn);
  return exports;
}
