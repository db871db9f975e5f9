// SHA512/256 (FIPS 180-4) of many byte ranges at once. With AVX-512 (F+VL+BW) the 8 64-bit
// lanes of the zmm registers each carry one independent message ("multi-buffer" hashing, as
// in isa-l_crypto's sha512_mb); with AVX2 the 4 lanes of the ymm registers do; without
// either a portable scalar C SHA-512 does the work. The vector code is compiled with function
// target attributes, so the module loads anywhere.
#define _GNU_SOURCE
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_SIMD_CODE 1
#else
#define HAVE_SIMD_CODE 0
#endif

// The 80 round constants (FIPS 180-4 4.2.3), as an X-macro: K and K4 are made from one list.
#define SHA512_K(X) \
  X(0x428a2f98d728ae22ULL) X(0x7137449123ef65cdULL) X(0xb5c0fbcfec4d3b2fULL) X(0xe9b5dba58189dbbcULL) \
  X(0x3956c25bf348b538ULL) X(0x59f111f1b605d019ULL) X(0x923f82a4af194f9bULL) X(0xab1c5ed5da6d8118ULL) \
  X(0xd807aa98a3030242ULL) X(0x12835b0145706fbeULL) X(0x243185be4ee4b28cULL) X(0x550c7dc3d5ffb4e2ULL) \
  X(0x72be5d74f27b896fULL) X(0x80deb1fe3b1696b1ULL) X(0x9bdc06a725c71235ULL) X(0xc19bf174cf692694ULL) \
  X(0xe49b69c19ef14ad2ULL) X(0xefbe4786384f25e3ULL) X(0x0fc19dc68b8cd5b5ULL) X(0x240ca1cc77ac9c65ULL) \
  X(0x2de92c6f592b0275ULL) X(0x4a7484aa6ea6e483ULL) X(0x5cb0a9dcbd41fbd4ULL) X(0x76f988da831153b5ULL) \
  X(0x983e5152ee66dfabULL) X(0xa831c66d2db43210ULL) X(0xb00327c898fb213fULL) X(0xbf597fc7beef0ee4ULL) \
  X(0xc6e00bf33da88fc2ULL) X(0xd5a79147930aa725ULL) X(0x06ca6351e003826fULL) X(0x142929670a0e6e70ULL) \
  X(0x27b70a8546d22ffcULL) X(0x2e1b21385c26c926ULL) X(0x4d2c6dfc5ac42aedULL) X(0x53380d139d95b3dfULL) \
  X(0x650a73548baf63deULL) X(0x766a0abb3c77b2a8ULL) X(0x81c2c92e47edaee6ULL) X(0x92722c851482353bULL) \
  X(0xa2bfe8a14cf10364ULL) X(0xa81a664bbc423001ULL) X(0xc24b8b70d0f89791ULL) X(0xc76c51a30654be30ULL) \
  X(0xd192e819d6ef5218ULL) X(0xd69906245565a910ULL) X(0xf40e35855771202aULL) X(0x106aa07032bbd1b8ULL) \
  X(0x19a4c116b8d2d0c8ULL) X(0x1e376c085141ab53ULL) X(0x2748774cdf8eeb99ULL) X(0x34b0bcb5e19b48a8ULL) \
  X(0x391c0cb3c5c95a63ULL) X(0x4ed8aa4ae3418acbULL) X(0x5b9cca4f7763e373ULL) X(0x682e6ff3d6b2b8a3ULL) \
  X(0x748f82ee5defb2fcULL) X(0x78a5636f43172f60ULL) X(0x84c87814a1f0ab72ULL) X(0x8cc702081a6439ecULL) \
  X(0x90befffa23631e28ULL) X(0xa4506cebde82bde9ULL) X(0xbef9a3f7b2c67915ULL) X(0xc67178f2e372532bULL) \
  X(0xca273eceea26619cULL) X(0xd186b8c721c0c207ULL) X(0xeada7dd6cde0eb1eULL) X(0xf57d4f7fee6ed178ULL) \
  X(0x06f067aa72176fbaULL) X(0x0a637dc5a2c898a6ULL) X(0x113f9804bef90daeULL) X(0x1b710b35131c471bULL) \
  X(0x28db77f523047d84ULL) X(0x32caab7b40c72493ULL) X(0x3c9ebe0a15c9bebcULL) X(0x431d67c49c100d4cULL) \
  X(0x4cc5d4becb3e42b6ULL) X(0x597f299cfc657e2aULL) X(0x5fcb6fab3ad6faecULL) X(0x6c44198c4a475817ULL)

