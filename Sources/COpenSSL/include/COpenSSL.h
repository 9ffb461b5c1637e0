// Shims over OpenSSL's libcrypto for Swift: typed, prefixed wrappers. No logic lives here.
#ifndef SLUICE_COPENSSL_H
#define SLUICE_COPENSSL_H

#include <stddef.h>
#include <stdint.h>

/// HMAC-SHA256 of `data` under `key` into `out` (32 bytes). Returns 1 on success.
int sluice_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t data_len, uint8_t *out);

/* HMAC-SHA256 of `head` followed by `tail` (no copy joins them), on the SHA-256 block
   functions directly: OpenSSL 3's one-shot HMAC() looks up its algorithm by name on every
   call, which was most of its cost for a webhook-sized message. Returns 1 on success. */
int sluice_hmac_sha256_parts(const uint8_t *key, size_t key_len, const uint8_t *head, size_t head_len,
                             const uint8_t *tail, size_t tail_len, uint8_t out[32]);

/// Compares `len` bytes in constant time: 0 when equal.
int sluice_sha256(const uint8_t *data, size_t data_len, uint8_t out[32]);

int sluice_constant_time_compare(const void *a, const void *b, size_t len);

/// Fills `out` with `len` cryptographically random bytes. Returns 1 on success.
int sluice_random_bytes(uint8_t *out, size_t len);

/// AES-256-GCM encryption with a 12-byte nonce; writes `len` bytes to `out` and the
/// 16-byte tag to `tag`. Returns 1 on success.
int sluice_aes256gcm_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                          const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16]);

/// AES-256-GCM decryption; returns 1 only when the tag authenticates `in` and `aad`.
int sluice_aes256gcm_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                          const uint8_t *in, size_t len, const uint8_t tag[16], uint8_t *out);

#endif
