/* src/crypto/keyprov_int.h: the key providers' table of operations,
 * shared by keyprov.c (the facade and the file provider) and
 * kp_pkcs11.c.  Other subsystems include keyprov.h only. */
#ifndef CF_CRYPTO_KEYPROV_INT_H
#define CF_CRYPTO_KEYPROV_INT_H

#include "crypto/keyprov.h"

struct kp_ops {
	const char	*name;
	cf_err		(*wrap)(void *impl, const struct cf_key *dek,
			    const void *ad, size_t adlen,
			    char kek_id[CF_KEK_ID_MAX],
			    uint8_t wrapped[CF_WRAPPED_DEK_LEN],
			    struct cf_error *err);
	cf_err		(*unwrap)(void *impl, const char *kek_id,
			    const void *ad, size_t adlen,
			    const uint8_t wrapped[CF_WRAPPED_DEK_LEN],
			    struct cf_key **dek, struct cf_error *err);
	cf_err		(*rotate)(void *impl, char new_id[CF_KEK_ID_MAX],
			    struct cf_error *err);
	void		(*active_id)(void *impl, char id[CF_KEK_ID_MAX]);
	cf_err		(*retire)(void *impl, const char *id,
			    struct cf_error *err);
	cf_err		(*list)(void *impl, struct cf_kek_info *out,
			    size_t max, size_t *n, struct cf_error *err);
	cf_err		(*check)(void *impl, struct cf_error *err);
	void		(*lose)(void *impl, bool lost);
	void		(*close)(void *impl);
};

/* Make the facade around impl (owned: closed by ops->close on failure
 * and at cf_keyprov_close). */
cf_err	cf_keyprov_make(const struct kp_ops *ops, void *impl,
	    struct cf_keyprov **out, struct cf_error *err);

/* Append keyring kr's KEKs to out[*n..max) (where "keyring"); with
 * active_ok false none is marked active (a PKCS#11 provider's legacy
 * keyring). */
cf_err	cf_keyprov_keyring_list(struct cf_keyring *kr,
	    struct cf_kek_info *out, size_t max, size_t *n, bool active_ok,
	    struct cf_error *err);

#endif