#define K1(k) k,
static const uint64_t K[80] __attribute__((aligned(64))) = {SHA512_K(K1)};

#if HAVE_SIMD_CODE
// K with each constant four times: the AVX2 rounds add it from memory, no broadcast.
#define K4ROW(k) {k, k, k, k},
static const uint64_t K4[80][4] __attribute__((aligned(32))) = {SHA512_K(K4ROW)};
#endif

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

#if HAVE_SIMD_CODE
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

#define AVX2_TARGET __attribute__((target("avx2")))
AVX2_TARGET static inline __m256i ror4(__m256i x, int n) {
  return _mm256_or_si256(_mm256_srli_epi64(x, n), _mm256_slli_epi64(x, 64 - n));
}
// Four SHA-512 compressions, lane j hashing blocks[j] into st[*][j] (lanes 0-3 of st's rows).
AVX2_TARGET static void compress4(uint64_t st[8][8], const uint8_t *const blocks[8]) {
  const __m256i bswap = _mm256_set_epi8(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                        13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i rot8 = _mm256_set_epi8(8, 15, 14, 13, 12, 11, 10, 9, 0, 7, 6, 5, 4, 3, 2, 1, 8, 15, 14, 13, 12,
                                       11, 10, 9, 0, 7, 6, 5, 4, 3, 2, 1);
  __m256i W[16];
  // Words 4k..4k+3 of the four blocks: a 4x4 transpose of 64-bit words.
#pragma GCC unroll 4
  for (int k = 0; k < 4; k++) {
    __m256i r0 = _mm256_loadu_si256((const __m256i *)(blocks[0] + 32 * k));
    __m256i r1 = _mm256_loadu_si256((const __m256i *)(blocks[1] + 32 * k));
    __m256i r2 = _mm256_loadu_si256((const __m256i *)(blocks[2] + 32 * k));
    __m256i r3 = _mm256_loadu_si256((const __m256i *)(blocks[3] + 32 * k));
    __m256i t0 = _mm256_unpacklo_epi64(r0, r1); // r0[0] r1[0] r0[2] r1[2]
    __m256i t1 = _mm256_unpackhi_epi64(r0, r1); // r0[1] r1[1] r0[3] r1[3]
    __m256i t2 = _mm256_unpacklo_epi64(r2, r3);
    __m256i t3 = _mm256_unpackhi_epi64(r2, r3);
    W[4 * k + 0] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(t0, t2, 0x20), bswap);
    W[4 * k + 1] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(t1, t3, 0x20), bswap);
    W[4 * k + 2] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(t0, t2, 0x31), bswap);
    W[4 * k + 3] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(t1, t3, 0x31), bswap);
  }
  __m256i a = _mm256_load_si256((const __m256i *)st[0]), b = _mm256_load_si256((const __m256i *)st[1]),
          c = _mm256_load_si256((const __m256i *)st[2]), d = _mm256_load_si256((const __m256i *)st[3]),
          e = _mm256_load_si256((const __m256i *)st[4]), f = _mm256_load_si256((const __m256i *)st[5]),
          g = _mm256_load_si256((const __m256i *)st[6]), h = _mm256_load_si256((const __m256i *)st[7]);
  const __m256i a0 = a, b0 = b, c0 = c, d0 = d, e0 = e, f0 = f, g0 = g, h0 = h;
