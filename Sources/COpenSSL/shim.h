#ifndef ALVH_COPENSSL_SHIM_H
#define ALVH_COPENSSL_SHIM_H

// The single door to OpenSSL 3 (libcrypto). Only the ALVHSigning module imports this.
// Swift cannot import C macros that take arguments, so the few we need are
// wrapped in `static inline` functions prefixed `alvh_`.

#include <openssl/opensslv.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/rand.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/core_names.h>

#if OPENSSL_VERSION_MAJOR < 3
#error "alvh needs OpenSSL 3 (libssl-dev >= 3.0)"
#endif

/// OPENSSL_free is a macro adding file/line.
static inline void alvh_OPENSSL_free(void *ptr) { OPENSSL_free(ptr); }

/// BIO_get_mem_data is a macro over BIO_ctrl.
static inline long alvh_BIO_get_mem_data(BIO *bio, char **out) { return BIO_get_mem_data(bio, out); }

/// OPENSSL_cleanse is a real function, wrapped for symmetry.
static inline void alvh_cleanse(void *ptr, size_t len) { OPENSSL_cleanse(ptr, len); }

/// ERR_GET_LIB / ERR_GET_REASON are static inline in 3.x, but wrapping keeps the import stable.
static inline int alvh_ERR_GET_LIB(unsigned long e) { return ERR_GET_LIB(e); }
static inline int alvh_ERR_GET_REASON(unsigned long e) { return ERR_GET_REASON(e); }

/// The OpenSSL version text (OpenSSL_version is fine, but the constant is a macro).
static inline const char *alvh_openssl_version_text(void) { return OpenSSL_version(OPENSSL_VERSION); }

/// EVP_PKEY_ED25519 and EVP_PKEY_EC are macros over NIDs.
static inline int alvh_EVP_PKEY_ED25519(void) { return EVP_PKEY_ED25519; }
static inline int alvh_EVP_PKEY_EC(void) { return EVP_PKEY_EC; }
static inline int alvh_NID_P256(void) { return NID_X9_62_prime256v1; }
static inline int alvh_NID_hmacWithSHA256(void) { return NID_hmacWithSHA256; }

/// Key parameter names (string macros) for EVP_PKEY_get_*_param.
static inline const char *alvh_PARAM_EC_ENCODING(void) { return OSSL_PKEY_PARAM_EC_ENCODING; }
static inline const char *alvh_PARAM_EC_PUB_X(void) { return OSSL_PKEY_PARAM_EC_PUB_X; }
static inline const char *alvh_PARAM_EC_PUB_Y(void) { return OSSL_PKEY_PARAM_EC_PUB_Y; }

/// The passphrase callback type OpenSSL's PEM readers take.
typedef int (*alvh_pem_password_cb)(char *buf, int size, int rwflag, void *userdata);

#endif
