#include "COpenSSL.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

int sluice_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t data_len, uint8_t *out) {
    unsigned int out_len = 0;
    return HMAC(EVP_sha256(), key, (int)key_len, data, data_len, out, &out_len) != NULL && out_len == 32;
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