#define X2(x, y) _mm256_xor_si256((x), (y))
#define A2(x, y) _mm256_add_epi64((x), (y))
#define CH4(x, y, z) X2(_mm256_and_si256(X2((y), (z)), (x)), (z))
#define S0_4(x) X2(X2(ror4((x), 28), ror4((x), 34)), ror4((x), 39))
#define S1_4(x) X2(X2(ror4((x), 14), ror4((x), 18)), ror4((x), 41))
#define s0_4(x) X2(X2(ror4((x), 1), _mm256_shuffle_epi8((x), rot8)), _mm256_srli_epi64((x), 7))
#define s1_4(x) X2(X2(ror4((x), 19), ror4((x), 61)), _mm256_srli_epi64((x), 6))
// Round t (k = t mod 16); with `sched`, W[k] first becomes the schedule's word t.
// Maj(a, b, c) = ((a ^ b) & (b ^ c)) ^ b, and this round's a ^ b is the next round's b ^ c.
#define ROUND4(a, b, c, d, e, f, g, h, t, k, sched)                                                  \
  do {                                                                                             \
    if (sched)                                                                                     \
      W[k] = A2(A2(W[k], s0_4(W[((k) + 1) & 15])), A2(W[((k) + 9) & 15], s1_4(W[((k) + 14) & 15]))); \
    __m256i t1 = A2(A2(h, S1_4(e)), A2(CH4(e, f, g), A2(_mm256_load_si256((const __m256i *)K4[(t) + (k)]), W[k]))); \
    d = A2(d, t1);                                                                                 \
    __m256i ab = X2(a, b);                                                                         \
    h = A2(t1, A2(S0_4(a), X2(_mm256_and_si256(ab, bc), b)));                                      \
    bc = ab;                                                                                       \
  } while (0)
  __m256i bc = X2(b, c);
  // Rounds 0-15, then a loop of three times 16 scheduled ones: a fully unrolled compression
  // is larger than the micro-op cache and then decodes at about half the speed.
#define ROUNDS4_16(t, sched)                             \
  do {                                                   \
    ROUND4(a, b, c, d, e, f, g, h, t, 0, sched);         \
    ROUND4(h, a, b, c, d, e, f, g, t, 1, sched);         \
    ROUND4(g, h, a, b, c, d, e, f, t, 2, sched);         \
    ROUND4(f, g, h, a, b, c, d, e, t, 3, sched);         \
    ROUND4(e, f, g, h, a, b, c, d, t, 4, sched);         \
    ROUND4(d, e, f, g, h, a, b, c, t, 5, sched);         \
    ROUND4(c, d, e, f, g, h, a, b, t, 6, sched);         \
    ROUND4(b, c, d, e, f, g, h, a, t, 7, sched);         \
    ROUND4(a, b, c, d, e, f, g, h, t, 8, sched);         \
    ROUND4(h, a, b, c, d, e, f, g, t, 9, sched);         \
    ROUND4(g, h, a, b, c, d, e, f, t, 10, sched);        \
    ROUND4(f, g, h, a, b, c, d, e, t, 11, sched);        \
    ROUND4(e, f, g, h, a, b, c, d, t, 12, sched);        \
    ROUND4(d, e, f, g, h, a, b, c, t, 13, sched);        \
    ROUND4(c, d, e, f, g, h, a, b, t, 14, sched);        \
    ROUND4(b, c, d, e, f, g, h, a, t, 15, sched);        \
  } while (0)
  ROUNDS4_16(0, 0);
#pragma GCC unroll 1
  for (int t = 16; t < 80; t += 16) ROUNDS4_16(t, 1);
  _mm256_store_si256((__m256i *)st[0], A2(a, a0));
  _mm256_store_si256((__m256i *)st[1], A2(b, b0));
  _mm256_store_si256((__m256i *)st[2], A2(c, c0));
  _mm256_store_si256((__m256i *)st[3], A2(d, d0));
  _mm256_store_si256((__m256i *)st[4], A2(e, e0));
  _mm256_store_si256((__m256i *)st[5], A2(f, f0));
  _mm256_store_si256((__m256i *)st[6], A2(g, g0));
  _mm256_store_si256((__m256i *)st[7], A2(h, h0));
}

// Below this many busy lanes with no message left to start, the rest is finished one lane at
// a time with the scalar code (a mostly idle vector is slower than scalar SHA-512).
#define MIN_LANES 2

static const uint8_t zero_block[128];

static int cmp_desc(const void *x, const void *y, void *sizes) {
  size_t a = ((const size_t *)sizes)[*(const size_t *)x], b = ((const size_t *)sizes)[*(const size_t *)y];
  return a < b ? 1 : a > b ? -1 : 0;
}

typedef void (*compress_fn)(uint64_t st[8][8], const uint8_t *const blocks[8]);

