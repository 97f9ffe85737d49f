/* src/crypto/keyprov.c: the key-provider facade (keyprov.h) and the
 * file provider, a thin layer over the sealed keyring (keyring.c).  The
 * PKCS#11 provider is kp_pkcs11.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "crypto/keyprov_int.h"

struct cf_keyprov {
	const struct kp_ops	*ops;
	void			*impl;
};

cf_err
cf_keyprov_make(const struct kp_ops *ops, void *impl,
    struct cf_keyprov **out, struct cf_error *err)
{
	struct cf_keyprov	*kp;

	*out = NULL;
	if ((kp = cf_calloc(1, sizeof(*kp))) == NULL) {
		ops->close(impl);
		return cf_error_set(err, CF_E_NOMEM, "key provider: out of "
		    "memory");
	}
	kp->ops = ops;
	kp->impl = impl;
	*out = kp;
	return CF_OK;
}

void
cf_keyprov_close(struct cf_keyprov *kp)
{
	if (kp == NULL)
		return;
	kp->ops->close(kp->impl);
	cf_free(kp);
}

const char *
cf_keyprov_name(const struct cf_keyprov *kp)
{
	return kp->ops->name;
}

cf_err
cf_keyprov_wrap(struct cf_keyprov *kp, const struct cf_key *dek,
    const void *ad, size_t adlen, char kek_id[CF_KEK_ID_MAX],
    uint8_t wrapped[CF_WRAPPED_DEK_LEN], struct cf_error *err)
{
	return kp->ops->wrap(kp->impl, dek, ad, adlen, kek_id, wrapped, err);
}

cf_err
cf_keyprov_unwrap(struct cf_keyprov *kp, const char *kek_id, const void *ad,
    size_t adlen, const uint8_t wrapped[CF_WRAPPED_DEK_LEN],
    struct cf_key **dek, struct cf_error *err)
{
	*dek = NULL;
	if (kek_id == NULL || (ad == NULL && adlen > 0))
		return cf_error_set(err, CF_E_INVAL, "unwrap: bad arguments");
	return kp->ops->unwrap(kp->impl, kek_id, ad, adlen, wrapped, dek,
	    err);
}

cf_err
cf_keyprov_rewrap(struct cf_keyprov *kp, const char *kek_id, const void *ad,
    size_t adlen, const uint8_t wrapped[CF_WRAPPED_DEK_LEN],
    char new_kek_id[CF_KEK_ID_MAX], uint8_t new_wrapped[CF_WRAPPED_DEK_LEN],
    struct cf_error *err)
{
	struct cf_key	*dek = NULL;
	cf_err		 rc;

	rc = cf_keyprov_unwrap(kp, kek_id, ad, adlen, wrapped, &dek, err);
	if (rc == CF_OK)
		rc = kp->ops->wrap(kp->impl, dek, ad, adlen, new_kek_id,
		    new_wrapped, err);
	cf_key_free(dek);	/* wipes */
	return rc;
}

cf_err
cf_keyprov_rotate(struct cf_keyprov *kp, char new_id[CF_KEK_ID_MAX],
    struct cf_error *err)
{
	return kp->ops->rotate(kp->impl, new_id, err);
}

void
cf_keyprov_active_id(struct cf_keyprov *kp, char id[CF_KEK_ID_MAX])
{
	kp->ops->active_id(kp->impl, id);
}

cf_err
cf_keyprov_retire(struct cf_keyprov *kp, const char *id,
    struct cf_error *err)
{
	return kp->ops->retire(kp->impl, id, err);
}

cf_err
cf_keyprov_list(struct cf_keyprov *kp, struct cf_kek_info *out, size_t max,
    size_t *n, struct cf_error *err)
{
	*n = 0;
	return kp->ops->list(kp->impl, out, max, n, err);
}

cf_err
cf_keyprov_check(struct cf_keyprov *kp, struct cf_error *err)
{
	return kp->ops->check(kp->impl, err);
}

