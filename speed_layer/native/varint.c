/*
 * Variable-length integers for the rollup state records (rollup.c, formats 3 and 4): LEB128,
 * seven bits a byte, low bits first; signed values zigzag-mapped so that small negative
 * numbers stay short. A field that is usually close to another (a candle's high to its
 * open, its last trade time to its first) is written as the difference, taken modulo
 * 2^64 so that the round trip is exact for every int64, however far apart the two are.
 */
#include "hotpath.h"

static inline uint64_t zigzag(int64_t v) {
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t unzigzag(uint64_t z) {
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

char *put_u128(char *at, u128 v) {
    while (v >= 0x80) {
        *at++ = (char)((uint64_t)v | 0x80);
        v >>= 7;
    }
    *at++ = (char)v;
    return at;
}

char *put_uvarint(char *at, uint64_t v) {
    return put_u128(at, v);
}

char *put_svarint(char *at, int64_t v) {
    return put_uvarint(at, zigzag(v));
}

char *put_delta(char *at, int64_t value, int64_t base) {
    return put_svarint(at, (int64_t)((uint64_t)value - (uint64_t)base));
}

/* Up to `bits` bits, seven a byte; a number that runs past the end of the data or past
 * `bits` (more bytes, or bits set beyond them in its last byte) marks the reader bad (and
 * reads as 0). */
static u128 get_bits(VarintReader *r, int bits) {
    u128 v = 0;
    for (int shift = 0; shift < bits; shift += 7) {
        if (r->at >= r->end) break;
        unsigned char byte = (unsigned char)*r->at++;
        if (shift + 7 > bits && (byte & 0x7f) >> (bits - shift)) break; /* overflows */
        v |= (u128)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) return v;
    }
    r->bad = 1;
    return 0;
}

uint64_t get_uvarint(VarintReader *r) {
    return (uint64_t)get_bits(r, 64);
}

int64_t get_svarint(VarintReader *r) {
    return unzigzag(get_uvarint(r));
}

int64_t get_delta(VarintReader *r, int64_t base) {
    return (int64_t)((uint64_t)base + (uint64_t)get_svarint(r));
}

u128 get_u128(VarintReader *r) {
    return get_bits(r, 128);
}