// Multi-buffer hashing over `width` lanes (8: AVX-512, 4: AVX2) with `compress`.
static void digest_mb(const uint8_t *data, const size_t *starts, const size_t *sizes, size_t n, uint8_t *out,
                      size_t *order, int width, compress_fn compress) {
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
    for (int j = 0; j < width && next < n; j++) {
      if (lane_msg[j] >= 0) continue;
      size_t i = order[next++];
      lane_msg[j] = (long)i;
      msg_init(&lanes[j], data + starts[i], sizes[i]);
      for (int w = 0; w < 8; w++) st[w][j] = IV[w];
      busy++;
    }
    if (busy == 0) break;
    if (next == n && busy < MIN_LANES) {
      for (int j = 0; j < width; j++) {
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
    for (int j = 0; j < width; j++)
      if (lane_msg[j] >= 0 && msg_blocks_left(&lanes[j]) < steps) steps = msg_blocks_left(&lanes[j]);
    const uint8_t *blocks[8];
    bool last;
    for (size_t s = 0; s < steps; s++) {
      for (int j = 0; j < width; j++) {
        if (lane_msg[j] >= 0) blocks[j] = msg_next(&lanes[j], &last);
        else blocks[j] = zero_block;
      }
      compress(st, blocks);
    }
    for (int j = 0; j < width; j++) {
      if (lane_msg[j] < 0 || msg_blocks_left(&lanes[j]) != 0) continue;
      uint64_t s[8];
      for (int w = 0; w < 8; w++) s[w] = st[w][j];
      write_digest(out + 32 * lane_msg[j], s);
      lane_msg[j] = -1;
      busy--;
    }
  }
}

#endif

// The vector code this CPU runs: 8 (AVX-512 F+VL+BW), 4 (AVX2) or 0 lanes.
static int cpu_simd_width(void) {
#if HAVE_SIMD_CODE
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))
    return 8;
  if (__builtin_cpu_supports("avx2")) return 4;
#endif
  return 0;
}

// Hashes with `width` lanes (at most what the CPU runs), or the scalar code for 0.
static void digest_width(const uint8_t *data, const size_t *starts, const size_t *sizes, size_t n, uint8_t *out,
                         size_t *order, int width) {
#if HAVE_SIMD_CODE
  if (width == 8) digest_mb(data, starts, sizes, n, out, order, 8, compress8);
  else if (width == 4) digest_mb(data, starts, sizes, n, out, order, 4, compress4);
  else
#endif
  {
    (void)order;
    (void)width;
    digest_scalar(data, starts, sizes, n, out);
  }
}

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

// `max_width`: the most lanes to use (the CPU's own limit applies too).
static napi_value digest_many_impl(napi_env env, napi_callback_info info, int max_width) {
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
  int width = cpu_simd_width();
  digest_width(data, starts, sizes, n, digests, order, width < max_width ? width : max_width);
  // Digests go to a private buffer first, so `out` may even overlap `data`.
  memcpy(out, digests, 32 * n);
  free(buf);
  return NULL;
}

static napi_value digest_many(napi_env env, napi_callback_info info) { return digest_many_impl(env, info, 8); }

static napi_value digest_many_avx2(napi_env env, napi_callback_info info) { return digest_many_impl(env, info, 4); }

static napi_value digest_many_scalar(napi_env env, napi_callback_info info) { return digest_many_impl(env, info, 0); }

static napi_value supported(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, cpu_simd_width() > 0, &result);
  return result;
}

static napi_value simd_width(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_int32(env, cpu_simd_width(), &result);
  return result;
}

NAPI_MODULE_INIT() {
  const napi_property_descriptor fns[] = {
      {"digestMany", NULL, digest_many, NULL, NULL, NULL, napi_enumerable, NULL},
      {"digestManyAvx2", NULL, digest_many_avx2, NULL, NULL, NULL, napi_enumerable, NULL},
      {"digestManyScalar", NULL, digest_many_scalar, NULL, NULL, NULL, napi_enumerable, NULL},
      {"supported", NULL, supported, NULL, NULL, NULL, napi_enumerable, NULL},
      {"simdWidth", NULL, simd_width, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  return exports;
}
