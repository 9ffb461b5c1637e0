/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, whose per-call
   algorithm fetch is what sluice_hmac_sha256_parts avoids. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "COpenSSL.h"

#include <string.h>
#include <openssl/sha.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

int sluice_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t data_len, uint8_t *out) {
    unsigned int out_len = 0;
    return HMAC(EVP_sha256(), key, (int)key_len, data, data_len, out, &out_len) != NULL && out_len == 32;
}

int sluice_hmac_sha256_parts(const uint8_t *key, size_t key_len, const uint8_t *head, size_t head_len,
                             const uint8_t *tail, size_t tail_len, uint8_t out[32]) {
    uint8_t block[SHA256_CBLOCK] = {0};
    uint8_t pad[SHA256_CBLOCK];
    uint8_t inner[SHA256_DIGEST_LENGTH];
    SHA256_CTX ctx;
    if (key_len > SHA256_CBLOCK) {
        if (SHA256(key, key_len, block) == NULL) return 0;
    } else if (key_len > 0) {
        memcpy(block, key, key_len);
    }
    for (size_t i = 0; i < SHA256_CBLOCK; i++) pad[i] = block[i] ^ 0x36;
    if (!SHA256_Init(&ctx) || !SHA256_Update(&ctx, pad, sizeof pad)) return 0;
    if (head_len > 0 && !SHA256_Update(&ctx, head, head_len)) return 0;
    if (tail_len > 0 && !SHA256_Update(&ctx, tail, tail_len)) return 0;
    if (!SHA256_Final(inner, &ctx)) return 0;
    for (size_t i = 0; i < SHA256_CBLOCK; i++) pad[i] = block[i] ^ 0x5c;
    if (!SHA256_Init(&ctx) || !SHA256_Update(&ctx, pad, sizeof pad) || !SHA256_Update(&ctx, inner, sizeof inner)) return 0;
    int ok = SHA256_Final(out, &ctx);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
    return ok;
}

int sluice_sha256(const uint8_t *data, size_t data_len, uint8_t out[32]) {
    unsigned int out_len = 0;
    return EVP_Digest(data, data_len, out, &out_len, EVP_sha256(), NULL) == 1 && out_len == 32;
}

int sluice_constant_time_compare(const void *a, const void *b, size_t len) { return CRYPTO_memcmp(a, b, len); }

int sluice_random_bytes(uint8_t *out, size_t len) { return RAND_bytes(out, (int)len); }

int sluice_aes256gcm_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                          const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16]) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx != NULL, n = 0;
    ok = ok && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce);
    ok = ok && (aad_len == 0 || EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len));
    ok = ok && (len == 0 || EVP_EncryptUpdate(ctx, out, &n, in, (int)len));
    ok = ok && EVP_EncryptFinal_ex(ctx, out + (len == 0 ? 0 : n), &n);
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag);
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

int sluice_aes256gcm_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                          const uint8_t *in, size_t len, const uint8_t tag[16], uint8_t *out) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx != NULL, n = 0;
    ok = ok && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce);
    ok = ok && (aad_len == 0 || EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len));
    ok = ok && (len == 0 || EVP_DecryptUpdate(ctx, out, &n, in, (int)len));
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag);
    ok = ok && EVP_DecryptFinal_ex(ctx, out + (len == 0 ? 0 : n), &n) > 0;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}