void
cf_keyprov_test_lose(struct cf_keyprov *kp, bool lost)
{
	if (kp->ops->lose != NULL)
		kp->ops->lose(kp->impl, lost);
}

/* --- the file provider --- */

static cf_err
file_wrap(void *impl, const struct cf_key *dek, const void *ad, size_t adlen,
    char kek_id[CF_KEK_ID_MAX], uint8_t wrapped[CF_WRAPPED_DEK_LEN],
    struct cf_error *err)
{
	return cf_keyring_wrap(impl, dek, ad, adlen, kek_id, wrapped, err);
}

static cf_err
file_unwrap(void *impl, const char *kek_id, const void *ad, size_t adlen,
    const uint8_t wrapped[CF_WRAPPED_DEK_LEN], struct cf_key **dek,
    struct cf_error *err)
{
	return cf_keyring_unwrap(impl, kek_id, ad, adlen, wrapped, dek, err);
}

static cf_err
file_rotate(void *impl, char new_id[CF_KEK_ID_MAX], struct cf_error *err)
{
	cf_err	rc;

	rc = cf_keyring_rotate(impl, err);
	if (rc == CF_OK)
		(void)cf_strlcpy(new_id, cf_keyring_active_id(impl),
		    CF_KEK_ID_MAX);
	return rc;
}

static void
file_active_id(void *impl, char id[CF_KEK_ID_MAX])
{
	(void)cf_strlcpy(id, cf_keyring_active_id(impl), CF_KEK_ID_MAX);
}

static cf_err
file_retire(void *impl, const char *id, struct cf_error *err)
{
	return cf_keyring_retire(impl, id, err);
}

struct list_state {
	struct cf_kek_info	*out;
	size_t			 max, n;
};

static cf_err
list_one(void *arg, const char *id, uint64_t created, bool active,
    struct cf_error *err)
{
	struct list_state	*ls = arg;
	struct cf_kek_info	*k;

	if (ls->n >= ls->max)
		return cf_error_set(err, CF_E_LIMIT, "more than %zu KEKs",
		    ls->max);
	k = &ls->out[ls->n++];
	(void)cf_strlcpy(k->id, id, sizeof(k->id));
	k->created = created;
	k->active = active;
	k->where = "keyring";
	return CF_OK;
}

/* The keyring's KEKs appended to out[*n..max). */
cf_err
cf_keyprov_keyring_list(struct cf_keyring *kr, struct cf_kek_info *out,
    size_t max, size_t *n, bool active_ok, struct cf_error *err)
{
	struct list_state	ls = { out, max, *n };
	size_t			i;
	cf_err			rc;

	rc = cf_keyring_each(kr, list_one, &ls, err);
	if (!active_ok)
		for (i = *n; i < ls.n; i++)
			out[i].active = false;
	*n = ls.n;
	return rc;
}

static cf_err
file_list(void *impl, struct cf_kek_info *out, size_t max, size_t *n,
    struct cf_error *err)
{
	return cf_keyprov_keyring_list(impl, out, max, n, true, err);
}

static cf_err
file_check(void *impl, struct cf_error *err)
{
	(void)impl;
	(void)err;
	return CF_OK;
}

static void
file_close(void *impl)
{
	cf_keyring_close(impl);
}

static const struct kp_ops file_ops = {
	"file", file_wrap, file_unwrap, file_rotate, file_active_id,
	file_retire, file_list, file_check, NULL, file_close,
};

cf_err
cf_keyprov_file_open(const char *path, const struct cf_key *master,
    bool create, struct cf_keyprov **out, struct cf_error *err)
{
	struct cf_keyring	*kr = NULL;
	cf_err			 rc;

	*out = NULL;
	rc = cf_keyring_open(path, master, create, &kr, err);
	if (rc != CF_OK)
		return rc;
	return cf_keyprov_make(&file_ops, kr, out, err);
}
