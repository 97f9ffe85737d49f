/* tests/unit/test_store.c: the metadata store (meta_sqlite.c) and the
 * filesystem blob store (blob_fs.c).
 *
 * Listings are checked against a reference implementation of S3
 * ListObjectsV2 over random keys (multibyte UTF-8, '/'); blob writes are
 * checked under injected I/O faults (store_int.h). */
/* cf-link: cf_store cf_crypto cf_base */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/error.h"
#include "base/mem.h"
#include "base/membudget.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "store/blob.h"
#include "store/meta.h"
#include "store/meta_int.h"
#include "store/store_int.h"

/* --- fixtures --- */

/* The audit obligation of a change made by the test itself (a fixture,
 * not a request): it records nothing. */
static cf_err
record_none(void *arg, struct cf_error *err)
{
	(void)arg;
	(void)err;
	return CF_OK;
}

static const struct cf_meta_audit	au_ok = { record_none, NULL };

static char	tmpdir[256];

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	(void)state;
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/cf-test-store-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	cf_blob_test_reset_faults();
	cf_blob_test_no_direct(false);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cf_blob_test_reset_faults();
	cf_blob_test_no_direct(false);
	cf_test_fail_alloc_after(0);
	(void)nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void
path_in(char *out, size_t outsz, const char *name)
{
	(void)snprintf(out, outsz, "%s/%s", tmpdir, name);
}

/* Takes a database back from schema 8 to 7 (the decision generation). */
#define DGEN_DROP "DROP TRIGGER dgen_ns_ins; DROP TRIGGER dgen_ns_upd;" \
	" DROP TRIGGER dgen_ns_del; DROP TRIGGER dgen_role_ins;" \
	" DROP TRIGGER dgen_role_upd; DROP TRIGGER dgen_role_del;" \
	" DROP TABLE decision_gen;"

static struct cf_meta *
meta_open(void)
{
	struct cf_meta	*m = NULL;
	struct cf_error	 e = { 0 };
	char		 p[300];

	path_in(p, sizeof(p), "meta.db");
	if (cf_meta_open(p, &m, &e) != CF_OK)
		fail_msg("%s", e.msg);
	assert_non_null(m);
	return m;
}

static void
mk_ns(struct cf_meta *m, const char *name)
{
	struct cf_ns_rec	ns;

	memset(&ns, 0, sizeof(ns));
	(void)cf_strlcpy(ns.name, name, sizeof(ns.name));
	(void)cf_strlcpy(ns.env, "dev", sizeof(ns.env));
	(void)cf_strlcpy(ns.created_by, "admin", sizeof(ns.created_by));
	ns.created_us = 1000;
	assert_int_equal(cf_meta_ns_create(m, &au_ok, &ns, NULL), CF_OK);
}

static unsigned int	vid_counter;

static void
mk_version(struct cf_version_rec *v, const char *ns, const char *key,
    bool marker)
{
	unsigned int	n = ++vid_counter;
	size_t		i;

	memset(v, 0, sizeof(*v));
	(void)snprintf(v->version_id, sizeof(v->version_id), "%032x", n);
	(void)cf_strlcpy(v->ns, ns, sizeof(v->ns));
	(void)cf_strlcpy(v->key, key, sizeof(v->key));
	v->delete_marker = marker;
	if (!marker) {
		(void)snprintf(v->blob_id, sizeof(v->blob_id), "%032x",
		    n + 0x10000000u);
		v->size = n * 7u;
		memset(v->sha256, 'a', CF_SHA256_HEX_LEN);
		(void)cf_strlcpy(v->content_type, "application/octet-stream",
		    sizeof(v->content_type));
		(void)cf_strlcpy(v->user_meta, "{\"stage\":\"prod\"}",
		    sizeof(v->user_meta));
		(void)cf_strlcpy(v->kek_id, "kek-1", sizeof(v->kek_id));
		for (i = 0; i < CF_WRAPPED_DEK_LEN; i++)
			v->wrapped_dek[i] = (uint8_t)(n + i);
	}
	(void)cf_strlcpy(v->created_by, "alice", sizeof(v->created_by));
	v->created_us = (int64_t)n * 1000;
}

static struct cf_version_rec *
put_version(struct cf_meta *m, const char *ns, const char *key, bool marker)
{
	static struct cf_version_rec	v;
	struct cf_error			e = { 0 };

	mk_version(&v, ns, key, marker);
	assert_int_equal(cf_meta_version_put(m, &au_ok, &v, &e), CF_OK);
	return &v;
}

/* A version of (ns, key) whose blob is blob_id. */
static struct cf_version_rec *
put_version_blob(struct cf_meta *m, const char *ns, const char *key,
    const char *blob_id)
{
	static struct cf_version_rec	v;
	struct cf_error			e = { 0 };

	mk_version(&v, ns, key, false);
	(void)cf_strlcpy(v.blob_id, blob_id, sizeof(v.blob_id));
	assert_int_equal(cf_meta_version_put(m, &au_ok, &v, &e), CF_OK);
	return &v;
}

/* --- namespaces --- */

struct names {
	char	items[64][CF_NS_NAME_MAX];
	size_t	n;
	size_t	stop_after;	/* 0: never */
};

static cf_err
ns_collect(void *arg, const struct cf_ns_rec *ns, struct cf_error *err)
{
	struct names	*l = arg;

	if (l->stop_after != 0 && l->n == l->stop_after)
		return cf_error_set(err, CF_E_LIMIT, "stop");
	(void)cf_strlcpy(l->items[l->n++], ns->name, CF_NS_NAME_MAX);
	return CF_OK;
}

static void
test_store_meta_namespaces(void **state)
{
	struct cf_meta		*m;
	struct cf_ns_rec	 ns, got;
	struct cf_error		 e = { 0 };
	struct names		 l;

	(void)state;
	m = meta_open();
	mk_ns(m, "zeta");
	mk_ns(m, "alpha");
	mk_ns(m, "mid-ns");

	memset(&ns, 0, sizeof(ns));
	(void)cf_strlcpy(ns.name, "alpha", sizeof(ns.name));
	assert_int_equal(cf_meta_ns_create(m, &au_ok, &ns, &e), CF_E_CONFLICT);

	assert_int_equal(cf_meta_ns_get(m, "alpha", &got, NULL), CF_OK);
	assert_string_equal(got.name, "alpha");
	assert_string_equal(got.env, "dev");
	assert_string_equal(got.created_by, "admin");
	assert_int_equal(got.created_us, 1000);
	/* Sensitivity: "" on create stores the default, "internal". */
	assert_string_equal(got.sensitivity, "internal");
	assert_int_equal(cf_meta_ns_set_sensitivity(m, &au_ok, "alpha",
	    "restricted",
	    NULL), CF_OK);
	assert_int_equal(cf_meta_ns_get(m, "alpha", &got, NULL), CF_OK);
	assert_string_equal(got.sensitivity, "restricted");
	assert_int_equal(cf_meta_ns_set_sensitivity(m, &au_ok, "nope", "public",
	    NULL), CF_E_NOTFOUND);
	cf_error_clear(&e);
	assert_int_equal(cf_meta_ns_get(m, "nope", &got, &e), CF_E_NOTFOUND);
	assert_int_equal(e.code, CF_E_NOTFOUND);

	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_ns_list(m, ns_collect, &l, NULL), CF_OK);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[0], "alpha");
	assert_string_equal(l.items[1], "mid-ns");
	assert_string_equal(l.items[2], "zeta");
	/* A callback error stops the walk and is returned. */
	memset(&l, 0, sizeof(l));
	l.stop_after = 1;
	assert_int_equal(cf_meta_ns_list(m, ns_collect, &l, NULL),
	    CF_E_LIMIT);
	assert_int_equal(l.n, 1);

	/* Oversize (unterminated) fields are rejected, never truncated. */
	memset(&ns, 'x', sizeof(ns));
	ns.env[0] = '\0';
	ns.created_by[0] = '\0';
	assert_int_equal(cf_meta_ns_create(m, &au_ok, &ns, NULL), CF_E_INPUT);
	memset(ns.name, 0, sizeof(ns.name));
	(void)cf_strlcpy(ns.name, "envtoolong", sizeof(ns.name));
	memset(ns.env, 'y', sizeof(ns.env));
	assert_int_equal(cf_meta_ns_create(m, &au_ok, &ns, NULL), CF_E_INPUT);
	{
		char	longname[CF_NS_NAME_MAX + 8];

		memset(longname, 'n', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		assert_int_equal(cf_meta_ns_get(m, longname, &got, NULL),
		    CF_E_INPUT);
	}
	cf_error_clear(&e);
	assert_int_equal(cf_meta_ns_delete(m, &au_ok, "nope", NULL, NULL, &e),
	    CF_E_NOTFOUND);
	cf_meta_close(m);
}

/* --- versions --- */

struct vlist {
	struct cf_version_rec	v[16];
	size_t			n;
};

static cf_err
v_collect(void *arg, const struct cf_version_rec *v, struct cf_error *err)
{
	struct vlist	*l = arg;

	(void)err;
	if (l->n < 16)
		l->v[l->n] = *v;
	l->n++;
	return CF_OK;
}

static void
test_store_meta_versions(void **state)
{
	struct cf_meta		*m;
	struct cf_version_rec	 v1, v2, got, bad;
	struct cf_version_rec	*p;
	struct cf_error		 e = { 0 };
	struct vlist		*l;
	char			 key[CF_OBJKEY_MAX];

	(void)state;
	l = calloc(1, sizeof(*l));
	assert_non_null(l);
	m = meta_open();
	mk_ns(m, "ml");
	mk_ns(m, "other");

	p = put_version(m, "ml", "models/a.bin", false);
	v1 = *p;
	p = put_version(m, "ml", "models/a.bin", false);
	v2 = *p;

	/* Latest is the newest; fields round-trip. */
	assert_int_equal(cf_meta_version_get(m, "ml", "models/a.bin", NULL,
	    &got, NULL), CF_OK);
	assert_string_equal(got.version_id, v2.version_id);
	assert_string_equal(got.ns, "ml");
	assert_string_equal(got.key, "models/a.bin");
	assert_string_equal(got.blob_id, v2.blob_id);
	assert_int_equal(got.size, v2.size);
	assert_string_equal(got.sha256, v2.sha256);
	assert_string_equal(got.content_type, v2.content_type);
	assert_string_equal(got.user_meta, v2.user_meta);
	assert_string_equal(got.created_by, "alice");
	assert_int_equal(got.created_us, v2.created_us);
	assert_string_equal(got.kek_id, "kek-1");
	assert_memory_equal(got.wrapped_dek, v2.wrapped_dek,
	    CF_WRAPPED_DEK_LEN);
	assert_false(got.delete_marker);
	assert_true(got.seq > 0);

	/* An older version by id, only within its own (ns, key). */
	assert_int_equal(cf_meta_version_get(m, "ml", "models/a.bin",
	    v1.version_id, &got, NULL), CF_OK);
	assert_string_equal(got.version_id, v1.version_id);
	assert_int_equal(cf_meta_version_get(m, "ml", "models/b.bin",
	    v1.version_id, &got, NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_version_get(m, "other", "models/a.bin",
	    v1.version_id, &got, NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_version_get(m, "ml", "nope", NULL, &got,
	    NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_version_get(m, "nons", "models/a.bin", NULL,
	    &got, NULL), CF_E_NOTFOUND);

	/* A delete marker becomes the latest; old versions stay. */
	p = put_version(m, "ml", "models/a.bin", true);
	assert_int_equal(cf_meta_version_get(m, "ml", "models/a.bin", NULL,
	    &got, NULL), CF_OK);
	assert_true(got.delete_marker);
	assert_string_equal(got.version_id, p->version_id);
	assert_string_equal(got.blob_id, "");
	assert_int_equal(got.size, 0);
	assert_int_equal(cf_meta_version_get(m, "ml", "models/a.bin",
	    v2.version_id, &got, NULL), CF_OK);
	assert_false(got.delete_marker);

	/* Newest first. */
	assert_int_equal(cf_meta_version_list(m, "ml", "models/a.bin",
	    v_collect, l, NULL), CF_OK);
	assert_int_equal(l->n, 3);
	assert_true(l->v[0].delete_marker);
	assert_string_equal(l->v[1].version_id, v2.version_id);
	assert_string_equal(l->v[2].version_id, v1.version_id);
	assert_true(l->v[0].seq > l->v[1].seq);
	assert_true(l->v[1].seq > l->v[2].seq);
	l->n = 0;
	assert_int_equal(cf_meta_version_list(m, "ml", "nokey", v_collect, l,
	    NULL), CF_OK);
	assert_int_equal(l->n, 0);

	/* A version after the marker is live again. */
	p = put_version(m, "ml", "models/a.bin", false);
	assert_int_equal(cf_meta_version_get(m, "ml", "models/a.bin", NULL,
	    &got, NULL), CF_OK);
	assert_false(got.delete_marker);
	assert_string_equal(got.version_id, p->version_id);

	/* Errors. */
	mk_version(&bad, "nons", "k", false);
	cf_error_clear(&e);
	assert_int_equal(cf_meta_version_put(m, &au_ok, &bad, &e),
	    CF_E_NOTFOUND);
	mk_version(&bad, "ml", "k", false);
	(void)cf_strlcpy(bad.version_id, v1.version_id,
	    sizeof(bad.version_id));
	cf_error_clear(&e);
	assert_int_equal(cf_meta_version_put(m, &au_ok, &bad, &e),
	    CF_E_CONFLICT);
	assert_int_equal(cf_meta_version_get(m, "ml", "k", NULL, &got, NULL),
	    CF_E_NOTFOUND);		/* rolled back */
	mk_version(&bad, "ml", "k", false);
	memset(bad.key, 'k', sizeof(bad.key));	/* 1025 bytes, no NUL */
	assert_int_equal(cf_meta_version_put(m, &au_ok, &bad, NULL),
	    CF_E_INPUT);
	mk_version(&bad, "ml", "k", false);
	memset(bad.user_meta, '{', sizeof(bad.user_meta));
	assert_int_equal(cf_meta_version_put(m, &au_ok, &bad, NULL),
	    CF_E_INPUT);
	mk_version(&bad, "ml", "", false);
	assert_int_equal(cf_meta_version_put(m, &au_ok, &bad, NULL),
	    CF_E_INPUT);
	mk_version(&bad, "ml", "k", true);
	(void)cf_strlcpy(bad.blob_id, "00000000000000000000000000000001",
	    sizeof(bad.blob_id));
	assert_int_equal(cf_meta_version_put(m, &au_ok, &bad, NULL),
	    CF_E_INVAL);

	/* The longest key: 1024 bytes. */
	memset(key, 'q', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	p = put_version(m, "ml", key, false);
	assert_int_equal(cf_meta_version_get(m, "ml", key, NULL, &got, NULL),
	    CF_OK);
	assert_string_equal(got.key, key);

	cf_meta_close(m);
	free(l);
}

/* --- namespace delete --- */

struct blobids {
	char	ids[16][CF_BLOB_ID_LEN + 1];
	size_t	n;
};

static cf_err
blob_collect(void *arg, const char *id, struct cf_error *err)
{
	struct blobids	*b = arg;

	(void)err;
	assert_true(b->n < 16);
	(void)cf_strlcpy(b->ids[b->n++], id, CF_BLOB_ID_LEN + 1);
	return CF_OK;
}

static bool
has_id(const struct blobids *b, const char *id)
{
	size_t	i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->ids[i], id) == 0)
			return true;
	return false;
}

struct blist {
	struct cf_binding_rec	b[16];
	size_t			n;
};

static cf_err
b_collect(void *arg, const struct cf_binding_rec *b, struct cf_error *err)
{
	struct blist	*l = arg;

	(void)err;
	assert_true(l->n < 16);
	l->b[l->n++] = *b;
	return CF_OK;
}

static void
test_store_meta_ns_delete(void **state)
{
	struct cf_meta		*m;
	struct cf_principal_rec	 pr;
	struct cf_version_rec	 a1, a2, b1, stale;
	struct cf_version_rec	 got;
	struct cf_ns_rec	 old_ns, new_ns;
	struct blobids		 ids;
	struct blist		 bl;
	struct cf_error		 e = { 0 };
	bool			 trunc;
	char			 next[CF_OBJKEY_MAX];

	(void)state;
	m = meta_open();
	mk_ns(m, "gone");
	mk_ns(m, "keep");
	memset(&pr, 0, sizeof(pr));
	(void)cf_strlcpy(pr.name, "bob", sizeof(pr.name));
	(void)cf_strlcpy(pr.kind, "user", sizeof(pr.kind));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &pr, NULL), CF_OK);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, pr.id, "writer", "gone",
	    0, NULL), CF_OK);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, pr.id, "reader", "keep",
	    0, NULL), CF_OK);

	assert_int_equal(cf_meta_ns_get(m, "gone", &old_ns, NULL), CF_OK);
	assert_true(old_ns.id > 0);
	a1 = *put_version(m, "gone", "a", false);
	/* Bound to the namespace's identity: still the same one. */
	mk_version(&stale, "gone", "a", false);
	stale.ns_id = old_ns.id;
	assert_int_equal(cf_meta_version_put(m, &au_ok, &stale, NULL), CF_OK);
	a2 = *put_version(m, "gone", "a", false);
	b1 = *put_version(m, "gone", "b", false);
	(void)put_version(m, "keep", "a", false);

	/* Live objects: refused. */
	cf_error_clear(&e);
	assert_int_equal(cf_meta_ns_delete(m, &au_ok, "gone", blob_collect,
	    &ids, &e),
	    CF_E_CONFLICT);
	(void)put_version(m, "gone", "a", true);
	memset(&ids, 0, sizeof(ids));
	assert_int_equal(cf_meta_ns_delete(m, &au_ok, "gone", blob_collect,
	    &ids,
	    NULL), CF_E_CONFLICT);
	assert_int_equal(ids.n, 0);
	(void)put_version(m, "gone", "b", true);

	/* Only old versions and markers remain: deleted, blobs reported. */
	assert_int_equal(cf_meta_ns_delete(m, &au_ok, "gone", blob_collect,
	    &ids,
	    NULL), CF_OK);
	assert_int_equal(ids.n, 4);
	assert_true(has_id(&ids, stale.blob_id));
	assert_true(has_id(&ids, a1.blob_id));
	assert_true(has_id(&ids, a2.blob_id));
	assert_true(has_id(&ids, b1.blob_id));
	assert_int_equal(cf_meta_ns_get(m, "gone", &(struct cf_ns_rec){ 0 },
	    NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_version_get(m, "gone", "a", a1.version_id,
	    &got, NULL), CF_E_NOTFOUND);
	memset(&bl, 0, sizeof(bl));
	assert_int_equal(cf_meta_binding_list(m, pr.id, NULL,
	    CF_META_BINDINGS_ALL, b_collect, &bl, NULL), CF_OK);
	assert_int_equal(bl.n, 1);
	assert_string_equal(bl.b[0].ns, "keep");
	assert_int_equal(cf_meta_ns_delete(m, &au_ok, "gone", NULL, NULL, NULL),
	    CF_E_NOTFOUND);

	/* The name can be reused and starts empty, as another namespace: a
	 * version bound to the old one is refused and leaves nothing. */
	mk_ns(m, "gone");
	assert_int_equal(cf_meta_ns_get(m, "gone", &new_ns, NULL), CF_OK);
	assert_true(new_ns.id != old_ns.id);
	mk_version(&stale, "gone", "a", false);
	stale.ns_id = old_ns.id;
	cf_error_clear(&e);
	assert_int_equal(cf_meta_version_put(m, &au_ok, &stale, &e),
	    CF_E_CONFLICT);
	assert_int_equal(cf_meta_object_list(m, "gone", "", "", "", 100,
	    NULL, NULL, NULL, &trunc, next, NULL), CF_OK);
	assert_int_equal(cf_meta_version_get(m, "gone", "a", NULL, &got,
	    NULL), CF_E_NOTFOUND);
	/* An empty namespace deletes with no blob ids. */
	memset(&ids, 0, sizeof(ids));
	assert_int_equal(cf_meta_ns_delete(m, &au_ok, "gone", blob_collect,
	    &ids,
	    NULL), CF_OK);
	assert_int_equal(ids.n, 0);
	/* The other namespace is untouched. */
	assert_int_equal(cf_meta_version_get(m, "keep", "a", NULL, &got,
	    NULL), CF_OK);
	cf_meta_close(m);
}

/* --- principals, tokens, bindings --- */

struct plist {
	struct cf_principal_rec	p[8];
	size_t			n;
};

static cf_err
p_collect(void *arg, const struct cf_principal_rec *p, struct cf_error *err)
{
	struct plist	*l = arg;

	(void)err;
	assert_true(l->n < 8);
	l->p[l->n++] = *p;
	return CF_OK;
}

static void
test_store_meta_principals(void **state)
{
	struct cf_meta		*m;
	struct cf_principal_rec	 a, b, got;
	struct plist		 l;
	struct cf_error		 e = { 0 };

	(void)state;
	m = meta_open();
	assert_int_equal(cf_meta_principal_count(m), 0);
	memset(&a, 0, sizeof(a));
	(void)cf_strlcpy(a.name, "zoe", sizeof(a.name));
	(void)cf_strlcpy(a.kind, "user", sizeof(a.kind));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &a, NULL), CF_OK);
	assert_true(a.id > 0);
	assert_true(a.created_us > 0);
	memset(&b, 0, sizeof(b));
	(void)cf_strlcpy(b.name, "ci-bot", sizeof(b.name));
	(void)cf_strlcpy(b.kind, "service", sizeof(b.kind));
	b.disabled = true;
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &b, NULL), CF_OK);
	assert_true(b.id != a.id);
	assert_int_equal(cf_meta_principal_count(m), 2);

	got = b;
	got.id = 0;
	cf_error_clear(&e);
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &got, &e),
	    CF_E_CONFLICT);
	assert_int_equal(got.id, 0);		/* untouched on failure */

	assert_int_equal(cf_meta_principal_get(m, "zoe", &got, NULL), CF_OK);
	assert_int_equal(got.id, a.id);
	assert_string_equal(got.kind, "user");
	assert_false(got.disabled);
	assert_int_equal(got.created_us, a.created_us);
	assert_int_equal(cf_meta_principal_get_id(m, b.id, &got, NULL),
	    CF_OK);
	assert_string_equal(got.name, "ci-bot");
	assert_true(got.disabled);
	assert_int_equal(cf_meta_principal_get(m, "nobody", &got, NULL),
	    CF_E_NOTFOUND);
	assert_int_equal(cf_meta_principal_get_id(m, 9999, &got, NULL),
	    CF_E_NOTFOUND);

	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_principal_list(m, p_collect, &l, NULL),
	    CF_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.p[0].name, "ci-bot");
	assert_string_equal(l.p[1].name, "zoe");

	memset(&got, 'x', sizeof(got));
	got.kind[0] = '\0';
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &got, NULL),
	    CF_E_INPUT);
	cf_meta_close(m);
}

struct tlist {
	struct cf_token_rec	t[8];
	size_t			n;
};

static cf_err
t_collect(void *arg, const struct cf_token_rec *t, struct cf_error *err)
{
	struct tlist	*l = arg;

	(void)err;
	assert_true(l->n < 8);
	l->t[l->n++] = *t;
	return CF_OK;
}

static void
mk_token(struct cf_token_rec *t, const char *id, int64_t pid, uint8_t seed)
{
	memset(t, 0, sizeof(*t));
	(void)cf_strlcpy(t->id, id, sizeof(t->id));
	t->principal_id = pid;
	memset(t->hash, seed, sizeof(t->hash));
	t->hash[31] = (uint8_t)(seed ^ 0x5a);
	(void)cf_strlcpy(t->description, "laptop", sizeof(t->description));
	t->created_us = 5000;
	t->expires_us = 9000000;
}

static void
test_store_meta_tokens(void **state)
{
	struct cf_meta		*m;
	struct cf_principal_rec	 a, b;
	struct cf_token_rec	 t1, t2, t3, got;
	struct tlist		 l;
	struct cf_error		 e = { 0 };
	uint8_t			 h[32];

	(void)state;
	m = meta_open();
	memset(&a, 0, sizeof(a));
	(void)cf_strlcpy(a.name, "alice", sizeof(a.name));
	(void)cf_strlcpy(a.kind, "user", sizeof(a.kind));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &a, NULL), CF_OK);
	b = a;
	(void)cf_strlcpy(b.name, "bob", sizeof(b.name));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &b, NULL), CF_OK);

	mk_token(&t1, "00112233aabbccdd", a.id, 1);
	mk_token(&t2, "1111111111111111", a.id, 2);
	mk_token(&t3, "2222222222222222", b.id, 3);
	assert_int_equal(cf_meta_token_insert(m, &au_ok, &t1, NULL), CF_OK);
	assert_int_equal(cf_meta_token_insert(m, &au_ok, &t2, NULL), CF_OK);
	assert_int_equal(cf_meta_token_insert(m, &au_ok, &t3, NULL), CF_OK);

	/* Duplicate id, duplicate hash, unknown principal. */
	got = t1;
	got.hash[0] ^= 0xff;
	cf_error_clear(&e);
	assert_int_equal(cf_meta_token_insert(m, &au_ok, &got, &e),
	    CF_E_CONFLICT);
	got = t1;
	(void)cf_strlcpy(got.id, "3333333333333333", sizeof(got.id));
	assert_int_equal(cf_meta_token_insert(m, &au_ok, &got, NULL),
	    CF_E_CONFLICT);
	mk_token(&got, "4444444444444444", 9999, 4);
	cf_error_clear(&e);
	assert_int_equal(cf_meta_token_insert(m, &au_ok, &got, &e),
	    CF_E_NOTFOUND);
	memset(got.id, 'f', sizeof(got.id));
	assert_int_equal(cf_meta_token_insert(m, &au_ok, &got, NULL),
	    CF_E_INPUT);

	/* Find by hash, get by id. */
	assert_int_equal(cf_meta_token_find(m, t2.hash, &got, NULL), CF_OK);
	assert_string_equal(got.id, t2.id);
	assert_int_equal(got.principal_id, a.id);
	assert_memory_equal(got.hash, t2.hash, 32);
	assert_string_equal(got.description, "laptop");
	assert_int_equal(got.created_us, 5000);
	assert_int_equal(got.expires_us, 9000000);
	assert_int_equal(got.revoked_us, 0);
	assert_int_equal(got.last_used_us, 0);
	memset(h, 0x77, sizeof(h));
	assert_int_equal(cf_meta_token_find(m, h, &got, NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_token_get(m, t3.id, &got, NULL), CF_OK);
	assert_int_equal(got.principal_id, b.id);
	assert_int_equal(cf_meta_token_get(m, "ffffffffffffffff", &got, NULL),
	    CF_E_NOTFOUND);

	/* Touch: the first use is recorded, then at most once a minute
	 * (each write costs an fsync), never backwards. */
	assert_int_equal(cf_meta_token_touch(m, t1.id, 7000, NULL), CF_OK);
	assert_int_equal(cf_meta_token_touch(m, t1.id, 6000, NULL), CF_OK);
	assert_int_equal(cf_meta_token_get(m, t1.id, &got, NULL), CF_OK);
	assert_int_equal(got.last_used_us, 7000);
	assert_int_equal(cf_meta_token_touch(m, t1.id, 7000 + 30000000,
	    NULL), CF_OK);
	assert_int_equal(cf_meta_token_get(m, t1.id, &got, NULL), CF_OK);
	assert_int_equal(got.last_used_us, 7000);
	assert_int_equal(cf_meta_token_touch(m, t1.id, 7000 + 61000000,
	    NULL), CF_OK);
	assert_int_equal(cf_meta_token_get(m, t1.id, &got, NULL), CF_OK);
	assert_int_equal(got.last_used_us, 7000 + 61000000);
	assert_int_equal(cf_meta_token_touch(m, "ffffffffffffffff", 7000,
	    NULL), CF_E_NOTFOUND);

	/* Revoke: twice keeps the first time; unknown is NOTFOUND. */
	assert_int_equal(cf_meta_token_revoke(m, &au_ok, t1.id, 8000, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_token_revoke(m, &au_ok, t1.id, 8500, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_token_get(m, t1.id, &got, NULL), CF_OK);
	assert_int_equal(got.revoked_us, 8000);
	cf_error_clear(&e);
	assert_int_equal(cf_meta_token_revoke(m, &au_ok, "ffffffffffffffff",
	    8000,
	    &e), CF_E_NOTFOUND);
	assert_int_equal(e.code, CF_E_NOTFOUND);

	/* Lists. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_token_list(m, -1, t_collect, &l, NULL),
	    CF_OK);
	assert_int_equal(l.n, 3);
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_token_list(m, a.id, t_collect, &l, NULL),
	    CF_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.t[0].id, t1.id);
	assert_int_equal(l.t[0].revoked_us, 8000);
	assert_string_equal(l.t[1].id, t2.id);
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_token_list(m, 9999, t_collect, &l, NULL),
	    CF_OK);
	assert_int_equal(l.n, 0);
	cf_meta_close(m);
}

/* An expiring binding: the decisions' listing (live_at_us) skips it from
 * its expiry on; only an expired binding is removed by the sweep's call,
 * and granting again sets the new expiry. */
static void
test_store_meta_binding_expiry(void **state)
{
	struct cf_meta		*m;
	struct cf_principal_rec	 a;
	struct blist		 l;

	(void)state;
	m = meta_open();
	mk_ns(m, "ml");
	memset(&a, 0, sizeof(a));
	(void)cf_strlcpy(a.name, "alice", sizeof(a.name));
	(void)cf_strlcpy(a.kind, "user", sizeof(a.kind));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &a, NULL), CF_OK);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id, "reader", "ml",
	    5000, NULL), CF_OK);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id, "writer", "ml",
	    0, NULL), CF_OK);
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_binding_list(m, a.id, NULL, 4999, b_collect,
	    &l, NULL), CF_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.b[0].expires_us, 5000);
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_binding_list(m, a.id, NULL, 5000, b_collect,
	    &l, NULL), CF_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.b[0].role, "writer");
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_binding_list(m, a.id, NULL,
	    CF_META_BINDINGS_ALL, b_collect, &l, NULL), CF_OK);
	assert_int_equal(l.n, 2);
	/* Not expired yet, or never expiring: not the sweep's. */
	assert_int_equal(cf_meta_binding_remove_expired(m, &au_ok, a.id,
	    "reader", "ml", 4999, NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_binding_remove_expired(m, &au_ok, a.id,
	    "writer", "ml", 9999, NULL), CF_E_NOTFOUND);
	/* Granted again without expiry: the grant holds. */
	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id, "reader", "ml",
	    0, NULL), CF_OK);
	assert_int_equal(cf_meta_binding_remove_expired(m, &au_ok, a.id,
	    "reader", "ml", 9999, NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id, "reader", "ml",
	    5000, NULL), CF_OK);
	assert_int_equal(cf_meta_binding_remove_expired(m, &au_ok, a.id,
	    "reader", "ml", 5000, NULL), CF_OK);
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_binding_list(m, a.id, NULL,
	    CF_META_BINDINGS_ALL, b_collect, &l, NULL), CF_OK);
	assert_int_equal(l.n, 1);
	cf_meta_close(m);
}

/* A principal's bindings come ordered by (namespace, role), whether few
 * (read in key order and sorted in memory) or many (the sorted query),
 * expired ones skipped in both. */
static void
b_sorted(const struct blist *l)
{
	size_t	i;
	int	d;

	for (i = 1; i < l->n; i++) {
		d = strcmp(l->b[i - 1].ns, l->b[i].ns);
		assert_true(d < 0 || (d == 0 &&
		    strcmp(l->b[i - 1].role, l->b[i].role) < 0));
	}
}

static void
test_store_meta_binding_order(void **state)
{
	struct cf_meta		*m;
	struct cf_principal_rec	 a;
	struct blist		 l;
	char			 ns[16];
	int			 i;

	(void)state;
	m = meta_open();
	mk_ns(m, "a");
	mk_ns(m, "b");
	mk_ns(m, "c");
	memset(&a, 0, sizeof(a));
	(void)cf_strlcpy(a.name, "carol", sizeof(a.name));
	(void)cf_strlcpy(a.kind, "user", sizeof(a.kind));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &a, NULL), CF_OK);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id, "writer", "b", 0,
	    NULL), CF_OK);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id, "reader", "a", 0,
	    NULL), CF_OK);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id, "admin", "", 0,
	    NULL), CF_OK);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id, "owner", "a", 0,
	    NULL), CF_OK);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id, "reader", "c",
	    5000, NULL), CF_OK);
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_binding_list(m, a.id, NULL, 4000, b_collect,
	    &l, NULL), CF_OK);
	assert_int_equal(l.n, 5);
	b_sorted(&l);
	assert_string_equal(l.b[0].role, "admin");
	assert_string_equal(l.b[1].role, "owner");
	assert_string_equal(l.b[2].role, "reader");
	assert_string_equal(l.b[3].ns, "b");
	assert_string_equal(l.b[4].ns, "c");
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_binding_list(m, a.id, NULL, 5000, b_collect,
	    &l, NULL), CF_OK);
	assert_int_equal(l.n, 4);		/* reader on c expired */
	b_sorted(&l);
	/* More than fit in memory: the sorted query, the same order. */
	for (i = 0; i < 7; i++) {
		(void)snprintf(ns, sizeof(ns), "n%d", 6 - i);
		mk_ns(m, ns);
		assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id,
		    i % 2 == 0 ? "writer" : "reader", ns, 0, NULL), CF_OK);
	}
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_binding_list(m, a.id, NULL, 4000, b_collect,
	    &l, NULL), CF_OK);
	assert_int_equal(l.n, 12);
	b_sorted(&l);
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_binding_list(m, a.id, NULL, 5000, b_collect,
	    &l, NULL), CF_OK);
	assert_int_equal(l.n, 11);
	b_sorted(&l);
	cf_meta_close(m);
}

static void
test_store_meta_bindings(void **state)
{
	struct cf_meta		*m;
	struct cf_principal_rec	 a, b;
	struct blist		 l;
	struct cf_error		 e = { 0 };

	(void)state;
	m = meta_open();
	mk_ns(m, "ml");
	mk_ns(m, "prod");
	memset(&a, 0, sizeof(a));
	(void)cf_strlcpy(a.name, "alice", sizeof(a.name));
	(void)cf_strlcpy(a.kind, "user", sizeof(a.kind));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &a, NULL), CF_OK);
	b = a;
	(void)cf_strlcpy(b.name, "bob", sizeof(b.name));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &b, NULL), CF_OK);

	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id, "writer", "ml", 0,
	    NULL),
	    CF_OK);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id, "writer", "ml", 0,
	    NULL),
	    CF_OK);			/* idempotent */
	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id, "admin", "", 0,
	    NULL),
	    CF_OK);			/* global */
	assert_int_equal(cf_meta_binding_add(m, &au_ok, b.id, "reader", "ml", 0,
	    NULL),
	    CF_OK);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, b.id, "owner", "prod",
	    0, NULL),
	    CF_OK);
	cf_error_clear(&e);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id, "reader", "nons",
	    0, &e),
	    CF_E_NOTFOUND);
	cf_error_clear(&e);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, 9999, "reader", "ml", 0,
	    &e),
	    CF_E_NOTFOUND);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, a.id,
	    "a-role-name-that-is-too-long", "ml", 0, NULL), CF_E_INPUT);

	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_binding_list(m, -1, NULL,
	    CF_META_BINDINGS_ALL, b_collect, &l, NULL), CF_OK);
	assert_int_equal(l.n, 4);
	/* Ordered by principal name, namespace, role. */
	assert_string_equal(l.b[0].principal, "alice");
	assert_string_equal(l.b[0].ns, "");
	assert_string_equal(l.b[0].role, "admin");
	assert_string_equal(l.b[1].principal, "alice");
	assert_string_equal(l.b[1].ns, "ml");
	assert_int_equal(l.b[1].principal_id, a.id);
	assert_string_equal(l.b[2].principal, "bob");
	assert_string_equal(l.b[2].ns, "ml");
	assert_string_equal(l.b[3].ns, "prod");

	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_binding_list(m, -1, "ml",
	    CF_META_BINDINGS_ALL, b_collect, &l, NULL), CF_OK);
	assert_int_equal(l.n, 2);
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_binding_list(m, a.id, "",
	    CF_META_BINDINGS_ALL, b_collect, &l, NULL), CF_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.b[0].role, "admin");
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_binding_list(m, b.id, NULL,
	    CF_META_BINDINGS_ALL, b_collect, &l, NULL), CF_OK);
	assert_int_equal(l.n, 2);

	assert_int_equal(cf_meta_binding_remove(m, &au_ok, a.id, "writer", "ml",
	    NULL), CF_OK);
	cf_error_clear(&e);
	assert_int_equal(cf_meta_binding_remove(m, &au_ok, a.id, "writer", "ml",
	    &e),
	    CF_E_NOTFOUND);
	assert_int_equal(cf_meta_binding_remove(m, &au_ok, a.id, "admin", "ml",
	    NULL), CF_E_NOTFOUND);
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_binding_list(m, a.id, NULL,
	    CF_META_BINDINGS_ALL, b_collect, &l, NULL), CF_OK);
	assert_int_equal(l.n, 1);
	cf_meta_close(m);
}

/* --- listing against a reference implementation --- */

#define NKEYS	400

struct entry {
	char	s[CF_OBJKEY_MAX];
	bool	is_prefix;
	char	version_id[CF_VERSION_ID_LEN + 1];
};

struct ref {
	char	(*keys)[CF_OBJKEY_MAX];		/* all keys ever written */
	bool	 *live;
	char	(*latest)[CF_VERSION_ID_LEN + 1];
	size_t	  n;
};

struct page {
	struct entry	*e;
	size_t		 n, cap;
};

static cf_err
page_obj(void *arg, const struct cf_version_rec *v, struct cf_error *err)
{
	struct page	*p = arg;

	(void)err;
	assert_true(p->n < p->cap);
	assert_false(v->delete_marker);
	(void)cf_strlcpy(p->e[p->n].s, v->key, CF_OBJKEY_MAX);
	(void)cf_strlcpy(p->e[p->n].version_id, v->version_id,
	    CF_VERSION_ID_LEN + 1);
	p->e[p->n++].is_prefix = false;
	return CF_OK;
}

static cf_err
page_prefix(void *arg, const char *prefix, struct cf_error *err)
{
	struct page	*p = arg;

	(void)err;
	assert_true(p->n < p->cap);
	(void)cf_strlcpy(p->e[p->n].s, prefix, CF_OBJKEY_MAX);
	p->e[p->n].version_id[0] = '\0';
	p->e[p->n++].is_prefix = true;
	return CF_OK;
}

static int
cmp_idx(const void *a, const void *b, void *arg)
{
	const struct ref	*r = arg;

	return strcmp(r->keys[*(const size_t *)a], r->keys[*(const size_t *)b]);
}

/* The full S3 listing of r: objects and common prefixes in byte order
 * (strcmp compares as unsigned char). */
static void
ref_entries(const struct ref *r, const size_t *order, const char *prefix,
    const char *delim, struct page *out)
{
	size_t		 i, plen = strlen(prefix), dlen = strlen(delim);
	const char	*k, *d;

	out->n = 0;
	for (i = 0; i < r->n; i++) {
		k = r->keys[order[i]];
		if (!r->live[order[i]] || strncmp(k, prefix, plen) != 0)
			continue;
		d = dlen > 0 ? strstr(k + plen, delim) : NULL;
		if (d != NULL) {
			size_t	cplen = (size_t)(d - k) + dlen;

			if (out->n > 0 && out->e[out->n - 1].is_prefix &&
			    strlen(out->e[out->n - 1].s) == cplen &&
			    strncmp(out->e[out->n - 1].s, k, cplen) == 0)
				continue;
			assert_true(out->n < out->cap);
			memcpy(out->e[out->n].s, k, cplen);
			out->e[out->n].s[cplen] = '\0';
			out->e[out->n].is_prefix = true;
			out->e[out->n].version_id[0] = '\0';
			out->n++;
		} else {
			assert_true(out->n < out->cap);
			(void)cf_strlcpy(out->e[out->n].s, k, CF_OBJKEY_MAX);
			(void)cf_strlcpy(out->e[out->n].version_id,
			    r->latest[order[i]], CF_VERSION_ID_LEN + 1);
			out->e[out->n].is_prefix = false;
			out->n++;
		}
	}
	/* Entries must come out sorted: a common prefix covers a
	 * contiguous key range. */
	for (i = 1; i < out->n; i++)
		assert_true(strcmp(out->e[i - 1].s, out->e[i].s) < 0);
}

static void
check_entry(const struct entry *got, const struct entry *want)
{
	assert_string_equal(got->s, want->s);
	assert_int_equal(got->is_prefix, want->is_prefix);
	if (!want->is_prefix)
		assert_string_equal(got->version_id, want->version_id);
}

/* Page through the listing and compare with the reference; also one page
 * from an arbitrary start_after. */
static void
check_listing(struct cf_meta *m, const struct page *want, const char *prefix,
    const char *delim, size_t max, struct page *got)
{
	char	after[CF_OBJKEY_MAX] = "", next[CF_OBJKEY_MAX];
	size_t	pos = 0, i, pages = 0, start;
	bool	trunc;

	for (;;) {
		got->n = 0;
		assert_int_equal(cf_meta_object_list(m, "ml", prefix, delim,
		    after, max, page_obj, page_prefix, got, &trunc, next,
		    NULL), CF_OK);
		assert_true(got->n <= max);
		for (i = 0; i < got->n; i++) {
			assert_true(pos + i < want->n);
			check_entry(&got->e[i], &want->e[pos + i]);
		}
		pos += got->n;
		pages++;
		assert_true(pages <= want->n + 1);
		if (!trunc) {
			assert_string_equal(next, "");
			break;
		}
		assert_int_equal(got->n, max);
		assert_string_equal(next, got->e[got->n - 1].s);
		(void)cf_strlcpy(after, next, sizeof(after));
	}
	assert_int_equal(pos, want->n);

	/* From the middle of an entry, possibly inside a common prefix:
	 * the page holds the entries strictly greater than start_after. */
	if (want->n == 0)
		return;
	start = (size_t)random() % want->n;
	(void)cf_strlcpy(after, want->e[start].s, sizeof(after));
	if (!want->e[start].is_prefix && strlen(after) > 1)
		after[strlen(after) - 1] = '\0';
	got->n = 0;
	assert_int_equal(cf_meta_object_list(m, "ml", prefix, delim, after,
	    max, page_obj, page_prefix, got, &trunc, next, NULL), CF_OK);
	for (pos = 0; pos < want->n; pos++)
		if (strcmp(want->e[pos].s, after) > 0)
			break;
	for (i = 0; i < got->n; i++) {
		assert_true(pos + i < want->n);
		check_entry(&got->e[i], &want->e[pos + i]);
	}
	assert_int_equal(trunc, pos + got->n < want->n);
	assert_int_equal(got->n, trunc ? max : want->n - pos);
}

static const char *const pieces[] = {
	"a", "b", "ab", "/", "/", "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
	"\xf0\x9f\x98\x80", "z", "a/b", "-", ".", "0", "\x7f"
};

static void
test_store_meta_list_reference(void **state)
{
	static const char *const prefixes[] = {
		"", "a", "a/", "b", "\xc3\xa9", "/", "ab/", "zzz",
		"\xf0\x9f\x98"
	};
	static const char *const delims[] = {
		"", "/", "\xc3\xa9", "ab", "b/"
	};
	static const size_t maxes[] = { 1, 2, 3, 7, 50, 1000 };
	struct cf_meta		*m;
	struct ref		 r;
	struct page		 want, got;
	struct cf_version_rec	*v;
	size_t			*order;
	size_t			 i, j, np, pi, di, mi;
	char			 k[CF_OBJKEY_MAX];
	bool			 dup;

	(void)state;
	srandom(12345);
	memset(&r, 0, sizeof(r));
	r.keys = calloc(NKEYS, sizeof(*r.keys));
	r.live = calloc(NKEYS, sizeof(*r.live));
	r.latest = calloc(NKEYS, sizeof(*r.latest));
	order = calloc(NKEYS, sizeof(*order));
	want.cap = got.cap = NKEYS + 1;
	want.e = calloc(want.cap, sizeof(*want.e));
	got.e = calloc(got.cap, sizeof(*got.e));
	assert_true(r.keys && r.live && r.latest && order && want.e && got.e);

	m = meta_open();
	mk_ns(m, "ml");
	mk_ns(m, "decoy");		/* same keys elsewhere: never listed */
	while (r.n < NKEYS) {
		k[0] = '\0';
		np = 1 + (size_t)random() % 6;
		for (j = 0; j < np; j++)
			(void)cf_strlcat(k, pieces[(size_t)random() %
			    (sizeof(pieces) / sizeof(pieces[0]))], sizeof(k));
		for (dup = false, j = 0; j < r.n && !dup; j++)
			dup = strcmp(r.keys[j], k) == 0;
		if (dup)
			continue;
		(void)cf_strlcpy(r.keys[r.n], k, CF_OBJKEY_MAX);
		r.n++;
	}
	/* Versions: 1-3 each; about a quarter end with a delete marker, a
	 * few come back after one. */
	for (i = 0; i < r.n; i++) {
		np = 1 + (size_t)random() % 3;
		for (j = 0; j < np; j++) {
			v = put_version(m, "ml", r.keys[i], false);
			(void)cf_strlcpy(r.latest[i], v->version_id,
			    CF_VERSION_ID_LEN + 1);
		}
		r.live[i] = true;
		if (random() % 4 == 0) {
			(void)put_version(m, "ml", r.keys[i], true);
			r.live[i] = false;
			if (random() % 3 == 0) {
				v = put_version(m, "ml", r.keys[i], false);
				(void)cf_strlcpy(r.latest[i], v->version_id,
				    CF_VERSION_ID_LEN + 1);
				r.live[i] = true;
			}
		}
		if (i % 5 == 0)
			(void)put_version(m, "decoy", r.keys[i], false);
	}
	for (i = 0; i < r.n; i++)
		order[i] = i;
	qsort_r(order, r.n, sizeof(*order), cmp_idx, &r);

	for (pi = 0; pi < sizeof(prefixes) / sizeof(prefixes[0]); pi++) {
		for (di = 0; di < sizeof(delims) / sizeof(delims[0]); di++) {
			ref_entries(&r, order, prefixes[pi], delims[di],
			    &want);
			for (mi = 0; mi < sizeof(maxes) / sizeof(maxes[0]);
			    mi++)
				check_listing(m, &want, prefixes[pi],
				    delims[di], maxes[mi], &got);
		}
	}

	/* Errors and edges. */
	{
		bool	trunc = true;
		char	next[CF_OBJKEY_MAX] = "x";
		char	longp[CF_OBJKEY_MAX + 1];

		got.n = 0;
		assert_int_equal(cf_meta_object_list(m, "ml", "", "/", "", 0,
		    page_obj, page_prefix, &got, &trunc, next, NULL), CF_OK);
		assert_int_equal(got.n, 0);
		assert_false(trunc);
		assert_int_equal(cf_meta_object_list(m, "nons", "", "", "",
		    10, page_obj, page_prefix, &got, &trunc, next, NULL),
		    CF_E_NOTFOUND);
		memset(longp, 'p', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = '\0';
		assert_int_equal(cf_meta_object_list(m, "ml", longp, "", "",
		    10, page_obj, page_prefix, &got, &trunc, next, NULL),
		    CF_E_INPUT);
		/* Keys with bytes 0xff and prefixes ending in them. */
		(void)put_version(m, "ml", "\xff\xff", false);
		(void)put_version(m, "ml", "\xff\xff/x", false);
		(void)put_version(m, "ml", "\xff\xff/y", false);
		got.n = 0;
		assert_int_equal(cf_meta_object_list(m, "ml", "\xff", "/", "",
		    10, page_obj, page_prefix, &got, &trunc, next, NULL),
		    CF_OK);
		assert_int_equal(got.n, 2);
		assert_string_equal(got.e[0].s, "\xff\xff");
		assert_string_equal(got.e[1].s, "\xff\xff/");
		assert_true(got.e[1].is_prefix);
		got.n = 0;
		assert_int_equal(cf_meta_object_list(m, "ml", "", "\xff", "",
		    1000, page_obj, page_prefix, &got, &trunc, next, NULL),
		    CF_OK);
		assert_true(got.e[got.n - 1].is_prefix);
		assert_string_equal(got.e[got.n - 1].s, "\xff");
	}

	cf_meta_close(m);
	free(r.keys);
	free(r.live);
	free(r.latest);
	free(order);
	free(want.e);
	free(got.e);
}

/* --- concurrency --- */

#define NTHREADS	8
#define NPUTS		40

struct worker {
	struct cf_meta	*m;
	int		 idx;
	cf_err		 rc;
	pthread_t	 th;
};

static cf_err
count_obj(void *arg, const struct cf_version_rec *v, struct cf_error *err)
{
	(void)v;
	(void)err;
	(*(size_t *)arg)++;
	return CF_OK;
}

static void *
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct cf_version_rec	 v, got;
	struct cf_error		 e = { 0 };
	char			 key[64], vid[CF_VERSION_ID_LEN + 1];
	char			 next[CF_OBJKEY_MAX];
	size_t			 n, i;
	bool			 trunc;

	w->rc = CF_OK;
	for (i = 0; i < NPUTS && w->rc == CF_OK; i++) {
		memset(&v, 0, sizeof(v));
		(void)snprintf(vid, sizeof(vid), "%08x%024zx", w->idx, i);
		(void)cf_strlcpy(v.version_id, vid, sizeof(v.version_id));
		(void)cf_strlcpy(v.ns, "ml", sizeof(v.ns));
		(void)snprintf(key, sizeof(key), "t%d/k%zu", w->idx, i);
		/* Every other put goes to a key all threads share. */
		(void)cf_strlcpy(v.key, i % 2 == 0 ? key : "shared",
		    sizeof(v.key));
		(void)cf_strlcpy(v.blob_id, vid, sizeof(v.blob_id));
		v.size = i;
		w->rc = cf_meta_version_put(w->m, &au_ok, &v, &e);
		if (w->rc != CF_OK)
			break;
		w->rc = cf_meta_version_get(w->m, "ml", v.key, vid, &got, &e);
		if (w->rc == CF_OK && strcmp(got.version_id, vid) != 0)
			w->rc = CF_E_INTERNAL;
		n = 0;
		if (w->rc == CF_OK)
			w->rc = cf_meta_object_list(w->m, "ml", "", "/", "",
			    1000, count_obj, NULL, &n, &trunc, next, &e);
		/* Only "shared" is flat; it exists once i >= 1. */
		if (w->rc == CF_OK && (n > 1 || (i >= 1 && n != 1)))
			w->rc = CF_E_INTERNAL;
	}
	if (w->rc != CF_OK)
		fprintf(stderr, "worker %d: %s\n", w->idx, e.msg);
	return NULL;
}

static void
test_store_meta_concurrency(void **state)
{
	struct cf_meta		*m;
	struct worker		 w[NTHREADS];
	struct vlist		*l;
	struct cf_version_rec	 got;
	size_t			 n;
	bool			 trunc;
	char			 next[CF_OBJKEY_MAX];
	int			 i;

	(void)state;
	l = calloc(1, sizeof(*l));
	assert_non_null(l);
	m = meta_open();
	mk_ns(m, "ml");
	for (i = 0; i < NTHREADS; i++) {
		w[i].m = m;
		w[i].idx = i;
		assert_int_equal(pthread_create(&w[i].th, NULL, worker_main,
		    &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(w[i].th, NULL), 0);
		assert_int_equal(w[i].rc, CF_OK);
	}
	assert_true(cf_meta_test_conn_count(m) >= 1);
	assert_true(cf_meta_test_conn_count(m) <= 16);

	n = 0;
	assert_int_equal(cf_meta_object_list(m, "ml", "", "", "", 100000,
	    count_obj, NULL, &n, &trunc, next, NULL), CF_OK);
	assert_int_equal(n, NTHREADS * NPUTS / 2 + 1);
	assert_false(trunc);
	/* All puts to the shared key are there, seq strictly ordered, and
	 * the latest is the one with the highest seq. */
	assert_int_equal(cf_meta_version_list(m, "ml", "shared", v_collect, l,
	    NULL), CF_OK);
	assert_int_equal(l->n, NTHREADS * NPUTS / 2);
	assert_int_equal(cf_meta_version_get(m, "ml", "shared", NULL, &got,
	    NULL), CF_OK);
	assert_string_equal(got.version_id, l->v[0].version_id);
	for (i = 1; i < 16; i++)
		assert_true(l->v[i - 1].seq > l->v[i].seq);
	cf_meta_close(m);
	free(l);
}


/* Callbacks may call the store again, deeper than the pool is wide. */
struct nest {
	struct cf_meta	*m;
	int		 depth, max;
};

static cf_err
nest_cb(void *arg, const struct cf_ns_rec *ns, struct cf_error *err)
{
	struct nest		*n = arg;
	struct cf_ns_rec	 got;
	cf_err			 rc;

	if (n->depth == n->max)
		return cf_meta_ns_get(n->m, ns->name, &got, err);
	n->depth++;
	rc = cf_meta_ns_list(n->m, nest_cb, n, err);
	n->depth--;
	return rc;
}

static void
test_store_meta_nested_callbacks(void **state)
{
	struct cf_meta	*m;
	struct nest	 n;

	(void)state;
	m = meta_open();
	mk_ns(m, "ml");
	n.m = m;
	n.depth = 0;
	n.max = 72;		/* deeper than the pool (64) is wide */
	assert_int_equal(cf_meta_ns_list(m, nest_cb, &n, NULL), CF_OK);
	assert_int_equal(cf_meta_test_conn_count(m), 64);
	cf_meta_close(m);
}

static struct cf_meta	*scope_meta;

/* A read scope: one snapshot for a thread's reads, ended by a write of
 * its own, nestable, callbacks still served, nothing left open after. */
static void *
scope_writer(void *arg)
{
	mk_ns(arg, "late");
	return NULL;
}

static void *
scope_writer2(void *arg)
{
	mk_ns(arg, "late2");
	return NULL;
}

static cf_err
scope_cb(void *arg, const struct cf_ns_rec *ns, struct cf_error *err)
{
	struct cf_ns_rec	got;

	/* The pinned connection is busy with the listing: this query
	 * runs on another one, outside the snapshot (so it sees "late"). */
	(*(int *)arg)++;
	return cf_meta_ns_get(scope_meta, ns->name, &got, err);
}

static void
test_store_meta_read_scope(void **state)
{
	struct cf_meta		*m;
	struct cf_ns_rec	 got;
	struct cf_error		 e = { 0 };
	pthread_t		 th;
	int			 n = 0;

	(void)state;
	m = meta_open();
	scope_meta = m;
	mk_ns(m, "early");
	assert_int_equal(cf_meta_scope_begin(m, &e), CF_OK);
	assert_int_equal(cf_meta_ns_get(m, "early", &got, NULL), CF_OK);
	/* Another thread commits while the snapshot is held. */
	assert_int_equal(pthread_create(&th, NULL, scope_writer, m), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(cf_meta_ns_get(m, "late", &got, NULL),
	    CF_E_NOTFOUND);
	/* Nested: the inner end keeps the snapshot. */
	assert_int_equal(cf_meta_scope_begin(m, &e), CF_OK);
	assert_int_equal(cf_meta_ns_get(m, "late", &got, NULL),
	    CF_E_NOTFOUND);
	cf_meta_scope_end(m);
	assert_int_equal(cf_meta_ns_get(m, "late", &got, NULL),
	    CF_E_NOTFOUND);
	/* A callback that calls the store gets a connection. */
	assert_int_equal(cf_meta_ns_list(m, scope_cb, &n, NULL), CF_OK);
	assert_int_equal(n, 1);		/* "early" only: the snapshot */
	/* A write of this thread ends the snapshot and commits: a plain
	 * statement (ns create), then a write transaction (token insert). */
	mk_ns(m, "mine");
	assert_int_equal(cf_meta_ns_get(m, "late", &got, NULL), CF_OK);
	assert_int_equal(cf_meta_ns_get(m, "mine", &got, NULL), CF_OK);
	cf_meta_scope_end(m);
	/* A write transaction in a fresh scope, after another thread's
	 * commit: it must not run on the stale snapshot either. */
	assert_int_equal(cf_meta_scope_begin(m, &e), CF_OK);
	assert_int_equal(cf_meta_ns_get(m, "early", &got, NULL), CF_OK);
	assert_int_equal(pthread_create(&th, NULL, scope_writer2, m), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(cf_meta_ns_delete(m, &au_ok, "late2", NULL, NULL, &e),
	    CF_OK);
	assert_int_equal(cf_meta_ns_get(m, "late2", &got, NULL),
	    CF_E_NOTFOUND);
	cf_meta_scope_end(m);
	/* Nothing left open: the connection went back and sees everything;
	 * an end without a scope is a no-op. */
	cf_meta_scope_end(m);
	assert_int_equal(cf_meta_ns_get(m, "mine", &got, NULL), CF_OK);
	mk_ns(m, "after");
	assert_int_equal(cf_meta_scope_begin(m, &e), CF_OK);
	assert_int_equal(cf_meta_ns_get(m, "after", &got, NULL), CF_OK);
	cf_meta_scope_end(m);
	cf_meta_close(m);
}

/* --- persistence, schema, open failures --- */

static int64_t
mk_oidc_user(struct cf_meta *m, const char *name, bool provisioned)
{
	struct cf_principal_rec	p;

	memset(&p, 0, sizeof(p));
	(void)cf_strlcpy(p.name, name, sizeof(p.name));
	(void)cf_strlcpy(p.kind, "user", sizeof(p.kind));
	p.provisioned = provisioned;
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &p, NULL), CF_OK);
	return p.id;
}

/* Schema 3 -> 4: users OIDC provisioned before links existed are
 * adoptable only while they have neither a password nor MFA; nobody else
 * is.  Then links: unique per (issuer, subject), adoption once. */
static void
test_store_meta_migrate_oidc_links(void **state)
{
	struct cf_meta		*m;
	struct cf_principal_rec	 p;
	sqlite3			*db;
	char			 path[300], sql[256];
	int64_t			 id_new, id_pw, id_mfa, id_local, pid = 0;
	bool			 created = false;

	(void)state;
	m = meta_open();
	id_new = mk_oidc_user(m, "prov", true);
	id_pw = mk_oidc_user(m, "prov-pw", true);
	id_mfa = mk_oidc_user(m, "prov-mfa", true);
	id_local = mk_oidc_user(m, "local", false);
	assert_int_equal(cf_meta_password_set(m, &au_ok, id_pw, "$argon2id$x",
	    0, NULL,
	    NULL, NULL), CF_OK);
	cf_meta_close(m);
	/* Back to schema 4, as an older program left it. */
	path_in(path, sizeof(path), "meta.db");
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	(void)snprintf(sql, sizeof(sql), "INSERT INTO mfa VALUES (%lld, 'k', "
	    "zeroblob(60), 1, -1, 0)", (long long)id_mfa);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "DROP TABLE mp_completed;"
	    "DROP TABLE segments;"
	    "ALTER TABLE versions DROP COLUMN nsegs;"
	    "ALTER TABLE mp_parts DROP COLUMN sha256;"
	    "DROP TABLE promotion_approvals; DROP TABLE promotions;"
	    "ALTER TABLE versions DROP COLUMN sealed_as;"
	    "DROP TABLE breakglass;"
	    "DROP TABLE artifact_stage_history; DROP TABLE artifact_stages;"
	    "DROP TABLE artifact_lineage; DROP TABLE artifact_files;"
	    "DROP TABLE artifact_versions; DROP TABLE artifacts;"
	    "DROP TABLE oidc_links;"
	    "DROP TABLE policies;"
	    "DROP TRIGGER labels_follow_versions;" DGEN_DROP
	    "DROP TABLE principal_attrs; DROP TABLE labels;"
	    "ALTER TABLE principals DROP COLUMN oidc_adoptable;"
	    "DROP TABLE shares;"
	    "DROP TABLE s3_keys; ALTER TABLE versions DROP COLUMN md5;"
	    "ALTER TABLE versions DROP COLUMN content_encoding;"
	    "DROP TABLE mp_parts; DROP TABLE mp_uploads;"
	    "ALTER TABLE bindings DROP COLUMN expires_us;"
	    "DROP TABLE review_items; DROP TABLE reviews;"
	    "DROP TABLE erasure_certs; DROP TABLE erasures;"
	    "DROP TABLE holds;"
	    "ALTER TABLE namespaces DROP COLUMN retain_days;"
	    "ALTER TABLE namespaces DROP COLUMN purge_days;"
	    "ALTER TABLE versions DROP COLUMN checksum;"
	    "ALTER TABLE namespaces DROP COLUMN versioning;"
	    "ALTER TABLE versions DROP COLUMN s3_null;"
	    "ALTER TABLE versions DROP COLUMN s3_hidden;"
	    "PRAGMA user_version = 4", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	m = meta_open();
	assert_int_equal(cf_meta_principal_get_id(m, id_new, &p, NULL), CF_OK);
	assert_true(p.oidc_adoptable);
	assert_int_equal(cf_meta_principal_get_id(m, id_pw, &p, NULL), CF_OK);
	assert_false(p.oidc_adoptable);
	assert_int_equal(cf_meta_principal_get_id(m, id_mfa, &p, NULL), CF_OK);
	assert_false(p.oidc_adoptable);
	assert_int_equal(cf_meta_principal_get_id(m, id_local, &p, NULL),
	    CF_OK);
	assert_false(p.oidc_adoptable);
	/* Adoption: only the adoptable one, and only once. */
	assert_int_equal(cf_meta_oidc_link_add(m, &au_ok, "https://i", "s-pw",
	    id_pw,
	    true, 1, NULL, NULL), CF_E_CONFLICT);
	assert_int_equal(cf_meta_oidc_link_add(m, &au_ok, "https://i", "s-1",
	    id_new,
	    true, 1, &created, NULL), CF_OK);
	assert_true(created);
	assert_int_equal(cf_meta_oidc_link_add(m, &au_ok, "https://i", "s-2",
	    id_new,
	    true, 1, NULL, NULL), CF_E_CONFLICT);
	assert_int_equal(cf_meta_oidc_link_get(m, "https://i", "s-1", &pid,
	    NULL), CF_OK);
	assert_int_equal(pid, id_new);
	assert_int_equal(cf_meta_oidc_link_get(m, "https://i", "s-2", &pid,
	    NULL), CF_E_NOTFOUND);
	/* Explicit links: unique per (issuer, subject), idempotent. */
	assert_int_equal(cf_meta_oidc_link_add(m, &au_ok, "https://i", "s-1",
	    id_local,
	    false, 2, NULL, NULL), CF_E_CONFLICT);
	assert_int_equal(cf_meta_oidc_link_add(m, &au_ok, "https://j", "s-1",
	    id_local,
	    false, 2, &created, NULL), CF_OK);
	assert_true(created);
	assert_int_equal(cf_meta_oidc_link_add(m, &au_ok, "https://j", "s-1",
	    id_local,
	    false, 2, &created, NULL), CF_OK);
	assert_false(created);
	assert_int_equal(cf_meta_oidc_link_add(m, &au_ok, "https://j", "s-9",
	    999999,
	    false, 2, NULL, NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_oidc_link_remove(m, &au_ok, "https://j", "s-1",
	    id_new, NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_oidc_link_remove(m, &au_ok, "https://j", "s-1",
	    id_local, NULL), CF_OK);
	/* Create and link in one: a taken name fails and links nothing. */
	memset(&p, 0, sizeof(p));
	(void)cf_strlcpy(p.name, "local", sizeof(p.name));
	(void)cf_strlcpy(p.kind, "user", sizeof(p.kind));
	assert_int_equal(cf_meta_principal_create_linked(m, &au_ok, &p,
	    "https://i",
	    "s-3", NULL), CF_E_CONFLICT);
	assert_int_equal(cf_meta_oidc_link_get(m, "https://i", "s-3", &pid,
	    NULL), CF_E_NOTFOUND);
	(void)cf_strlcpy(p.name, "fresh", sizeof(p.name));
	assert_int_equal(cf_meta_principal_create_linked(m, &au_ok, &p,
	    "https://i",
	    "s-3", NULL), CF_OK);
	assert_int_equal(cf_meta_oidc_link_get(m, "https://i", "s-3", &pid,
	    NULL), CF_OK);
	assert_int_equal(pid, p.id);
	cf_meta_close(m);
}

static void
test_store_meta_reopen(void **state)
{
	struct cf_meta		*m;
	struct cf_version_rec	 v, got;
	struct cf_principal_rec	 p;
	struct cf_error		 e = { 0 };
	struct stat		 sb;
	sqlite3			*db;
	sqlite3_stmt		*st;
	char			 path[300];

	(void)state;
	m = meta_open();
	mk_ns(m, "ml");
	v = *put_version(m, "ml", "a/b", false);
	memset(&p, 0, sizeof(p));
	(void)cf_strlcpy(p.name, "alice", sizeof(p.name));
	(void)cf_strlcpy(p.kind, "user", sizeof(p.kind));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &p, NULL), CF_OK);
	cf_meta_close(m);

	m = meta_open();
	assert_int_equal(cf_meta_version_get(m, "ml", "a/b", NULL, &got,
	    NULL), CF_OK);
	assert_string_equal(got.version_id, v.version_id);
	assert_memory_equal(got.wrapped_dek, v.wrapped_dek,
	    CF_WRAPPED_DEK_LEN);
	assert_int_equal(cf_meta_principal_count(m), 1);
	/* seq keeps growing across a reopen. */
	v = *put_version(m, "ml", "a/b", false);
	assert_int_equal(cf_meta_version_get(m, "ml", "a/b", NULL, &got,
	    NULL), CF_OK);
	assert_string_equal(got.version_id, v.version_id);
	cf_meta_close(m);

	/* SEC: the database is private; WAL and the schema version set. */
	path_in(path, sizeof(path), "meta.db");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 26);
	sqlite3_finalize(st);
	/* The authorizer's reads of labels and attributes are primary-key
	 * range seeks. */
	assert_int_equal(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT"
	    " name, value FROM labels WHERE ns_id = ?1 AND key = ?2"
	    " ORDER BY name", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_non_null(strstr((const char *)sqlite3_column_text(st, 3),
	    "PRIMARY KEY"));
	sqlite3_finalize(st);
	/* Listing bindings by principal (every authentication), by
	 * namespace or by both searches an index: no scan of bindings, no
	 * sort of the whole table. */
	{
		static const struct {
			int64_t		 pid;
			const char	*ns;
			const char	*index;
		} bl[] = {
			{ 7, NULL, "PRIMARY KEY" },
			{ 7, "data", "" },	/* either index */
			{ -1, "data", "bindings_by_ns" },
		};
		char	q[1024];
		size_t	k;
		bool	search;

		for (k = 0; k < sizeof(bl) / sizeof(bl[0]); k++) {
			(void)snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s",
			    cf_meta_test_binding_list_sql(bl[k].pid,
			    bl[k].ns));
			assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st,
			    NULL), SQLITE_OK);
			search = false;
			while (sqlite3_step(st) == SQLITE_ROW) {
				const char *d = (const char *)
				    sqlite3_column_text(st, 3);
				assert_null(strstr(d, "SCAN b"));
				if (strstr(d, "SEARCH b") != NULL &&
				    strstr(d, bl[k].index) != NULL)
					search = true;
			}
			sqlite3_finalize(st);
			assert_true(search);
		}
	}
	/* The orphan sweep's question is an index seek, not a scan (the
	 * statement of cf_meta_blobs_referenced). */
	assert_int_equal(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT 1"
	    " FROM versions WHERE blob_id = ?1 AND blob_id <> '' LIMIT 1", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_non_null(strstr((const char *)sqlite3_column_text(st, 3),
	    "versions_by_blob"));
	sqlite3_finalize(st);
	/* A schema from a newer program is refused. */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	m = NULL;
	assert_int_equal(cf_meta_open(path, &m, &e), CF_E_INPUT);
	assert_null(m);

	/* Not a database at all. */
	path_in(path, sizeof(path), "garbage.db");
	{
		FILE	*f = fopen(path, "w");
		char	 junk[8192];

		assert_non_null(f);
		memset(junk, 0x5a, sizeof(junk));
		assert_int_equal(fwrite(junk, 1, sizeof(junk), f),
		    sizeof(junk));
		fclose(f);
	}
	cf_error_clear(&e);
	assert_int_equal(cf_meta_open(path, &m, &e), CF_E_INTEGRITY);
	assert_null(m);
	cf_error_clear(&e);
	assert_int_equal(cf_meta_open("/nonexistent-dir/x/meta.db", &m, &e),
	    CF_E_IO);
	assert_null(m);

	/* A tampered database with an oversize key: refused, not copied. */
	path_in(path, sizeof(path), "tamper.db");
	assert_int_equal(cf_meta_open(path, &m, NULL), CF_OK);
	{
		struct cf_ns_rec	ns = { .name = "ml", .env = "dev" };

		assert_int_equal(cf_meta_ns_create(m, &au_ok, &ns, NULL),
		    CF_OK);
	}
	(void)put_version(m, "ml", "k", false);
	cf_meta_close(m);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE live SET key ="
	    " randomblob(3000); UPDATE versions SET key = randomblob(3000);",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(cf_meta_open(path, &m, NULL), CF_OK);
	{
		bool	trunc;
		char	next[CF_OBJKEY_MAX];

		assert_int_equal(cf_meta_object_list(m, "ml", "", "/", "", 10,
		    NULL, NULL, NULL, &trunc, next, NULL), CF_E_INTEGRITY);
		assert_int_equal(cf_meta_object_list(m, "ml", "", "", "", 10,
		    NULL, NULL, NULL, &trunc, next, NULL), CF_E_INTEGRITY);
	}
	cf_meta_close(m);
}

static void
test_store_meta_open_alloc_failure(void **state)
{
	struct cf_meta	*m = NULL;
	char		 path[300];
	unsigned int	 n;
	cf_err		 rc;

	(void)state;
	path_in(path, sizeof(path), "meta.db");
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_meta_open(path, &m, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(m);
	}
	assert_true(n > 1);
	mk_ns(m, "ml");
	cf_meta_close(m);
}

/* --- blob store --- */

static void
fill_pattern(uint8_t *p, size_t len, uint64_t off, uint32_t seed)
{
	size_t	i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(((off + i) * 2654435761u + seed) >> 11);
}

static size_t
count_dir(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 n = 0;

	d = opendir(path);
	if (d == NULL)
		return 0;
	for (de = readdir(d); de != NULL; de = readdir(d))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static size_t
count_tmp(void)
{
	char	p[300];

	path_in(p, sizeof(p), "blobs/tmp");
	return count_dir(p);
}

/* Committed blobs: files in the two-hex-digit shard directories. */
static size_t
count_blobs(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[300], s[600];
	size_t		 n = 0;

	path_in(p, sizeof(p), "blobs");
	d = opendir(p);
	assert_non_null(d);
	for (de = readdir(d); de != NULL; de = readdir(d)) {
		if (strlen(de->d_name) != 2 || de->d_name[0] == '.')
			continue;
		(void)snprintf(s, sizeof(s), "%s/%s", p, de->d_name);
		n += count_dir(s);
	}
	closedir(d);
	return n;
}

static cf_err
write_blob(struct cf_blobstore *bs, size_t len, size_t piece, uint32_t seed,
    char id[CF_BLOB_ID_LEN + 1], struct cf_error *err)
{
	struct cf_blob_writer	*w = NULL;
	uint8_t			*buf;
	size_t			 off, n;
	cf_err			 rc;

	buf = malloc(piece);
	assert_non_null(buf);
	rc = cf_blob_create(bs, &w, err);
	if (rc != CF_OK)
		goto out;
	for (off = 0; off < len; off += n) {
		n = len - off < piece ? len - off : piece;
		fill_pattern(buf, n, off, seed);
		rc = cf_blob_write(w, buf, n, err);
		if (rc != CF_OK) {
			/* The writer keeps failing; commit reports it and
			 * frees the writer. */
			assert_int_equal(cf_blob_write(w, buf, 1, NULL), rc);
			break;
		}
	}
	if (rc == CF_OK)
		rc = cf_blob_commit(w, id, err);
	else
		assert_int_equal(cf_blob_commit(w, id, NULL), rc);
out:
	free(buf);
	return rc;
}

static void
check_blob(struct cf_blobstore *bs, const char *id, size_t len,
    uint32_t seed)
{
	struct cf_blob_reader	*r = NULL;
	uint8_t			*got, *want;
	size_t			 off, n, chunk = 1000003;

	assert_int_equal(cf_blob_open(bs, id, &r, NULL), CF_OK);
	assert_int_equal(cf_blob_size(r), len);
	got = malloc(chunk);
	want = malloc(chunk);
	assert_true(got != NULL && want != NULL);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		assert_int_equal(cf_blob_pread(r, got, n, off, NULL), CF_OK);
		fill_pattern(want, n, off, seed);
		assert_memory_equal(got, want, n);
	}
	/* Past the end: the blob is shorter than asked. */
	assert_int_equal(cf_blob_pread(r, got, 1, len, NULL), CF_E_INTEGRITY);
	if (len > 0)
		assert_int_equal(cf_blob_pread(r, got, 2, len - 1, NULL),
		    CF_E_INTEGRITY);
	assert_int_equal(cf_blob_pread(r, got, 0, len, NULL), CF_OK);
	cf_blob_close(r);
	free(got);
	free(want);
}

static void
test_store_blob_roundtrip(void **state)
{
	struct cf_blobstore	*bs = NULL;
	struct cf_blob_reader	*r = NULL;
	struct cf_error		 e = { 0 };
	struct stat		 sb;
	char			 id[CF_BLOB_ID_LEN + 1],
				    id2[CF_BLOB_ID_LEN + 1];
	char			 p[400];
	size_t			 bsz = cf_blob_buffer_size();
	size_t			 sizes[] = { 0, 1, 4095, 4096, 65536, 0, 0, 0 };
	size_t			 i, mode;

	(void)state;
	sizes[5] = bsz;
	sizes[6] = bsz + 1;
	sizes[7] = 3 * bsz + 12345;
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, &e), CF_OK);
	for (mode = 0; mode < 2; mode++) {
		cf_blob_test_no_direct(mode == 1);
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			assert_int_equal(write_blob(bs, sizes[i], 65536,
			    (uint32_t)i, id, NULL), CF_OK);
			check_blob(bs, id, sizes[i], (uint32_t)i);
			assert_int_equal(count_tmp(), 0);
			/* DIR/blobs/<2 hex>/<id>, private. */
			(void)snprintf(p, sizeof(p), "%s/blobs/%.2s/%s",
			    tmpdir, id, id);
			assert_int_equal(stat(p, &sb), 0);
			assert_int_equal(sb.st_mode & 0777, 0600);
			assert_int_equal(sb.st_size, sizes[i]);
			assert_int_equal(cf_blob_delete(bs, id, NULL), CF_OK);
			assert_int_equal(cf_blob_delete(bs, id, NULL),
			    CF_E_NOTFOUND);
			assert_int_equal(cf_blob_open(bs, id, &r, NULL),
			    CF_E_NOTFOUND);
		}
	}
	cf_blob_test_no_direct(false);
	/* Odd piece sizes, and ids are fresh each time. */
	assert_int_equal(write_blob(bs, 2 * bsz + 777, 4097, 99, id, NULL),
	    CF_OK);
	check_blob(bs, id, 2 * bsz + 777, 99);
	assert_int_equal(write_blob(bs, 10, 3, 98, id2, NULL), CF_OK);
	assert_string_not_equal(id, id2);
	check_blob(bs, id2, 10, 98);
	assert_int_equal(count_blobs(), 2);
	cf_blobstore_close(bs);

	/* Committed blobs survive a reopen. */
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	check_blob(bs, id, 2 * bsz + 777, 99);
	cf_blobstore_close(bs);
}

/* cf_blob_open_whole: a blob of the expected size is read whole, and
 * reads come from memory; one of another size reports its own (the
 * opener then refuses it); past CF_BLOB_WHOLE_MAX it is the plain
 * reader. */
static void
test_store_blob_whole(void **state)
{
	struct cf_blobstore	*bs = NULL;
	struct cf_blob_reader	*r = NULL;
	char			 id[CF_BLOB_ID_LEN + 1];
	size_t			 sizes[] = { 0, 1, 1000, 65568,
				    CF_BLOB_WHOLE_MAX };
	size_t			 i, len;
	uint8_t			*got, *want;

	(void)state;
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	got = malloc(CF_BLOB_WHOLE_MAX + 1);
	want = malloc(CF_BLOB_WHOLE_MAX + 1);
	assert_true(got != NULL && want != NULL);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		len = sizes[i];
		assert_int_equal(write_blob(bs, len, 4096, (uint32_t)i, id,
		    NULL), CF_OK);
		fill_pattern(want, len, 0, (uint32_t)i);
		assert_int_equal(cf_blob_open_whole(bs, id, len, &r, NULL),
		    CF_OK);
		assert_int_equal(cf_blob_size(r), len);
		assert_int_equal(cf_blob_pread(r, got, len, 0, NULL), CF_OK);
		assert_memory_equal(got, want, len);
		if (len > 1) {
			assert_int_equal(cf_blob_pread(r, got, 1, len - 1,
			    NULL), CF_OK);
			assert_int_equal(got[0], want[len - 1]);
			assert_int_equal(cf_blob_pread(r, got, 2, len - 1,
			    NULL), CF_E_INTEGRITY);
		}
		assert_int_equal(cf_blob_pread(r, got, 1, len, NULL),
		    CF_E_INTEGRITY);
		cf_blob_close(r);
		r = NULL;
		/* Shorter than expected: its own size. */
		assert_int_equal(cf_blob_open_whole(bs, id, len + 7, &r, NULL),
		    CF_OK);
		assert_int_equal(cf_blob_size(r), len);
		cf_blob_close(r);
		r = NULL;
		/* Longer: the plain reader, its real size, all of it. */
		if (len > 0) {
			assert_int_equal(cf_blob_open_whole(bs, id, len - 1,
			    &r, NULL), CF_OK);
			assert_int_equal(cf_blob_size(r), len);
			assert_int_equal(cf_blob_pread(r, got, len, 0, NULL),
			    CF_OK);
			assert_memory_equal(got, want, len);
			cf_blob_close(r);
			r = NULL;
		}
		assert_int_equal(cf_blob_delete(bs, id, NULL), CF_OK);
		assert_int_equal(cf_blob_open_whole(bs, id, len, &r, NULL),
		    CF_E_NOTFOUND);
		assert_null(r);
	}
	/* Over the limit: the plain reader (which sees what is missing
	 * just the same). */
	assert_int_equal(cf_blob_open_whole(bs, id, CF_BLOB_WHOLE_MAX + 1, &r,
	    NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_blob_open_whole(bs, "../x", 10, &r, NULL),
	    CF_E_INPUT);
	assert_null(r);
	free(got);
	free(want);
	cf_blobstore_close(bs);
}

/* The sequential reader (cf_blob_open_seq): front to back in the
 * opener's pieces (a 16-byte header, then 65552-byte chunks), then out of
 * order and across blocks, then past the end. */
static void
check_blob_seq(struct cf_blobstore *bs, const char *id, size_t len,
    uint32_t seed)
{
	struct cf_blob_reader	*r = NULL;
	uint8_t			*got, *want;
	size_t			 bsz = cf_blob_block_size();
	size_t			 off, n, i, piece = 65552;
	size_t			 at[] = { 0, 0, 0, 0, 0 };

	assert_int_equal(cf_blob_open_seq(bs, id, &r, NULL), CF_OK);
	assert_int_equal(cf_blob_size(r), len);
	got = malloc(2 * bsz);
	want = malloc(2 * bsz);
	assert_true(got != NULL && want != NULL);
	for (off = 0; off < len; off += n) {
		n = off == 0 ? 16 : piece;
		if (n > len - off)
			n = len - off;
		assert_int_equal(cf_blob_pread(r, got, n, off, NULL), CF_OK);
		fill_pattern(want, n, off, seed);
		assert_memory_equal(got, want, n);
	}
	/* Backwards, and pieces across a block's end. */
	at[1] = len / 2;
	at[2] = len > bsz ? bsz - 7 : 0;
	at[3] = len > 3 ? len - 3 : 0;
	at[4] = len > bsz + 10 ? 10 : 0;
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		n = len - at[i] < bsz + 100 ? len - at[i] : bsz + 100;
		assert_int_equal(cf_blob_pread(r, got, n, at[i], NULL), CF_OK);
		fill_pattern(want, n, at[i], seed);
		assert_memory_equal(got, want, n);
	}
	assert_int_equal(cf_blob_pread(r, got, 1, len, NULL), CF_E_INTEGRITY);
	if (len > 0)
		assert_int_equal(cf_blob_pread(r, got, 2, len - 1, NULL),
		    CF_E_INTEGRITY);
	cf_blob_close(r);
	free(got);
	free(want);
}

/* Writers and sequential readers take their buffers from the store's
 * budget, and do without when it has no room: no buffer at all (written
 * straight through the page cache), one (no I/O thread), two; a
 * sequential reader without room for its two blocks is a plain reader.
 * The same bytes every time, and the budget is given back. */
static void
test_store_blob_budget(void **state)
{
	struct cf_blobstore	*bs = NULL;
	struct cf_blob_writer	*w = NULL;
	struct cf_membudget	*mb = NULL;
	char			 id[CF_BLOB_ID_LEN + 1];
	size_t			 bsz = cf_blob_buffer_size();
	uint8_t			*piece;
	/* buffers may use 3/4 of a limit: none, one, two and a block,
	 * and big spare ones (1/8 of a limit) for a long blob */
	uint64_t		 limits[] = { 4096, 0, 0, 128u << 20 };
	size_t			 sizes[] = { 1, 0, 0, 0, (17u << 20) + 4097 };
	size_t			 i, j, mode, off;

	(void)state;
	limits[1] = 2 * (uint64_t)bsz;
	limits[2] = 8 * (uint64_t)cf_blob_block_size();
	sizes[1] = bsz + 1;
	sizes[2] = 3 * bsz + 12345;
	sizes[3] = 2 * cf_blob_block_size() + 999;
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		assert_int_equal(cf_membudget_new(limits[i], &mb, NULL),
		    CF_OK);
		cf_blobstore_set_budget(bs, mb);
		for (mode = 0; mode < 2; mode++) {
			cf_blob_test_no_direct(mode == 1);
			for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]);
			    j++) {
				assert_int_equal(write_blob(bs, sizes[j],
				    4097, (uint32_t)j, id, NULL), CF_OK);
				check_blob(bs, id, sizes[j], (uint32_t)j);
				check_blob_seq(bs, id, sizes[j], (uint32_t)j);
				assert_int_equal(cf_membudget_used(mb), 0);
				assert_int_equal(cf_blob_delete(bs, id, NULL),
				    CF_OK);
			}
		}
		cf_blob_test_no_direct(false);
		/* Without a buffer, no O_DIRECT (the writes are not
		 * aligned); past 17 MiB, with an idle budget, big buffers
		 * (4 MiB) in place of the two small ones. */
		assert_int_equal(cf_blob_create(bs, &w, NULL), CF_OK);
		if (i == 0)
			assert_false(cf_blob_writer_direct(w));
		piece = calloc(1, 65536);
		assert_non_null(piece);
		for (off = 0; off < sizes[4]; off += 65536)
			assert_int_equal(cf_blob_write(w, piece, 65536, NULL),
			    CF_OK);
		free(piece);
		if (i == 3)
			assert_true(cf_membudget_buf_bytes(mb) >= 4u << 20);
		else
			assert_true(cf_membudget_buf_bytes(mb) <= 2 * bsz);
		cf_blob_abort(w);
		w = NULL;
		assert_int_equal(cf_membudget_used(mb), 0);
		assert_int_equal(count_tmp(), 0);
		cf_blobstore_set_budget(bs, NULL);
		cf_membudget_free(mb);
		mb = NULL;
	}
	cf_blobstore_close(bs);
}

static void
test_store_blob_seq_reader(void **state)
{
	struct cf_blobstore	*bs = NULL;
	struct cf_blob_reader	*r = NULL;
	char			 id[CF_BLOB_ID_LEN + 1], p[400];
	uint8_t			*buf;
	size_t			 bsz = cf_blob_block_size();
	size_t			 sizes[] = { 0, 1, 4095, 4096, 65552, 0, 0, 0 };
	size_t			 i, mode, off;
	unsigned int		 n;
	cf_err			 rc = CF_OK;

	(void)state;
	sizes[5] = bsz;
	sizes[6] = bsz + 1;
	sizes[7] = 3 * bsz + 12345;
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	for (mode = 0; mode < 2; mode++) {
		cf_blob_test_no_direct(mode == 1);
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			assert_int_equal(write_blob(bs, sizes[i], 65536,
			    (uint32_t)i, id, NULL), CF_OK);
			check_blob_seq(bs, id, sizes[i], (uint32_t)i);
			assert_int_equal(cf_blob_delete(bs, id, NULL), CF_OK);
		}
	}
	cf_blob_test_no_direct(false);
	assert_int_equal(cf_blob_open_seq(bs, id, &r, NULL), CF_E_NOTFOUND);
	assert_null(r);

	/* A blob cut short after the open: CF_E_INTEGRITY, whether the
	 * thread or the caller's read finds it. */
	buf = malloc(bsz);
	assert_non_null(buf);
	assert_int_equal(write_blob(bs, 3 * bsz, 65536, 7, id, NULL), CF_OK);
	assert_int_equal(cf_blob_open_seq(bs, id, &r, NULL), CF_OK);
	(void)snprintf(p, sizeof(p), "%s/blobs/%.2s/%s", tmpdir, id, id);
	assert_int_equal(truncate(p, (off_t)bsz + 100), 0);
	for (off = 0; off < 3 * bsz; off += bsz) {
		rc = cf_blob_pread(r, buf, bsz, off, NULL);
		if (rc != CF_OK)
			break;
	}
	assert_int_equal(rc, CF_E_INTEGRITY);
	assert_true(off >= bsz);
	cf_blob_close(r);
	assert_int_equal(cf_blob_delete(bs, id, NULL), CF_OK);
	free(buf);

	/* Allocation failures: NOMEM with nothing returned, or a reader
	 * that works without its thread or its second block. */
	assert_int_equal(write_blob(bs, 2 * bsz + 3, 65536, 8, id, NULL),
	    CF_OK);
	for (n = 1; n < 12; n++) {
		r = NULL;
		cf_test_fail_alloc_after(n);
		rc = cf_blob_open_seq(bs, id, &r, NULL);
		cf_test_fail_alloc_after(0);
		if (rc != CF_OK) {
			assert_int_equal(rc, CF_E_NOMEM);
			assert_null(r);
			continue;
		}
		cf_blob_close(r);
		check_blob_seq(bs, id, 2 * bsz + 3, 8);
	}
	cf_blobstore_close(bs);
}

static void
test_store_blob_direct_used(void **state)
{
	struct cf_blobstore	*bs = NULL;
	struct cf_blob_writer	*w = NULL;

	(void)state;
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	assert_int_equal(cf_blob_create(bs, &w, NULL), CF_OK);
	/* Informational: ext4/xfs take O_DIRECT, tmpfs may not. */
	print_message("O_DIRECT on %s: %s\n", tmpdir,
	    cf_blob_writer_direct(w) ? "yes" : "no");
	cf_blob_abort(w);
	cf_blob_test_no_direct(true);
	assert_int_equal(cf_blob_create(bs, &w, NULL), CF_OK);
	assert_false(cf_blob_writer_direct(w));
	cf_blob_abort(w);
	cf_blob_abort(NULL);
	cf_blobstore_close(bs);
	cf_blobstore_close(NULL);
}

static void
test_store_blob_abort(void **state)
{
	struct cf_blobstore	*bs = NULL;
	struct cf_blob_writer	*w = NULL;
	uint8_t			 buf[65536];
	size_t			 i;

	(void)state;
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	assert_int_equal(cf_blob_create(bs, &w, NULL), CF_OK);
	assert_int_equal(count_tmp(), 1);
	fill_pattern(buf, sizeof(buf), 0, 1);
	for (i = 0; i < 100; i++)
		assert_int_equal(cf_blob_write(w, buf, sizeof(buf), NULL),
		    CF_OK);
	cf_blob_abort(w);
	assert_int_equal(count_tmp(), 0);
	assert_int_equal(count_blobs(), 0);
	cf_blobstore_close(bs);
}

static void
test_store_blob_stale_tmp(void **state)
{
	struct cf_blobstore	*bs = NULL, *bs2 = NULL;
	struct cf_blob_writer	*w = NULL;
	char			 p[400], id[CF_BLOB_ID_LEN + 1];
	int			 fd;

	(void)state;
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	cf_blobstore_close(bs);
	/* As a crash would leave them. */
	path_in(p, sizeof(p), "blobs/tmp/0123456789abcdef0123456789abcdef.tmp");
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "partial", 7), 7);
	close(fd);
	path_in(p, sizeof(p), "blobs/tmp/other");
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(count_tmp(), 2);
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	assert_int_equal(count_tmp(), 0);

	/* A second store on the same directory leaves the first one's
	 * upload in flight alone. */
	assert_int_equal(cf_blob_create(bs, &w, NULL), CF_OK);
	assert_int_equal(cf_blob_write(w, "x", 1, NULL), CF_OK);
	assert_int_equal(cf_blobstore_open(tmpdir, &bs2, NULL), CF_OK);
	assert_int_equal(count_tmp(), 1);
	assert_int_equal(cf_blob_commit(w, id, NULL), CF_OK);
	assert_int_equal(count_tmp(), 0);
	/* Both see the blob. */
	assert_int_equal(cf_blob_delete(bs2, id, NULL), CF_OK);
	cf_blobstore_close(bs2);
	cf_blobstore_close(bs);
}

static void
test_store_blob_malformed_ids(void **state)
{
	static const char *const bad[] = {
		"", "0", "0123456789abcdef0123456789abcde",
		"0123456789abcdef0123456789abcdef0",
		"0123456789ABCDEF0123456789ABCDEF",
		"0123456789abcdef0123456789abcdeg",
		"../../../../../../../../etc/passwd",
		"01/3456789abcdef0123456789abcdef",
		"0123456789abcdef\0"
	};
	struct cf_blobstore	*bs = NULL;
	struct cf_blob_reader	*r = NULL;
	struct cf_error		 e = { 0 };
	size_t			 i;

	(void)state;
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cf_blob_open(bs, bad[i], &r, NULL),
		    CF_E_INPUT);
		assert_null(r);
		assert_int_equal(cf_blob_delete(bs, bad[i], NULL), CF_E_INPUT);
	}
	assert_int_equal(cf_blob_open(bs, NULL, &r, NULL), CF_E_INPUT);
	cf_error_clear(&e);
	assert_int_equal(cf_blob_open(bs, "0123456789abcdef0123456789abcdef",
	    &r, &e), CF_E_NOTFOUND);
	assert_null(r);
	assert_int_equal(cf_blob_delete(bs,
	    "0123456789abcdef0123456789abcdef", NULL), CF_E_NOTFOUND);
	cf_blobstore_close(bs);
}

/* Every injected failure leaves nothing visible and no temporary data. */
static void
test_store_blob_faults(void **state)
{
	struct cf_blobstore	*bs = NULL;
	struct cf_blob_writer	*w = NULL;
	struct cf_error		 e = { 0 };
	char			 id[CF_BLOB_ID_LEN + 1], p[400];
	size_t			 bsz = cf_blob_buffer_size(), mode, i;
	struct {
		enum cf_blob_fault	op;
		unsigned int		after;
		int			errnum;
		size_t			len;
	} cases[] = {
		{ CF_BLOB_FAULT_WRITE, 1, ENOSPC, 0 },	/* first flush */
		{ CF_BLOB_FAULT_WRITE, 2, EIO, 0 },	/* second flush */
		{ CF_BLOB_FAULT_WRITE, 1, ENOSPC, 1000 },	/* the tail */
		{ CF_BLOB_FAULT_FSYNC, 1, EIO, 1000 },	/* the blob */
		{ CF_BLOB_FAULT_FSYNC, 2, EIO, 1000 },	/* its directory */
		{ CF_BLOB_FAULT_FSYNC, 1, EIO, 0 },
		{ CF_BLOB_FAULT_RENAME, 1, EXDEV, 1000 },
		{ CF_BLOB_FAULT_RENAME, 1, ENOSPC, 0 },
	};

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cases[i].len == 0)
			cases[i].len = 3 * bsz + 100;
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	/* Every shard exists, so a commit makes exactly two fsyncs (the
	 * blob, then its shard directory). */
	for (i = 0; i < 256; i++) {
		(void)snprintf(p, sizeof(p), "%s/blobs/%02zx", tmpdir, i);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	for (mode = 0; mode < 2; mode++) {
		cf_blob_test_no_direct(mode == 1);
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			cf_blob_test_fail_io(cases[i].op, cases[i].after,
			    cases[i].errnum);
			cf_error_clear(&e);
			assert_int_equal(write_blob(bs, cases[i].len, 65536,
			    7, id, &e), CF_E_IO);
			assert_true(strlen(e.msg) > 0);
			cf_blob_test_reset_faults();
			assert_int_equal(count_tmp(), 0);
			assert_int_equal(count_blobs(), 0);
		}
		/* A failed open of the temporary file. */
		cf_blob_test_fail_io(CF_BLOB_FAULT_OPEN, 1, EACCES);
		w = NULL;
		assert_int_equal(cf_blob_create(bs, &w, NULL), CF_E_IO);
		assert_null(w);
		cf_blob_test_reset_faults();
		assert_int_equal(count_tmp(), 0);

		/* Short writes are retried, not errors; a short direct write
		 * falls back to buffered writes for the rest. */
		cf_blob_test_fail_io(CF_BLOB_FAULT_SHORT, 1, 0);
		assert_int_equal(write_blob(bs, 2 * bsz + 5, 65536, 8, id,
		    NULL), CF_OK);
		check_blob(bs, id, 2 * bsz + 5, 8);
		assert_int_equal(cf_blob_delete(bs, id, NULL), CF_OK);
		cf_blob_test_fail_io(CF_BLOB_FAULT_SHORT, 3, 0);
		assert_int_equal(write_blob(bs, 3 * bsz + 5, 65536, 9, id,
		    NULL), CF_OK);
		check_blob(bs, id, 3 * bsz + 5, 9);
		assert_int_equal(cf_blob_delete(bs, id, NULL), CF_OK);
		cf_blob_test_reset_faults();
	}
	/* A delete fsyncs the shard directory; when that fails the caller
	 * hears of it (the name is gone all the same). */
	assert_int_equal(write_blob(bs, 1000, 65536, 10, id, NULL), CF_OK);
	assert_int_equal(count_blobs(), 1);
	cf_blob_test_fail_io(CF_BLOB_FAULT_FSYNC, 1, EIO);
	cf_error_clear(&e);
	assert_int_equal(cf_blob_delete(bs, id, &e), CF_E_IO);
	assert_non_null(strstr(e.msg, "shard directory"));
	cf_blob_test_reset_faults();
	assert_int_equal(count_blobs(), 0);
	assert_int_equal(cf_blob_delete(bs, id, NULL), CF_E_NOTFOUND);
	cf_blobstore_close(bs);
}


/* Writers in parallel share the buffer pool. */
struct bworker {
	struct cf_blobstore	*bs;
	uint32_t		 seed;
	size_t			 len;
	cf_err			 rc;
	char			 ids[3][CF_BLOB_ID_LEN + 1];
	pthread_t		 th;
};

static void *
bworker_main(void *arg)
{
	struct bworker	*w = arg;
	size_t		 i;

	w->rc = CF_OK;
	for (i = 0; i < 3 && w->rc == CF_OK; i++)
		w->rc = write_blob(w->bs, w->len, 65536, w->seed + (uint32_t)i,
		    w->ids[i], NULL);
	return NULL;
}

static void
test_store_blob_concurrent(void **state)
{
	struct cf_blobstore	*bs = NULL;
	struct bworker		 w[4];
	size_t			 i, j;

	(void)state;
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	for (i = 0; i < 4; i++) {
		w[i].bs = bs;
		w[i].seed = (uint32_t)(100 * i);
		w[i].len = cf_blob_buffer_size() + 4096 * i + 17;
		assert_int_equal(pthread_create(&w[i].th, NULL, bworker_main,
		    &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(w[i].th, NULL), 0);
		assert_int_equal(w[i].rc, CF_OK);
	}
	for (i = 0; i < 4; i++)
		for (j = 0; j < 3; j++)
			check_blob(bs, w[i].ids[j], w[i].len,
			    w[i].seed + (uint32_t)j);
	assert_int_equal(count_blobs(), 12);
	assert_int_equal(count_tmp(), 0);
	cf_blobstore_close(bs);
}

static void
test_store_blob_alloc_failure(void **state)
{
	struct cf_blobstore	*bs = NULL;
	struct cf_blob_writer	*w = NULL;
	struct cf_blob_reader	*r = NULL;
	char			 id[CF_BLOB_ID_LEN + 1];
	unsigned int		 n;
	cf_err			 rc;

	(void)state;
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_blobstore_open(tmpdir, &bs, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(bs);
	}
	assert_true(n > 1);
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_blob_create(bs, &w, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(w);
		assert_int_equal(count_tmp(), 0);
	}
	assert_int_equal(cf_blob_write(w, "abc", 3, NULL), CF_OK);
	assert_int_equal(cf_blob_commit(w, id, NULL), CF_OK);
	for (n = 1;; n++) {
		cf_test_fail_alloc_after(n);
		rc = cf_blob_open(bs, id, &r, NULL);
		cf_test_fail_alloc_after(0);
		if (rc == CF_OK)
			break;
		assert_int_equal(rc, CF_E_NOMEM);
		assert_null(r);
	}
	cf_blob_close(r);
	cf_blobstore_close(bs);
}


/* --- SIGKILL: what was acknowledged survives, nothing partial shows --- */

struct ack {
	int	kind;			/* 0: version put, 1: blob committed */
	int	seq;
	char	id[CF_BLOB_ID_LEN + 1];
};

static void
crash_child(int fd)
{
	struct cf_meta		*m = NULL;
	struct cf_blobstore	*bs = NULL;
	struct cf_blob_writer	*w = NULL;
	struct cf_version_rec	 v;
	struct ack		 a;
	uint8_t			 buf[65536];
	char			 p[300];
	int			 i;

	path_in(p, sizeof(p), "meta.db");
	if (cf_meta_open(p, &m, NULL) != CF_OK ||
	    cf_blobstore_open(tmpdir, &bs, NULL) != CF_OK)
		_exit(1);
	memset(buf, 0xab, sizeof(buf));
	for (i = 0;; i++) {
		memset(&a, 0, sizeof(a));
		if (i % 4 == 0) {
			/* A blob: the previous one was left in flight. */
			cf_blob_abort(w);
			w = NULL;
			if (cf_blob_create(bs, &w, NULL) != CF_OK ||
			    cf_blob_write(w, buf, sizeof(buf), NULL) !=
			    CF_OK || cf_blob_commit(w, a.id, NULL) != CF_OK)
				_exit(1);
			w = NULL;
			a.kind = 1;
			if (cf_blob_create(bs, &w, NULL) != CF_OK ||
			    cf_blob_write(w, buf, sizeof(buf), NULL) != CF_OK)
				_exit(1);
		}
		if (a.kind == 0) {
			mk_version(&v, "ml", "k", false);
			(void)snprintf(v.version_id, sizeof(v.version_id),
			    "%032x", i);
			if (cf_meta_version_put(m, &au_ok, &v, NULL) != CF_OK)
				_exit(1);
		}
		a.seq = i;
		if (write(fd, &a, sizeof(a)) != (ssize_t)sizeof(a))
			_exit(1);
	}
}

static void
test_store_crash_sigkill(void **state)
{
	struct cf_meta		*m;
	struct cf_blobstore	*bs = NULL;
	struct cf_blob_reader	*r = NULL;
	struct cf_version_rec	 got;
	struct ack		 a, blobs[64];
	char			 vid[CF_VERSION_ID_LEN + 1];
	size_t			 nblobs = 0, i;
	int			 fds[2], status, last = -1, nacks = 0;
	pid_t			 pid;

	(void)state;
	m = meta_open();
	mk_ns(m, "ml");
	cf_meta_close(m);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		crash_child(fds[1]);
		_exit(1);
	}
	close(fds[1]);
	/* Kill it mid-stream, then drain what it acknowledged. */
	for (;;) {
		if (nacks == 40)
			assert_int_equal(kill(pid, SIGKILL), 0);
		if (read(fds[0], &a, sizeof(a)) != (ssize_t)sizeof(a))
			break;
		nacks++;
		last = a.seq;
		if (a.kind == 1 && nblobs < 64)
			blobs[nblobs++] = a;
	}
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_true(last >= 39);

	/* Every acknowledged version is there. */
	m = meta_open();
	for (i = 0; i <= (size_t)last; i++) {
		if (i % 4 == 0)
			continue;
		(void)snprintf(vid, sizeof(vid), "%032zx", i);
		assert_int_equal(cf_meta_version_get(m, "ml", "k", vid, &got,
		    NULL), CF_OK);
	}
	cf_meta_close(m);
	/* Every acknowledged blob is whole; any upload in flight is gone. */
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	assert_int_equal(count_tmp(), 0);
	assert_true(nblobs >= 10);
	for (i = 0; i < nblobs; i++) {
		assert_int_equal(cf_blob_open(bs, blobs[i].id, &r, NULL),
		    CF_OK);
		assert_int_equal(cf_blob_size(r), 65536);
		cf_blob_close(r);
	}
	cf_blobstore_close(bs);
}

/* ---- identity (issue 4) ---- */

static int64_t
mk_user(struct cf_meta *m, const char *name)
{
	struct cf_principal_rec	p;

	memset(&p, 0, sizeof(p));
	(void)cf_strlcpy(p.name, name, sizeof(p.name));
	(void)cf_strlcpy(p.kind, "user", sizeof(p.kind));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &p, NULL), CF_OK);
	return p.id;
}

static void
mk_mfa(struct cf_meta *m, int64_t pid, size_t ncodes)
{
	struct cf_mfa_rec	rec;
	uint8_t			h[CF_RECOVERY_MAX][32];
	size_t			i;

	memset(&rec, 0, sizeof(rec));
	rec.principal_id = pid;
	(void)cf_strlcpy(rec.kek_id, "kek-1", sizeof(rec.kek_id));
	memset(rec.wrapped, 0x5a, sizeof(rec.wrapped));
	rec.created_us = 1;
	for (i = 0; i < ncodes; i++)
		memset(h[i], (int)(i + 1), 32);
	assert_int_equal(cf_meta_mfa_put(m, &au_ok, &rec,
	    (const uint8_t (*)[32])h,
	    ncodes, NULL), CF_OK);
}

struct id_worker {
	pthread_t	 th;
	struct cf_meta	*m;
	int64_t		 pid;
	int		 what;		/* 0: recovery use, 1: step, 2: fail */
	cf_err		 rc;
};

static void *
id_worker_main(void *arg)
{
	struct id_worker	*w = arg;
	struct cf_authfail_rec	 f;
	uint8_t			 h[32];
	int			 i;

	memset(h, 1, sizeof(h));
	switch (w->what) {
	case 0:
		w->rc = cf_meta_recovery_use(w->m, w->pid, h, 1000, NULL);
		break;
	case 1:
		w->rc = cf_meta_mfa_use_step(w->m, w->pid, 500, NULL);
		break;
	default:
		for (i = 0; i < 10; i++) {
			w->rc = cf_meta_authfail_add(w->m, "user:race",
			    1000 + i, 0, 0, &f, NULL);
			if (w->rc != CF_OK)
				break;
		}
		break;
	}
	return NULL;
}

/* Run 8 workers of one kind; the number that got CF_OK. */
static int
id_race(struct cf_meta *m, int64_t pid, int what)
{
	struct id_worker	w[8];
	int			i, ok = 0;

	for (i = 0; i < 8; i++) {
		w[i].m = m;
		w[i].pid = pid;
		w[i].what = what;
		w[i].rc = CF_E_INTERNAL;
		assert_int_equal(pthread_create(&w[i].th, NULL, id_worker_main,
		    &w[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(w[i].th, NULL), 0);
		if (w[i].rc == CF_OK)
			ok++;
		else
			assert_int_equal(w[i].rc, CF_E_AUTH);
	}
	return ok;
}

static void
test_store_recovery_codes_single_shot(void **state)
{
	struct cf_meta	*m;
	uint8_t		 h[CF_RECOVERY_MAX][32], one[32];
	size_t		 n = 0;
	int64_t		 pid, other;

	(void)state;
	m = meta_open();
	pid = mk_user(m, "alice");
	other = mk_user(m, "bob");
	mk_mfa(m, pid, 3);
	assert_int_equal(cf_meta_recovery_list(m, pid, h, CF_RECOVERY_MAX, &n,
	    NULL), CF_OK);
	assert_int_equal(n, 3);
	/* Another principal cannot use alice's code. */
	memset(one, 1, sizeof(one));
	assert_int_equal(cf_meta_recovery_use(m, other, one, 5, NULL),
	    CF_E_AUTH);
	/* Eight concurrent uses of the same code: exactly one wins. */
	assert_int_equal(id_race(m, pid, 0), 1);
	assert_int_equal(cf_meta_recovery_use(m, pid, one, 2000, NULL),
	    CF_E_AUTH);
	assert_int_equal(cf_meta_recovery_list(m, pid, h, CF_RECOVERY_MAX, &n,
	    NULL), CF_OK);
	assert_int_equal(n, 2);
	memset(one, 0, sizeof(one));
	assert_int_equal(cf_meta_recovery_use(m, pid, one, 2000, NULL),
	    CF_E_AUTH);
	memset(one, 2, sizeof(one));
	assert_int_equal(cf_meta_recovery_use(m, pid, one, 2000, NULL), CF_OK);
	/* max bounds the listing. */
	assert_int_equal(cf_meta_recovery_list(m, pid, h, 0, &n, NULL), CF_OK);
	assert_int_equal(n, 0);
	/* A new enrollment replaces the codes; deleting removes them. */
	mk_mfa(m, pid, 5);
	assert_int_equal(cf_meta_recovery_list(m, pid, h, CF_RECOVERY_MAX, &n,
	    NULL), CF_OK);
	assert_int_equal(n, 5);
	assert_int_equal(cf_meta_mfa_delete(m, &au_ok, pid, 0, NULL, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_mfa_delete(m, &au_ok, pid, 0, NULL, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_recovery_list(m, pid, h, CF_RECOVERY_MAX, &n,
	    NULL), CF_OK);
	assert_int_equal(n, 0);
	cf_meta_close(m);
}

static void
test_store_totp_last_step(void **state)
{
	struct cf_meta		*m;
	struct cf_mfa_rec	 rec;
	int64_t			 pid;

	(void)state;
	m = meta_open();
	pid = mk_user(m, "alice");
	assert_int_equal(cf_meta_mfa_get(m, pid, &rec, NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_mfa_use_step(m, pid, 1, NULL), CF_E_AUTH);
	mk_mfa(m, pid, 1);
	assert_int_equal(cf_meta_mfa_get(m, pid, &rec, NULL), CF_OK);
	assert_false(rec.enabled);
	assert_int_equal(rec.last_step, -1);
	assert_string_equal(rec.kek_id, "kek-1");
	assert_int_equal(rec.wrapped[0], 0x5a);
	assert_int_equal(cf_meta_mfa_enable(m, &au_ok, pid, NULL), CF_OK);
	assert_int_equal(cf_meta_mfa_use_step(m, pid, 100, NULL), CF_OK);
	assert_int_equal(cf_meta_mfa_use_step(m, pid, 100, NULL), CF_E_AUTH);
	assert_int_equal(cf_meta_mfa_use_step(m, pid, 99, NULL), CF_E_AUTH);
	assert_int_equal(cf_meta_mfa_use_step(m, pid, 101, NULL), CF_OK);
	assert_int_equal(cf_meta_mfa_get(m, pid, &rec, NULL), CF_OK);
	assert_true(rec.enabled);
	assert_int_equal(rec.last_step, 101);
	/* Concurrent uses of one step: exactly one wins. */
	assert_int_equal(id_race(m, pid, 1), 1);
	assert_int_equal(cf_meta_mfa_get(m, pid, &rec, NULL), CF_OK);
	assert_int_equal(rec.last_step, 500);
	/* Re-enrolling starts pending, with no step used. */
	mk_mfa(m, pid, 1);
	assert_int_equal(cf_meta_mfa_get(m, pid, &rec, NULL), CF_OK);
	assert_false(rec.enabled);
	assert_int_equal(rec.last_step, -1);
	cf_meta_close(m);
}

static void
test_store_auth_failures(void **state)
{
	struct cf_meta		*m;
	struct cf_authfail_rec	 f, g;
	char			 big[CF_AUTHKEY_MAX + 8];

	(void)state;
	m = meta_open();
	assert_int_equal(cf_meta_authfail_get(m, "user:x", &f, NULL), CF_OK);
	assert_int_equal(f.count, 0);
	assert_int_equal(f.locked_until_us, 0);
	assert_int_equal(cf_meta_authfail_add(m, "user:x", 10, 3, 100, &f,
	    NULL), CF_OK);
	assert_int_equal(cf_meta_authfail_add(m, "user:x", 20, 3, 100, &f,
	    NULL), CF_OK);
	assert_int_equal(f.count, 2);
	assert_int_equal(f.last_us, 20);
	assert_int_equal(f.locked_until_us, 0);
	assert_int_equal(cf_meta_authfail_add(m, "user:x", 30, 3, 100, &f,
	    NULL), CF_OK);
	assert_int_equal(f.locked_until_us, 130);
	/* Failures while locked count but do not extend the lock. */
	assert_int_equal(cf_meta_authfail_add(m, "user:x", 40, 3, 100, &f,
	    NULL), CF_OK);
	assert_int_equal(f.count, 4);
	assert_int_equal(f.locked_until_us, 130);
	assert_int_equal(cf_meta_authfail_get(m, "user:x", &f, NULL), CF_OK);
	assert_int_equal(f.count, 4);
	/* Keys are separate. */
	assert_int_equal(cf_meta_authfail_get(m, "addr:x", &f, NULL), CF_OK);
	assert_int_equal(f.count, 0);
	/* After the lock expired: a fresh count. */
	assert_int_equal(cf_meta_authfail_add(m, "user:x", 131, 3, 100, &f,
	    NULL), CF_OK);
	assert_int_equal(f.count, 1);
	assert_int_equal(f.locked_until_us, 0);
	/* The record as the failure found it comes back with it. */
	assert_int_equal(cf_meta_authfail_add(m, "user:x", 140, 3, 100, &f,
	    NULL), CF_OK);
	assert_int_equal(f.prev_count, 1);
	assert_int_equal(f.prev_last_us, 131);
	assert_int_equal(f.prev_locked_until_us, 0);
	/* Releasing takes one back, and a lock that failure set. */
	assert_int_equal(cf_meta_authfail_add(m, "user:x", 150, 3, 100, &f,
	    NULL), CF_OK);
	assert_int_equal(f.locked_until_us, 250);
	assert_int_equal(cf_meta_authfail_release(m, "user:x", 3, &f, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_authfail_get(m, "user:x", &f, NULL), CF_OK);
	assert_int_equal(f.count, 2);
	assert_int_equal(f.locked_until_us, 0);
	/* ...and the last failure's time goes back to what it was, so a
	 * refused attempt does not restart a delay. */
	assert_int_equal(f.last_us, 140);
	/* Unless a later attempt has counted since: then it stays. */
	assert_int_equal(cf_meta_authfail_add(m, "user:x", 160, 0, 100, &f,
	    NULL), CF_OK);
	g = f;
	assert_int_equal(cf_meta_authfail_add(m, "user:x", 170, 0, 100, &f,
	    NULL), CF_OK);
	assert_int_equal(cf_meta_authfail_release(m, "user:x", 0, &g, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_authfail_get(m, "user:x", &f, NULL), CF_OK);
	assert_int_equal(f.count, 3);
	assert_int_equal(f.last_us, 170);
	assert_int_equal(cf_meta_authfail_release(m, "nobody", 3, NULL, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_authfail_clear(m, "user:x", NULL), CF_OK);
	assert_int_equal(cf_meta_authfail_get(m, "user:x", &f, NULL), CF_OK);
	assert_int_equal(f.count, 0);
	assert_int_equal(f.last_us, 0);
	/* No failure is lost to concurrency: 8 x 10. */
	(void)id_race(m, 0, 2);
	assert_int_equal(cf_meta_authfail_get(m, "user:race", &f, NULL),
	    CF_OK);
	assert_int_equal(f.count, 80);
	/* Oversized keys are refused. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(cf_meta_authfail_add(m, big, 1, 3, 100, &f, NULL),
	    CF_E_INPUT);
	cf_meta_close(m);
}

static void
mk_tok(struct cf_meta *m, int64_t pid, const char *id, const char *kind)
{
	struct cf_token_rec	t;

	memset(&t, 0, sizeof(t));
	(void)cf_strlcpy(t.id, id, sizeof(t.id));
	t.principal_id = pid;
	cf_sha256(id, strlen(id), t.hash);
	(void)cf_strlcpy(t.description, "d", sizeof(t.description));
	(void)cf_strlcpy(t.kind, kind, sizeof(t.kind));
	t.created_us = 1;
	assert_int_equal(cf_meta_token_insert(m, &au_ok, &t, NULL), CF_OK);
}

static int64_t
tok_revoked(struct cf_meta *m, const char *id)
{
	struct cf_token_rec	t;

	assert_int_equal(cf_meta_token_get(m, id, &t, NULL), CF_OK);
	return t.revoked_us;
}

static void
test_store_revoke_sessions(void **state)
{
	struct cf_meta	*m;
	int64_t		 a, b;
	size_t		 n = 99;

	(void)state;
	m = meta_open();
	a = mk_user(m, "alice");
	b = mk_user(m, "bob");
	mk_tok(m, a, "a000000000000001", "session");
	mk_tok(m, a, "a000000000000002", "session");
	mk_tok(m, a, "a000000000000003", "session");
	mk_tok(m, a, "a000000000000004", "api");
	mk_tok(m, b, "b000000000000001", "session");
	assert_int_equal(cf_meta_token_revoke(m, &au_ok, "a000000000000003", 7,
	    NULL),
	    CF_OK);
	assert_int_equal(cf_meta_token_revoke_sessions(m, &au_ok, a, NULL, 0,
	    &n,
	    NULL), CF_E_INVAL);
	assert_int_equal(cf_meta_token_revoke_sessions(m, &au_ok, a,
	    "a000000000000002", 50, &n, NULL), CF_OK);
	assert_int_equal(n, 1);
	assert_int_equal(tok_revoked(m, "a000000000000001"), 50);
	assert_int_equal(tok_revoked(m, "a000000000000002"), 0);
	assert_int_equal(tok_revoked(m, "a000000000000003"), 7);
	assert_int_equal(tok_revoked(m, "a000000000000004"), 0);
	assert_int_equal(tok_revoked(m, "b000000000000001"), 0);
	assert_int_equal(cf_meta_token_revoke_sessions(m, &au_ok, a, NULL, 60,
	    &n,
	    NULL), CF_OK);
	assert_int_equal(n, 1);
	assert_int_equal(tok_revoked(m, "a000000000000002"), 60);
	assert_int_equal(tok_revoked(m, "a000000000000004"), 0);
	assert_int_equal(cf_meta_token_revoke_sessions(m, &au_ok, a, NULL, 70,
	    NULL,
	    NULL), CF_OK);
	assert_int_equal(tok_revoked(m, "a000000000000001"), 50);
	/* An MFA reset revokes the sessions in its own transaction: bob's
	 * session goes, his API token stays; without revoke_us none goes. */
	mk_tok(m, b, "b000000000000002", "api");
	assert_int_equal(cf_meta_mfa_delete(m, &au_ok, b, 0, &n, NULL), CF_OK);
	assert_int_equal(tok_revoked(m, "b000000000000001"), 0);
	n = 99;
	assert_int_equal(cf_meta_mfa_delete(m, &au_ok, b, 80, &n, NULL), CF_OK);
	assert_int_equal(n, 1);
	assert_int_equal(tok_revoked(m, "b000000000000001"), 80);
	assert_int_equal(tok_revoked(m, "b000000000000002"), 0);
	/* So do a password change (sparing the calling session) and
	 * disabling; an unknown principal changes nothing at all. */
	mk_tok(m, a, "a000000000000005", "session");
	mk_tok(m, a, "a000000000000006", "session");
	assert_int_equal(cf_meta_password_set(m, &au_ok, a, "$argon2id$x", 90,
	    "a000000000000006", &n, NULL), CF_OK);
	assert_int_equal(n, 1);
	assert_int_equal(tok_revoked(m, "a000000000000005"), 90);
	assert_int_equal(tok_revoked(m, "a000000000000006"), 0);
	assert_int_equal(cf_meta_principal_set_disabled(m, &au_ok, a, true, 95,
	    &n,
	    NULL), CF_OK);
	assert_int_equal(n, 1);
	assert_int_equal(tok_revoked(m, "a000000000000006"), 95);
	assert_int_equal(tok_revoked(m, "a000000000000004"), 0);
	assert_int_equal(cf_meta_password_set(m, &au_ok, 999, "$argon2id$x", 99,
	    NULL,
	    &n, NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_principal_set_disabled(m, &au_ok, 999, true,
	    99, &n,
	    NULL), CF_E_NOTFOUND);
	cf_meta_close(m);
}

/* FNV-1a over every row of every table of the database at path: equal
 * fingerprints, same contents. */
static uint64_t
db_fingerprint(const char *path)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*tl = NULL, *st = NULL;
	char		 sql[256];
	uint64_t	 h = 1469598103934665603ULL;
	const uint8_t	*p;
	int		 i, j, n;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master"
	    " WHERE type = 'table' ORDER BY name", -1, &tl, NULL), SQLITE_OK);
	while (sqlite3_step(tl) == SQLITE_ROW) {
		(void)snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\"",
		    (const char *)sqlite3_column_text(tl, 0));
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
		    SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (i = 0; i < sqlite3_column_count(st); i++) {
				p = sqlite3_column_blob(st, i);
				n = sqlite3_column_bytes(st, i);
				for (j = 0; j < n; j++)
					h = (h ^ p[j]) * 1099511628211ULL;
				h = (h ^ 0xff) * 1099511628211ULL;
			}
		}
		(void)sqlite3_finalize(st);
	}
	(void)sqlite3_finalize(tl);
	(void)sqlite3_close(db);
	return h;
}

/* Every change the store offers, made with obligation au (which the
 * caller expects to be refused): each must fail with want. */
static void
every_change(struct cf_meta *m, const struct cf_meta_audit *au,
    int64_t pid, cf_err want)
{
	struct cf_ns_rec		ns;
	struct cf_version_rec		v;
	struct cf_principal_rec		p;
	struct cf_token_rec		t;
	struct cf_mfa_rec		mr;
	uint8_t				hashes[1][32];

	memset(&ns, 0, sizeof(ns));
	(void)cf_strlcpy(ns.name, "unaudited", sizeof(ns.name));
	(void)cf_strlcpy(ns.env, "dev", sizeof(ns.env));
	assert_int_equal(cf_meta_ns_create(m, au, &ns, NULL), want);
	assert_int_equal(cf_meta_ns_set_sensitivity(m, au, "guarded",
	    "public", NULL), want);
	assert_int_equal(cf_meta_ns_delete(m, au, "empty", NULL, NULL, NULL),
	    want);
	mk_version(&v, "guarded", "k2", false);
	assert_int_equal(cf_meta_version_put(m, au, &v, NULL), want);
	memset(&p, 0, sizeof(p));
	(void)cf_strlcpy(p.name, "mallory", sizeof(p.name));
	(void)cf_strlcpy(p.kind, "user", sizeof(p.kind));
	assert_int_equal(cf_meta_principal_create(m, au, &p, NULL), want);
	(void)cf_strlcpy(p.name, "mallory2", sizeof(p.name));
	assert_int_equal(cf_meta_principal_create_linked(m, au, &p,
	    "https://idp", "sub-2", NULL), want);
	memset(&t, 0, sizeof(t));
	(void)cf_strlcpy(t.id, "b000000000000001", sizeof(t.id));
	t.hash[0] = 1;
	t.principal_id = pid;
	assert_int_equal(cf_meta_token_insert(m, au, &t, NULL), want);
	assert_int_equal(cf_meta_token_revoke(m, au, "a000000000000001", 5,
	    NULL), want);
	assert_int_equal(cf_meta_token_revoke_sessions(m, au, pid, NULL, 5,
	    NULL, NULL), want);
	assert_int_equal(cf_meta_token_set_mfa(m, au, "a000000000000001", 5,
	    NULL), want);
	assert_int_equal(cf_meta_binding_add(m, au, pid, "admin", "", 0, NULL),
	    want);
	assert_int_equal(cf_meta_binding_remove(m, au, pid, "reader",
	    "guarded", NULL), want);
	assert_int_equal(cf_meta_principal_set_disabled(m, au, pid, true, 5,
	    NULL, NULL), want);
	assert_int_equal(cf_meta_principal_set_mfa_required(m, au, pid, true,
	    NULL), want);
	assert_int_equal(cf_meta_password_set(m, au, pid, "$argon2id$y", 5,
	    NULL, NULL, NULL), want);
	memset(&mr, 0, sizeof(mr));
	mr.principal_id = pid;
	memset(hashes, 7, sizeof(hashes));
	assert_int_equal(cf_meta_mfa_put(m, au, &mr,
	    (const uint8_t (*)[32])hashes, 1, NULL), want);
	assert_int_equal(cf_meta_mfa_enable(m, au, pid, NULL), want);
	assert_int_equal(cf_meta_mfa_delete(m, au, pid, 5, NULL, NULL), want);
	assert_int_equal(cf_meta_oidc_link_add(m, au, "https://idp", "sub-3",
	    pid, false, 5, NULL, NULL), want);
	assert_int_equal(cf_meta_oidc_link_remove(m, au, "https://idp",
	    "sub-1", pid, NULL), want);
	assert_int_equal(cf_meta_role_mfa_set(m, au, "admin", true, NULL),
	    want);
	{
		struct cf_policy_rec	pr;

		memset(&pr, 0, sizeof(pr));
		(void)cf_strlcpy(pr.name, "sneaky", sizeof(pr.name));
		(void)cf_strlcpy(pr.created_by, "mallory",
		    sizeof(pr.created_by));
		assert_int_equal(cf_meta_policy_put(m, au, &pr, "x", 1, 0,
		    NULL, NULL), want);
	}
}

/* Access review campaigns (meta_review.c): a revocation closes the item
 * and deletes the binding in one transaction, or does neither. */
static void
test_store_meta_review_revoke_atomic(void **state)
{
	struct cf_meta		*m;
	struct cf_principal_rec	 pr;
	struct cf_review_rec	 rv, got;
	struct cf_review_item	*it;
	struct blist		 bl;
	struct cf_error		 e = { 0 };
	int			 i;

	(void)state;
	m = meta_open();
	mk_ns(m, "rvns");
	memset(&pr, 0, sizeof(pr));
	(void)cf_strlcpy(pr.name, "dana", sizeof(pr.name));
	(void)cf_strlcpy(pr.kind, "user", sizeof(pr.kind));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &pr, NULL), CF_OK);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, pr.id, "reader", "rvns",
	    0, NULL), CF_OK);
	memset(&rv, 0, sizeof(rv));
	(void)cf_strlcpy(rv.id, "rv-00000000000000000001", sizeof(rv.id));
	(void)cf_strlcpy(rv.ns, "rvns", sizeof(rv.ns));
	(void)cf_strlcpy(rv.creator, "admin", sizeof(rv.creator));
	(void)cf_strlcpy(rv.reviewer, "rita", sizeof(rv.reviewer));
	(void)cf_strlcpy(rv.on_timeout, "escalate", sizeof(rv.on_timeout));
	rv.created_us = 1;
	rv.due_us = 2;
	it = calloc(2, sizeof(*it));
	assert_non_null(it);
	for (i = 0; i < 2; i++) {
		it[i].n = i + 1;
		(void)cf_strlcpy(it[i].principal, "dana",
		    sizeof(it[i].principal));
		(void)cf_strlcpy(it[i].kind, "binding", sizeof(it[i].kind));
		(void)cf_strlcpy(it[i].name, i == 0 ? "reader" : "writer",
		    sizeof(it[i].name));
		(void)cf_strlcpy(it[i].ns, "rvns", sizeof(it[i].ns));
		(void)cf_strlcpy(it[i].reviewer, "rita",
		    sizeof(it[i].reviewer));
		(void)cf_strlcpy(it[i].detail, "{}", sizeof(it[i].detail));
	}
	assert_int_equal(cf_meta_review_create(m, &au_ok, &rv, it, 2, &e),
	    CF_OK);
	assert_int_equal(cf_meta_review_get(m, rv.id, &got, NULL), CF_OK);
	assert_string_equal(got.reviewer, "rita");
	assert_int_equal(got.timed_out_us, 0);
	/* SEC: no change without an audit obligation. */
	assert_int_equal(cf_meta_review_item_close(m, NULL, rv.id, 1,
	    "revoked", "rita", 5, "", "", pr.id, NULL), CF_E_INTERNAL);
	assert_int_equal(cf_meta_review_item_escalate(m, NULL, rv.id, 1,
	    "admin", NULL), CF_E_INTERNAL);
	assert_int_equal(cf_meta_review_timed_out(m, NULL, rv.id, 3, NULL),
	    CF_E_INTERNAL);
	/* Revoke item 1: the binding goes with it. */
	assert_int_equal(cf_meta_review_item_close(m, &au_ok, rv.id, 1,
	    "revoked", "rita", 5, "gone", "revoked by the reviewer", pr.id,
	    NULL), CF_OK);
	memset(&bl, 0, sizeof(bl));
	assert_int_equal(cf_meta_binding_list(m, pr.id, NULL,
	    CF_META_BINDINGS_ALL, b_collect, &bl, NULL), CF_OK);
	assert_int_equal(bl.n, 0);
	assert_int_equal(cf_meta_review_item_get(m, rv.id, 1, &it[0], NULL),
	    CF_OK);
	assert_string_equal(it[0].state, "revoked");
	assert_string_equal(it[0].decided_by, "rita");
	/* Closed: decided once. */
	assert_int_equal(cf_meta_review_item_close(m, &au_ok, rv.id, 1,
	    "kept", "rita", 6, "", "", 0, NULL), CF_E_CONFLICT);
	/* Item 2's binding does not exist: nothing changes. */
	assert_int_equal(cf_meta_review_item_close(m, &au_ok, rv.id, 2,
	    "revoked", "rita", 5, "", "", pr.id, NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_review_item_get(m, rv.id, 2, &it[1], NULL),
	    CF_OK);
	assert_string_equal(it[1].state, "open");
	assert_int_equal(cf_meta_review_item_escalate(m, &au_ok, rv.id, 2,
	    "admin", NULL), CF_OK);
	assert_int_equal(cf_meta_review_item_get(m, rv.id, 2, &it[1], NULL),
	    CF_OK);
	assert_true(it[1].escalated);
	assert_string_equal(it[1].reviewer, "admin");
	assert_int_equal(cf_meta_review_timed_out(m, &au_ok, rv.id, 3, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_review_timed_out(m, &au_ok, rv.id, 4, NULL),
	    CF_E_CONFLICT);
	assert_int_equal(cf_meta_review_get(m, "rv-nope", &got, NULL),
	    CF_E_NOTFOUND);
	free(it);
	cf_meta_close(m);
}

/* SEC: a change without an audit obligation (none, or one without a
 * record function) is refused, CF_E_INTERNAL, and changes nothing. */
static void
test_store_needs_obligation(void **state)
{
	static const struct cf_meta_audit	unarmed = { NULL, NULL };
	struct cf_meta				*m;
	struct cf_principal_rec			 p;
	struct cf_token_rec			 t;
	struct cf_mfa_rec			 mr;
	uint8_t					 hashes[1][32];
	char					 path[300];
	uint64_t				 before;

	(void)state;
	m = meta_open();
	path_in(path, sizeof(path), "meta.db");
	/* A state in which each change below would succeed. */
	mk_ns(m, "guarded");
	mk_ns(m, "empty");
	(void)put_version(m, "guarded", "k1", false);
	memset(&p, 0, sizeof(p));
	(void)cf_strlcpy(p.name, "alice", sizeof(p.name));
	(void)cf_strlcpy(p.kind, "user", sizeof(p.kind));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &p, NULL),
	    CF_OK);
	memset(&t, 0, sizeof(t));
	(void)cf_strlcpy(t.id, "a000000000000001", sizeof(t.id));
	(void)cf_strlcpy(t.kind, "session", sizeof(t.kind));
	t.principal_id = p.id;
	assert_int_equal(cf_meta_token_insert(m, &au_ok, &t, NULL), CF_OK);
	assert_int_equal(cf_meta_binding_add(m, &au_ok, p.id, "reader",
	    "guarded", 0, NULL), CF_OK);
	memset(&mr, 0, sizeof(mr));
	mr.principal_id = p.id;
	memset(hashes, 3, sizeof(hashes));
	assert_int_equal(cf_meta_mfa_put(m, &au_ok, &mr,
	    (const uint8_t (*)[32])hashes, 1, NULL), CF_OK);
	assert_int_equal(cf_meta_oidc_link_add(m, &au_ok, "https://idp",
	    "sub-1", p.id, false, 5, NULL, NULL), CF_OK);

	before = db_fingerprint(path);
	every_change(m, NULL, p.id, CF_E_INTERNAL);
	every_change(m, &unarmed, p.id, CF_E_INTERNAL);
	assert_true(db_fingerprint(path) == before);
	/* The same calls with an obligation do change it. */
	every_change(m, &au_ok, p.id, CF_OK);
	assert_true(db_fingerprint(path) != before);
	cf_meta_close(m);
}

/* The record function runs inside the change's transaction, right
 * before COMMIT, once per call; its refusal rolls the change back and
 * is the call's result; a call that fails before COMMIT never runs it. */
struct rec_probe {
	struct cf_meta	*m;
	const char	*ns;		/* must not be visible yet */
	cf_err		 answer;
	int		 calls;
};

static cf_err
rec_probe(void *arg, struct cf_error *err)
{
	struct rec_probe	*pr = arg;
	struct cf_ns_rec	 ns;

	pr->calls++;
	/* Before COMMIT: another connection does not see the change. */
	assert_int_equal(cf_meta_ns_get(pr->m, pr->ns, &ns, NULL),
	    CF_E_NOTFOUND);
	if (pr->answer != CF_OK)
		return cf_error_set(err, pr->answer, "audit log refused");
	return CF_OK;
}

static void
test_store_audited_commit(void **state)
{
	struct cf_meta		*m;
	struct cf_ns_rec	 ns;
	struct cf_error		 e = { 0 };
	struct rec_probe	 pr;
	struct cf_meta_audit	 au = { rec_probe, &pr };

	(void)state;
	m = meta_open();
	memset(&ns, 0, sizeof(ns));
	(void)cf_strlcpy(ns.env, "dev", sizeof(ns.env));
	(void)cf_strlcpy(ns.created_by, "admin", sizeof(ns.created_by));
	memset(&pr, 0, sizeof(pr));
	pr.m = m;

	/* Refused: the store call fails with the record's error and
	 * nothing is written. */
	pr.ns = "audited-no";
	pr.answer = CF_E_IO;
	(void)cf_strlcpy(ns.name, pr.ns, sizeof(ns.name));
	assert_int_equal(cf_meta_ns_create(m, &au, &ns, &e), CF_E_IO);
	assert_string_equal(e.msg, "audit log refused");
	assert_int_equal(pr.calls, 1);
	assert_int_equal(cf_meta_ns_get(m, pr.ns, &ns, NULL), CF_E_NOTFOUND);

	/* Accepted: runs before the commit, once per call. */
	pr.calls = 0;
	pr.ns = "audited-ok";
	pr.answer = CF_OK;
	(void)cf_strlcpy(ns.name, pr.ns, sizeof(ns.name));
	assert_int_equal(cf_meta_ns_create(m, &au, &ns, NULL), CF_OK);
	assert_int_equal(pr.calls, 1);
	assert_int_equal(cf_meta_ns_get(m, pr.ns, &ns, NULL), CF_OK);

	/* A call that fails before COMMIT (the namespace exists) records
	 * nothing. */
	pr.calls = 0;
	pr.ns = "not-there";
	assert_int_equal(cf_meta_ns_create(m, &au, &ns, NULL), CF_E_CONFLICT);
	assert_int_equal(pr.calls, 0);

	/* A refusal in a multi-statement change undoes all of it. */
	pr.calls = 0;
	pr.answer = CF_E_IO;
	assert_int_equal(cf_meta_ns_delete(m, &au, "audited-ok", NULL, NULL,
	    NULL), CF_E_IO);
	assert_int_equal(pr.calls, 1);
	assert_int_equal(cf_meta_ns_get(m, "audited-ok", &ns, NULL), CF_OK);
	cf_meta_close(m);
}

/* The named writes that take no obligation: a rehash replaces only the
 * hash it was computed from; bootstrap only on an empty store. */
static void
test_store_unaudited_writes(void **state)
{
	struct cf_meta		*m;
	struct cf_principal_rec	 p, q;
	struct cf_token_rec	 t;
	char			 h[CF_PWHASH_MAX];

	(void)state;
	m = meta_open();
	memset(&p, 0, sizeof(p));
	(void)cf_strlcpy(p.name, "admin", sizeof(p.name));
	(void)cf_strlcpy(p.kind, "user", sizeof(p.kind));
	memset(&t, 0, sizeof(t));
	(void)cf_strlcpy(t.id, "c000000000000001", sizeof(t.id));
	(void)cf_strlcpy(t.kind, "session", sizeof(t.kind));
	assert_int_equal(cf_meta_bootstrap(m, &p, "admin", &t, NULL), CF_OK);
	assert_true(p.id > 0);
	assert_int_equal(t.principal_id, p.id);
	assert_int_equal(cf_meta_principal_count(m), 1);
	assert_int_equal(cf_meta_token_get(m, t.id, &t, NULL), CF_OK);
	assert_int_equal(t.principal_id, p.id);
	/* A second bootstrap (another process) changes nothing. */
	q = p;
	(void)cf_strlcpy(q.name, "admin2", sizeof(q.name));
	(void)cf_strlcpy(t.id, "c000000000000002", sizeof(t.id));
	assert_int_equal(cf_meta_bootstrap(m, &q, "admin", &t, NULL),
	    CF_E_CONFLICT);
	assert_int_equal(cf_meta_principal_count(m), 1);
	assert_int_equal(cf_meta_token_get(m, t.id, &t, NULL), CF_E_NOTFOUND);

	assert_int_equal(cf_meta_password_set(m, &au_ok, p.id, "$argon2id$old",
	    0, NULL, NULL, NULL), CF_OK);
	assert_int_equal(cf_meta_password_rehash(m, p.id, "$argon2id$old",
	    "$argon2id$new", NULL), CF_OK);
	assert_int_equal(cf_meta_password_get(m, p.id, h, NULL), CF_OK);
	assert_string_equal(h, "$argon2id$new");
	/* SEC: changed meanwhile: the rehash of the old one loses. */
	assert_int_equal(cf_meta_password_rehash(m, p.id, "$argon2id$old",
	    "$argon2id$stale", NULL), CF_E_CONFLICT);
	assert_int_equal(cf_meta_password_get(m, p.id, h, NULL), CF_OK);
	assert_string_equal(h, "$argon2id$new");
	cf_meta_close(m);
}

/* --- orphan sweep --- */

struct sweep_rec {
	struct cf_meta	*m;
	cf_err		 refs_rc;	/* injected failure of refs */
	cf_err		 reclaim_rc;	/* injected failure of reclaim */
	size_t		 refs_calls, reclaim_calls;
	size_t		 reclaimed;	/* ids passed to reclaim */
	uint64_t	 bytes;
	bool		 existed;	/* each reclaimed blob still existed
					 * when reclaim was called */
	char		 ids[128][CF_BLOB_ID_LEN + 1];
};

static cf_err
sweep_refs(void *arg, const char (*ids)[CF_BLOB_ID_LEN + 1], size_t n,
    bool *ref, struct cf_error *err)
{
	struct sweep_rec	*r = arg;

	r->refs_calls++;
	assert_true(n >= 1 && n <= CF_BLOB_SWEEP_BATCH);
	if (r->refs_rc != CF_OK) {
		/* As a failing store does: some answers, then the error. */
		ref[0] = false;
		return cf_error_set(err, r->refs_rc, "injected");
	}
	return cf_meta_blobs_referenced(r->m, ids, n, ref, err);
}

static cf_err
sweep_reclaim(void *arg, const char (*ids)[CF_BLOB_ID_LEN + 1], size_t n,
    uint64_t bytes, struct cf_error *err)
{
	struct sweep_rec	*r = arg;
	struct stat		 st;
	char			 p[400];
	size_t			 i;

	r->reclaim_calls++;
	assert_true(n >= 1 && n <= CF_BLOB_SWEEP_BATCH);
	if (r->reclaim_rc != CF_OK)
		return cf_error_set(err, r->reclaim_rc, "injected");
	for (i = 0; i < n; i++) {
		(void)snprintf(p, sizeof(p), "%s/blobs/%.2s/%.32s", tmpdir,
		    ids[i], ids[i]);
		if (stat(p, &st) != 0)
			r->existed = false;
		assert_true(r->reclaimed < 128);
		(void)cf_strlcpy(r->ids[r->reclaimed++], ids[i],
		    CF_BLOB_ID_LEN + 1);
	}
	r->bytes += bytes;
	return CF_OK;
}

static bool
blob_exists(const char *id)
{
	struct stat	st;
	char		p[400];

	(void)snprintf(p, sizeof(p), "%s/blobs/%.2s/%.32s", tmpdir, id, id);
	return stat(p, &st) == 0;
}

static void
sweep_init(struct cf_blob_sweep *sw, struct sweep_rec *r, int64_t now_s,
    int64_t grace_s)
{
	memset(sw, 0, sizeof(*sw));
	sw->now_s = now_s;
	sw->grace_s = grace_s;
	sw->refs = sweep_refs;
	sw->reclaim = sweep_reclaim;
	sw->arg = r;
	r->existed = true;
}

#define SWEEP_ORPHANS	60	/* more than one batch */

static void
test_store_blob_sweep(void **state)
{
	struct cf_meta		*m;
	struct cf_blobstore	*bs = NULL;
	struct cf_version_rec	*v;
	struct cf_blob_sweep	 sw;
	struct sweep_rec	 r;
	struct stat		 st;
	char			 kept[4][CF_BLOB_ID_LEN + 1];
	char			 orphan[SWEEP_ORPHANS][CF_BLOB_ID_LEN + 1];
	char			 p[400], junk[400];
	int64_t			 lo = INT64_MAX, hi = 0;
	uint64_t		 orphan_bytes = 0;
	size_t			 i, total;
	int			 fd;

	(void)state;
	m = meta_open();
	mk_ns(m, "sweep-ns");
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	for (i = 0; i < 4; i++)
		assert_int_equal(write_blob(bs, 100 + i, 64, 1, kept[i], NULL),
		    CF_OK);
	for (i = 0; i < SWEEP_ORPHANS; i++) {
		assert_int_equal(write_blob(bs, 10 + i, 64, 2, orphan[i],
		    NULL), CF_OK);
		orphan_bytes += 10 + i;
	}
	/* Referenced: the live version of a, an older version of a, the
	 * version under b's delete marker, and c's version. */
	v = put_version_blob(m, "sweep-ns", "a", kept[0]);
	v = put_version_blob(m, "sweep-ns", "a", kept[1]);
	v = put_version_blob(m, "sweep-ns", "b", kept[2]);
	(void)put_version(m, "sweep-ns", "b", true);
	v = put_version_blob(m, "sweep-ns", "c", kept[3]);
	(void)v;
	/* Not blobs: a stray file and a directory named like an id. */
	(void)snprintf(junk, sizeof(junk), "%s/blobs/%.2s/notes.txt", tmpdir,
	    orphan[0]);
	fd = open(junk, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	(void)snprintf(p, sizeof(p), "%s/blobs/%.2s/%.2s%030d", tmpdir,
	    orphan[1], orphan[1], 0);
	assert_int_equal(mkdir(p, 0700), 0);
	total = 4 + SWEEP_ORPHANS;
	/* The ages span every blob: the kept ones were written first, and
	 * on a loaded host a second may have turned in between. */
	for (i = 0; i < total; i++) {
		const char *id = i < 4 ? kept[i] : orphan[i - 4];

		(void)snprintf(p, sizeof(p), "%s/blobs/%.2s/%.32s", tmpdir,
		    id, id);
		assert_int_equal(stat(p, &st), 0);
		if (st.st_ctim.tv_sec < lo)
			lo = st.st_ctim.tv_sec;
		if (st.st_ctim.tv_sec > hi)
			hi = st.st_ctim.tv_sec;
	}

	/* Inside the grace (the injected clock one second short of it for
	 * the oldest blob): nothing is even asked about. */
	memset(&r, 0, sizeof(r));
	r.m = m;
	sweep_init(&sw, &r, lo + 3600 - 1, 3600);
	assert_int_equal(cf_blob_sweep(bs, &sw, NULL), CF_OK);
	assert_int_equal(sw.shard, CF_BLOB_SHARDS);
	assert_int_equal(sw.scanned, total);
	assert_int_equal(sw.young, total);
	assert_int_equal(sw.removed, 0);
	assert_int_equal(r.refs_calls, 0);
	assert_int_equal(count_blobs(), total + 2);

	/* The metadata fails: nothing is removed, nothing recorded. */
	memset(&r, 0, sizeof(r));
	r.m = m;
	r.refs_rc = CF_E_IO;
	sweep_init(&sw, &r, hi + 3600, 3600);
	assert_int_equal(cf_blob_sweep(bs, &sw, NULL), CF_E_IO);
	assert_int_equal(r.refs_calls, 1);
	assert_int_equal(r.reclaim_calls, 0);
	assert_int_equal(sw.removed, 0);
	assert_int_equal(count_blobs(), total + 2);

	/* The audit record cannot be written: nothing is removed. */
	memset(&r, 0, sizeof(r));
	r.m = m;
	r.reclaim_rc = CF_E_IO;
	sweep_init(&sw, &r, hi + 3600, 3600);
	assert_int_equal(cf_blob_sweep(bs, &sw, NULL), CF_E_IO);
	assert_int_equal(r.reclaim_calls, 1);
	assert_int_equal(sw.removed, 0);
	assert_int_equal(count_blobs(), total + 2);

	/* A bounded step: it stops after the first shard with a blob, and
	 * the cursor says where to go on. */
	memset(&r, 0, sizeof(r));
	r.m = m;
	sweep_init(&sw, &r, lo + 3600 - 1, 3600);
	sw.max_scan = 1;
	assert_int_equal(cf_blob_sweep(bs, &sw, NULL), CF_OK);
	assert_true(sw.scanned >= 1 && sw.scanned < total);
	assert_true(sw.shard < CF_BLOB_SHARDS);
	while (sw.shard < CF_BLOB_SHARDS)
		assert_int_equal(cf_blob_sweep(bs, &sw, NULL), CF_OK);
	assert_int_equal(sw.scanned, total);

	/* Past the grace: exactly the orphans go, after their record. */
	memset(&r, 0, sizeof(r));
	r.m = m;
	sweep_init(&sw, &r, hi + 3600, 3600);
	assert_int_equal(cf_blob_sweep(bs, &sw, NULL), CF_OK);
	assert_int_equal(sw.removed, SWEEP_ORPHANS);
	assert_int_equal(sw.bytes, orphan_bytes);
	assert_int_equal(r.reclaimed, SWEEP_ORPHANS);
	assert_int_equal(r.bytes, orphan_bytes);
	assert_true(r.existed);
	/* 64 blobs examined, in batches of 32 across shards. */
	assert_int_equal(r.reclaim_calls, 2);
	for (i = 0; i < SWEEP_ORPHANS; i++)
		assert_false(blob_exists(orphan[i]));
	for (i = 0; i < 4; i++) {
		assert_true(blob_exists(kept[i]));
		check_blob(bs, kept[i], 100 + i, 1);
	}
	assert_int_equal(count_blobs(), 4 + 2);	/* and the two strays */
	assert_int_equal(stat(junk, &st), 0);

	/* Again: nothing left to do. */
	memset(&r, 0, sizeof(r));
	r.m = m;
	sweep_init(&sw, &r, hi + 3600, 3600);
	assert_int_equal(cf_blob_sweep(bs, &sw, NULL), CF_OK);
	assert_int_equal(sw.removed, 0);
	assert_int_equal(r.reclaim_calls, 0);
	cf_blobstore_close(bs);
	cf_meta_close(m);
}

/* try_alone: a store that nobody else has open needs no grace; with a
 * second store open (another server), the grace applies. */
static void
test_store_blob_sweep_alone(void **state)
{
	struct cf_meta		*m;
	struct cf_blobstore	*bs = NULL, *bs2 = NULL;
	struct cf_blob_writer	*w = NULL;
	struct cf_blob_sweep	 sw;
	struct sweep_rec	 r;
	char			 id[CF_BLOB_ID_LEN + 1];
	char			 id2[CF_BLOB_ID_LEN + 1];

	(void)state;
	m = meta_open();
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	assert_int_equal(write_blob(bs, 5, 5, 3, id, NULL), CF_OK);
	assert_int_equal(cf_blobstore_open(tmpdir, &bs2, NULL), CF_OK);

	memset(&r, 0, sizeof(r));
	r.m = m;
	sweep_init(&sw, &r, 0, 3600);	/* every blob is "young" */
	sw.try_alone = true;
	assert_int_equal(cf_blob_sweep(bs, &sw, NULL), CF_OK);
	assert_false(sw.alone);
	assert_int_equal(sw.removed, 0);
	assert_true(blob_exists(id));
	/* The shared lock was given back: the other store's upload in
	 * flight survives a third store's open. */
	assert_int_equal(cf_blob_create(bs2, &w, NULL), CF_OK);
	assert_int_equal(cf_blob_write(w, "y", 1, NULL), CF_OK);
	cf_blobstore_close(bs);
	assert_int_equal(cf_blobstore_open(tmpdir, &bs, NULL), CF_OK);
	assert_int_equal(count_tmp(), 1);
	assert_int_equal(cf_blob_commit(w, id2, NULL), CF_OK);
	cf_blobstore_close(bs2);

	memset(&r, 0, sizeof(r));
	r.m = m;
	sweep_init(&sw, &r, 0, 3600);
	sw.try_alone = true;
	assert_int_equal(cf_blob_sweep(bs, &sw, NULL), CF_OK);
	assert_true(sw.alone);
	assert_int_equal(sw.removed, 2);
	assert_false(blob_exists(id));
	assert_false(blob_exists(id2));
	/* Shared again: another store opens without cleaning up for us. */
	assert_int_equal(cf_blob_create(bs, &w, NULL), CF_OK);
	assert_int_equal(cf_blobstore_open(tmpdir, &bs2, NULL), CF_OK);
	assert_int_equal(count_tmp(), 1);
	cf_blob_abort(w);
	cf_blobstore_close(bs2);
	cf_blobstore_close(bs);
	cf_meta_close(m);
}

/* cf_meta_blobs_referenced answers for every row, and on failure keeps
 * everything. */
static void
test_store_meta_blobs_referenced(void **state)
{
	struct cf_meta	*m;
	struct cf_version_rec *v;
	char		 ids[4][CF_BLOB_ID_LEN + 1];
	bool		 ref[4];
	size_t		 i;

	(void)state;
	m = meta_open();
	mk_ns(m, "refs-ns");
	v = put_version(m, "refs-ns", "k", false);
	(void)cf_strlcpy(ids[0], v->blob_id, sizeof(ids[0]));
	v = put_version(m, "refs-ns", "k", false);
	(void)cf_strlcpy(ids[1], v->blob_id, sizeof(ids[1]));
	(void)put_version(m, "refs-ns", "k", true);
	(void)cf_strlcpy(ids[2], "ffffffffffffffffffffffffffffffff",
	    sizeof(ids[2]));
	(void)cf_strlcpy(ids[3], "", sizeof(ids[3]));	/* a marker's */
	memset(ref, 0, sizeof(ref));
	assert_int_equal(cf_meta_blobs_referenced(m,
	    (const char (*)[CF_BLOB_ID_LEN + 1])ids, 4, ref, NULL), CF_OK);
	assert_true(ref[0]);
	assert_true(ref[1]);
	assert_false(ref[2]);
	assert_false(ref[3]);
	/* An id without its NUL: refused, and everything counts as
	 * referenced. */
	memset(ids[3], 'a', sizeof(ids[3]));
	memset(ref, 0, sizeof(ref));
	assert_int_equal(cf_meta_blobs_referenced(m,
	    (const char (*)[CF_BLOB_ID_LEN + 1])ids, 4, ref, NULL),
	    CF_E_INPUT);
	for (i = 0; i < 4; i++)
		assert_true(ref[i]);
	cf_meta_close(m);
}

/* --- custom policy sets --- */

static void
pol_rec(struct cf_policy_rec *p, const char *name, const char *ns)
{
	memset(p, 0, sizeof(*p));
	(void)cf_strlcpy(p->name, name, sizeof(p->name));
	(void)cf_strlcpy(p->ns, ns, sizeof(p->ns));
	(void)cf_strlcpy(p->created_by, "admin", sizeof(p->created_by));
	p->created_us = 42;
}

static cf_err
pol_put(struct cf_meta *m, const char *name, const char *ns,
    const char *text, int64_t expect, struct cf_policy_rec *out)
{
	struct cf_policy_rec	p;

	pol_rec(&p, name, ns);
	return cf_meta_policy_put(m, &au_ok, &p, text, strlen(text), expect,
	    out, NULL);
}

static cf_err
pol_rm(struct cf_meta *m, const char *name, const char *ns, int64_t expect)
{
	struct cf_policy_rec	p;

	pol_rec(&p, name, ns);
	p.deleted = true;
	return cf_meta_policy_put(m, &au_ok, &p, "", 0, expect, NULL, NULL);
}

struct pol_seen {
	char	 what[16][256];
	size_t	 n;
};

static cf_err
pol_seen_cb(void *arg, const struct cf_policy_rec *p, struct cf_error *err)
{
	struct pol_seen	*x = arg;

	(void)err;
	assert_true(x->n < 16);
	(void)snprintf(x->what[x->n++], sizeof(x->what[0]), "%s@%s:%lld%s",
	    p->name, p->ns, (long long)p->version, p->deleted ? "-" : "");
	return CF_OK;
}

static cf_err
pol_text_cb(void *arg, const struct cf_policy_rec *p, const char *text,
    size_t len, struct cf_error *err)
{
	struct pol_seen	*x = arg;

	(void)err;
	assert_true(x->n < 16);
	assert_int_equal(len, strlen(text));
	assert_int_equal(len, p->text_len);
	(void)snprintf(x->what[x->n++], sizeof(x->what[0]), "%s@%s:%lld=%s",
	    p->name, p->ns, (long long)p->version, text);
	return CF_OK;
}

/* Versions append, a tombstone hides a set without losing its history,
 * stale writers conflict, and the current sets come with their text. */
static void
test_store_meta_policies(void **state)
{
	struct cf_meta		*m;
	struct cf_policy_rec	 r, g;
	struct pol_seen		 seen;
	char			*text = NULL;
	char			 hex[CF_SHA256_HEX_LEN + 1];
	uint8_t			 d[CF_SHA256_LEN];

	(void)state;
	m = meta_open();
	mk_ns(m, "ml");
	mk_ns(m, "other");
	assert_int_equal(pol_put(m, "base", "", "permit(principal,action,"
	    "resource);", 0, &r), CF_OK);
	assert_int_equal(r.version, 1);
	cf_sha256("permit(principal,action,resource);", 34, d);
	cf_hex_encode(d, sizeof(d), hex);
	assert_string_equal(r.sha256, hex);
	/* A writer that saw no version, or an old one, conflicts. */
	assert_int_equal(pol_put(m, "base", "", "forbid(principal,action,"
	    "resource);", 0, NULL), CF_E_CONFLICT);
	assert_int_equal(pol_put(m, "base", "", "// v2", 1, &r), CF_OK);
	assert_int_equal(r.version, 2);
	assert_int_equal(pol_put(m, "base", "", "// v3", 1, NULL),
	    CF_E_CONFLICT);
	/* Same name in a namespace: another set. */
	assert_int_equal(pol_put(m, "base", "ml", "// ml", 0, &r), CF_OK);
	assert_int_equal(r.version, 1);
	assert_int_equal(pol_put(m, "base", "nope", "// x", 0, NULL),
	    CF_E_NOTFOUND);

	assert_int_equal(cf_meta_policy_get(m, "base", "", 0, &g, &text,
	    NULL), CF_OK);
	assert_int_equal(g.version, 2);
	assert_string_equal(text, "// v2");
	assert_int_equal(g.text_len, 5);
	cf_free(text);
	text = NULL;
	assert_int_equal(cf_meta_policy_get(m, "base", "", 1, &g, &text,
	    NULL), CF_OK);
	assert_string_equal(text, "permit(principal,action,resource);");
	assert_string_equal(g.sha256, hex);
	assert_string_equal(g.created_by, "admin");
	assert_int_equal(g.created_us, 42);
	cf_free(text);
	text = NULL;
	assert_int_equal(cf_meta_policy_get(m, "base", "", 3, &g, &text,
	    NULL), CF_E_NOTFOUND);
	assert_null(text);

	/* rm: a tombstone version; twice is NOTFOUND; history keeps all. */
	assert_int_equal(pol_rm(m, "base", "", 1), CF_E_CONFLICT);
	assert_int_equal(pol_rm(m, "base", "", 2), CF_OK);
	assert_int_equal(pol_rm(m, "base", "", 3), CF_E_NOTFOUND);
	assert_int_equal(pol_rm(m, "never", "", 0), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_policy_get(m, "base", "", 0, &g, NULL,
	    NULL), CF_OK);
	assert_true(g.deleted);
	assert_int_equal(g.version, 3);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(cf_meta_policy_history(m, "base", "", pol_seen_cb,
	    &seen, NULL), CF_OK);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.what[0], "base@:3-");
	assert_string_equal(seen.what[1], "base@:2");
	assert_string_equal(seen.what[2], "base@:1");
	assert_int_equal(cf_meta_policy_history(m, "none", "", pol_seen_cb,
	    &seen, NULL), CF_E_NOTFOUND);

	/* Set again after rm: numbering goes on. */
	assert_int_equal(pol_put(m, "zeta", "", "// z", 0, NULL), CF_OK);
	assert_int_equal(pol_put(m, "alpha", "other", "// a", 0, NULL),
	    CF_OK);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(cf_meta_policy_list(m, NULL, pol_seen_cb, &seen,
	    NULL), CF_OK);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.what[0], "zeta@:1");
	assert_string_equal(seen.what[1], "base@ml:1");
	assert_string_equal(seen.what[2], "alpha@other:1");
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(cf_meta_policy_list(m, "ml", pol_seen_cb, &seen,
	    NULL), CF_OK);
	assert_int_equal(seen.n, 1);
	assert_int_equal(pol_put(m, "base", "", "// v4", 3, &r), CF_OK);
	assert_int_equal(r.version, 4);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(cf_meta_policy_current(m, pol_text_cb, &seen, NULL),
	    CF_OK);
	assert_int_equal(seen.n, 4);
	assert_string_equal(seen.what[0], "base@:4=// v4");
	assert_string_equal(seen.what[1], "zeta@:1=// z");
	assert_string_equal(seen.what[2], "base@ml:1=// ml");
	assert_string_equal(seen.what[3], "alpha@other:1=// a");

	/* Deleting a namespace takes its sets along; a namespace created
	 * again under the name starts with none. */
	assert_int_equal(cf_meta_ns_delete(m, &au_ok, "ml", NULL, NULL, NULL),
	    CF_OK);
	mk_ns(m, "ml");
	assert_int_equal(cf_meta_policy_get(m, "base", "ml", 0, &g, NULL,
	    NULL), CF_E_NOTFOUND);
	assert_int_equal(pol_put(m, "base", "ml", "// new", 0, &r), CF_OK);
	assert_int_equal(r.version, 1);
	cf_meta_close(m);
}

/* Bounded: the text's size, and the sets in force per scope; a
 * tombstone frees its slot; bad input is refused, never truncated. */
static void
test_store_meta_policy_bounds(void **state)
{
	struct cf_meta		*m;
	struct cf_policy_rec	 p;
	char			*big, name[32];
	int			 i;

	(void)state;
	m = meta_open();
	mk_ns(m, "ml");
	big = malloc(CF_POLICY_TEXT_MAX + 1);
	assert_non_null(big);
	memset(big, ' ', CF_POLICY_TEXT_MAX + 1);
	pol_rec(&p, "big", "");
	assert_int_equal(cf_meta_policy_put(m, &au_ok, &p, big,
	    CF_POLICY_TEXT_MAX + 1, 0, NULL, NULL), CF_E_LIMIT);
	assert_int_equal(cf_meta_policy_put(m, &au_ok, &p, big,
	    CF_POLICY_TEXT_MAX, 0, NULL, NULL), CF_OK);
	free(big);
	assert_int_equal(cf_meta_policy_put(m, &au_ok, &p, "a\0b", 3, 1, NULL,
	    NULL), CF_E_INPUT);
	pol_rec(&p, "", "");
	assert_int_equal(cf_meta_policy_put(m, &au_ok, &p, "x", 1, 0, NULL,
	    NULL), CF_E_INPUT);
	memset(p.name, 'a', sizeof(p.name));
	assert_int_equal(cf_meta_policy_put(m, &au_ok, &p, "x", 1, 0, NULL,
	    NULL), CF_E_INPUT);
	for (i = 0; i < CF_POLICY_NS_SETS_MAX; i++) {
		(void)snprintf(name, sizeof(name), "p%d", i);
		assert_int_equal(pol_put(m, name, "ml", "//", 0, NULL), CF_OK);
	}
	assert_int_equal(pol_put(m, "one-more", "ml", "//", 0, NULL),
	    CF_E_LIMIT);
	/* A new version of a set in force needs no new room. */
	assert_int_equal(pol_put(m, "p0", "ml", "// 2", 1, NULL), CF_OK);
	/* Global sets have room of their own ("big" is one). */
	for (i = 0; i < CF_POLICY_GLOBAL_SETS_MAX - 1; i++) {
		(void)snprintf(name, sizeof(name), "g%d", i);
		assert_int_equal(pol_put(m, name, "", "//", 0, NULL), CF_OK);
	}
	assert_int_equal(pol_put(m, "one-more", "", "//", 0, NULL),
	    CF_E_LIMIT);
	assert_int_equal(pol_rm(m, "g0", "", 1), CF_OK);
	assert_int_equal(pol_put(m, "one-more", "", "//", 0, NULL), CF_OK);
	assert_int_equal(pol_rm(m, "p1", "ml", 1), CF_OK);
	assert_int_equal(pol_put(m, "one-more", "ml", "//", 0, NULL), CF_OK);
	/* The removed one cannot come back while the namespace is full. */
	assert_int_equal(pol_put(m, "p1", "ml", "//", 2, NULL), CF_E_LIMIT);
	/* All namespaces together leave the global room alone. */
	for (i = 0; i < (CF_POLICY_SETS_MAX - CF_POLICY_GLOBAL_SETS_MAX) /
	    CF_POLICY_NS_SETS_MAX; i++) {
		int	j;

		(void)snprintf(name, sizeof(name), "ns-%d", i);
		mk_ns(m, name);
		for (j = 0; j < CF_POLICY_NS_SETS_MAX; j++) {
			char	pn[32];

			(void)snprintf(pn, sizeof(pn), "p%d", j);
			if (pol_put(m, pn, name, "//", 0, NULL) != CF_OK)
				break;
		}
	}
	mk_ns(m, "last");
	assert_int_equal(pol_put(m, "p", "last", "//", 0, NULL), CF_E_LIMIT);
	cf_meta_close(m);
}

/* Schema 5 -> 6: a database of the previous schema gains the table, and
 * everything in it stays. */
static void
test_store_meta_migrate_policies(void **state)
{
	struct cf_meta		*m;
	struct cf_ns_rec	 ns;
	struct cf_policy_rec	 r;
	sqlite3			*db;
	char			 path[300];

	(void)state;
	m = meta_open();
	mk_ns(m, "ml");
	cf_meta_close(m);
	path_in(path, sizeof(path), "meta.db");
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "DROP TABLE mp_completed;"
	    "DROP TABLE segments;"
	    "ALTER TABLE versions DROP COLUMN nsegs;"
	    "ALTER TABLE mp_parts DROP COLUMN sha256;"
	    "DROP TABLE promotion_approvals; DROP TABLE promotions;"
	    "ALTER TABLE versions DROP COLUMN sealed_as;"
	    "DROP TABLE breakglass;"
	    "DROP TABLE artifact_stage_history; DROP TABLE artifact_stages;"
	    "DROP TABLE artifact_lineage; DROP TABLE artifact_files;"
	    "DROP TABLE artifact_versions; DROP TABLE artifacts;"
	    "DROP TABLE policies;"
	    "DROP TRIGGER labels_follow_versions;" DGEN_DROP
	    "DROP TABLE principal_attrs; DROP TABLE labels;"
	    "DROP TABLE shares;"
	    "DROP TABLE s3_keys; ALTER TABLE versions DROP COLUMN md5;"
	    "ALTER TABLE versions DROP COLUMN content_encoding;"
	    "DROP TABLE mp_parts; DROP TABLE mp_uploads;"
	    "ALTER TABLE bindings DROP COLUMN expires_us;"
	    "DROP TABLE review_items; DROP TABLE reviews;"
	    "DROP TABLE erasure_certs; DROP TABLE erasures;"
	    "DROP TABLE holds;"
	    "ALTER TABLE namespaces DROP COLUMN retain_days;"
	    "ALTER TABLE namespaces DROP COLUMN purge_days;"
	    "ALTER TABLE versions DROP COLUMN checksum;"
	    "ALTER TABLE namespaces DROP COLUMN versioning;"
	    "ALTER TABLE versions DROP COLUMN s3_null;"
	    "ALTER TABLE versions DROP COLUMN s3_hidden;"
	    "PRAGMA user_version = 5", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	m = meta_open();
	assert_int_equal(cf_meta_ns_get(m, "ml", &ns, NULL), CF_OK);
	assert_int_equal(pol_put(m, "p", "ml", "// p", 0, &r), CF_OK);
	assert_int_equal(r.version, 1);
	cf_meta_close(m);
}

/* --- user attributes and labels --- */

static json_t *
kv(const char *json)
{
	json_t	*j = json_loads(json, 0, NULL);

	assert_non_null(j);
	return j;
}

static void
assert_json_eq(json_t *got, const char *want)
{
	json_t	*w = kv(want);

	assert_true(json_equal(got, w));
	json_decref(w);
}

static void
test_store_meta_attrs_bounds(void **state)
{
	struct cf_meta		*m;
	struct cf_principal_rec	 a;
	json_t			*ch, *got = NULL;
	char			 name[80], val[300];
	bool			 changed = false;
	int			 i;

	(void)state;
	m = meta_open();
	memset(&a, 0, sizeof(a));
	(void)cf_strlcpy(a.name, "alice", sizeof(a.name));
	(void)cf_strlcpy(a.kind, "user", sizeof(a.kind));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &a, NULL), CF_OK);

	/* Names. */
	assert_true(cf_meta_attr_name_valid("a"));
	assert_true(cf_meta_attr_name_valid("dept.sub_x-1"));
	assert_false(cf_meta_attr_name_valid(""));
	assert_false(cf_meta_attr_name_valid("1a"));
	assert_false(cf_meta_attr_name_valid("Dept"));
	assert_false(cf_meta_attr_name_valid("a b"));
	memset(name, 'a', 63);
	name[63] = '\0';
	assert_true(cf_meta_attr_name_valid(name));
	name[63] = 'a';
	name[64] = '\0';
	assert_false(cf_meta_attr_name_valid(name));
	/* Values. */
	assert_true(cf_meta_attr_value_valid("", 0));
	assert_true(cf_meta_attr_value_valid("r\xc3\xa9sum\xc3\xa9", 8));
	assert_false(cf_meta_attr_value_valid("a\tb", 3));
	assert_false(cf_meta_attr_value_valid("a\0b", 3));
	assert_false(cf_meta_attr_value_valid("\x7f", 1));
	assert_false(cf_meta_attr_value_valid("\xc2\x85", 2));	/* NEL */
	assert_false(cf_meta_attr_value_valid("\xff", 1));
	memset(val, 'v', 256);
	assert_true(cf_meta_attr_value_valid(val, 256));
	assert_false(cf_meta_attr_value_valid(val, 257));

	ch = kv("{\"department\":\"risk\",\"clearance\":\"3\"}");
	assert_int_equal(cf_meta_attrs_set(m, &au_ok, a.id, ch, &changed, NULL),
	    CF_OK);
	json_decref(ch);
	assert_true(changed);
	/* The same again changes nothing. */
	ch = kv("{\"department\":\"risk\",\"gone\":null}");
	assert_int_equal(cf_meta_attrs_set(m, &au_ok, a.id, ch, &changed, NULL),
	    CF_OK);
	json_decref(ch);
	assert_false(changed);
	/* A bad member refuses the whole change. */
	ch = kv("{\"department\":\"ops\",\"Bad\":\"x\"}");
	assert_int_equal(cf_meta_attrs_set(m, &au_ok, a.id, ch, NULL, NULL),
	    CF_E_INPUT);
	json_decref(ch);
	ch = kv("{\"department\":\"ops\",\"n\":3}");
	assert_int_equal(cf_meta_attrs_set(m, &au_ok, a.id, ch, NULL, NULL),
	    CF_E_INPUT);
	json_decref(ch);
	assert_int_equal(cf_meta_attrs_get(m, a.id, &got, NULL), CF_OK);
	assert_json_eq(got, "{\"department\":\"risk\",\"clearance\":\"3\"}");
	json_decref(got);
	got = NULL;

	/* 64 at most: 62 more fit, the 65th is refused with nothing
	 * changed. */
	ch = json_object();
	for (i = 0; i < 62; i++) {
		(void)snprintf(name, sizeof(name), "a%d", i);
		(void)json_object_set_new(ch, name, json_string("v"));
	}
	assert_int_equal(cf_meta_attrs_set(m, &au_ok,
	    a.id, ch, NULL, NULL), CF_OK);
	json_decref(ch);
	ch = kv("{\"department\":\"ops\",\"one-more\":\"x\"}");
	assert_int_equal(cf_meta_attrs_set(m, &au_ok, a.id, ch, NULL, NULL),
	    CF_E_LIMIT);
	json_decref(ch);
	/* Replacing one keeps the count. */
	ch = kv("{\"a0\":null,\"one-more\":\"x\"}");
	assert_int_equal(cf_meta_attrs_set(m, &au_ok,
	    a.id, ch, NULL, NULL), CF_OK);
	json_decref(ch);
	assert_int_equal(cf_meta_attrs_get(m, a.id, &got, NULL), CF_OK);
	assert_int_equal(json_object_size(got), 64);
	assert_string_equal(json_string_value(json_object_get(got,
	    "department")), "risk");
	json_decref(got);
	got = NULL;

	/* Unknown principal. */
	ch = kv("{\"x\":\"y\"}");
	assert_int_equal(cf_meta_attrs_set(m, &au_ok,
	    a.id + 100, ch, NULL, NULL), CF_E_NOTFOUND);
	json_decref(ch);
	assert_int_equal(cf_meta_attrs_get(m, a.id + 100, &got, NULL), CF_OK);
	assert_int_equal(json_object_size(got), 0);
	json_decref(got);
	cf_meta_close(m);
}

/* The decision cache: served from memory while nothing it holds changed;
 * a change through the same store ends it at once, a change through
 * another (another server process) at the next poll. */
static void
test_store_meta_decision_cache(void **state)
{
	struct cf_meta		*m, *other = NULL;
	struct cf_ns_rec	 r;
	char			 p[300];
	unsigned long		 n0;
	bool			 mfa = true;

	(void)state;
	m = meta_open();
	path_in(p, sizeof(p), "meta.db");
	assert_int_equal(cf_meta_open(p, &other, NULL), CF_OK);
	/* A missing namespace is remembered as missing, until created. */
	assert_int_equal(cf_meta_ns_get_cached(m, "ds", &r, NULL),
	    CF_E_NOTFOUND);
	mk_ns(m, "ds");
	assert_int_equal(cf_meta_ns_get_cached(m, "ds", &r, NULL), CF_OK);
	assert_string_equal(r.sensitivity, "internal");
	n0 = cf_meta_test_reads("ns");
	assert_int_equal(cf_meta_ns_get_cached(m, "ds", &r, NULL), CF_OK);
	assert_int_equal(cf_meta_test_reads("ns") - n0, 0);	/* memory */
	/* A change through this store: seen by the next read. */
	assert_int_equal(cf_meta_ns_set_sensitivity(m, &au_ok, "ds",
	    "restricted", NULL), CF_OK);
	assert_int_equal(cf_meta_ns_get_cached(m, "ds", &r, NULL), CF_OK);
	assert_string_equal(r.sensitivity, "restricted");
	assert_int_equal(cf_meta_role_mfa_cached(m, "writer", &mfa, NULL),
	    CF_OK);
	assert_false(mfa);
	assert_int_equal(cf_meta_role_mfa_set(m, &au_ok, "writer", true,
	    NULL), CF_OK);
	assert_int_equal(cf_meta_role_mfa_cached(m, "writer", &mfa, NULL),
	    CF_OK);
	assert_true(mfa);
	/* A change through another store: the poll sees it. */
	assert_int_equal(cf_meta_cache_poll(m, NULL), CF_OK);
	assert_int_equal(cf_meta_ns_get_cached(m, "ds", &r, NULL), CF_OK);
	assert_int_equal(cf_meta_role_mfa_cached(m, "writer", &mfa, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_ns_set_sensitivity(other, &au_ok, "ds",
	    "public", NULL), CF_OK);
	assert_int_equal(cf_meta_role_mfa_set(other, &au_ok, "writer", false,
	    NULL), CF_OK);
	assert_int_equal(cf_meta_ns_get_cached(m, "ds", &r, NULL), CF_OK);
	assert_string_equal(r.sensitivity, "restricted");	/* not yet */
	assert_int_equal(cf_meta_role_mfa_cached(m, "writer", &mfa, NULL),
	    CF_OK);
	assert_true(mfa);					/* not yet */
	assert_int_equal(cf_meta_cache_poll(m, NULL), CF_OK);
	assert_int_equal(cf_meta_ns_get_cached(m, "ds", &r, NULL), CF_OK);
	assert_string_equal(r.sensitivity, "public");
	assert_int_equal(cf_meta_role_mfa_cached(m, "writer", &mfa, NULL),
	    CF_OK);
	assert_false(mfa);
	/* A poll with nothing changed keeps the entries. */
	assert_int_equal(cf_meta_cache_poll(m, NULL), CF_OK);
	n0 = cf_meta_test_reads("ns");
	assert_int_equal(cf_meta_ns_get_cached(m, "ds", &r, NULL), CF_OK);
	assert_int_equal(cf_meta_test_reads("ns") - n0, 0);
	/* Deleted through the other store: gone after the poll. */
	assert_int_equal(cf_meta_ns_delete(other, &au_ok, "ds", NULL, NULL,
	    NULL),
	    CF_OK);
	assert_int_equal(cf_meta_cache_poll(m, NULL), CF_OK);
	assert_int_equal(cf_meta_ns_get_cached(m, "ds", &r, NULL),
	    CF_E_NOTFOUND);
	cf_meta_close(other);
	cf_meta_close(m);
}

static void
test_store_meta_labels_lifecycle(void **state)
{
	struct cf_meta		*m;
	struct cf_ns_rec	 ns, ns2;
	sqlite3			*db;
	json_t			*ch, *got = NULL;
	char			 path[300];

	(void)state;
	m = meta_open();
	mk_ns(m, "ml-dev");
	assert_int_equal(cf_meta_ns_get(m, "ml-dev", &ns, NULL), CF_OK);

	ch = kv("{\"pii\":\"true\"}");
	/* On a namespace, and on a live key only. */
	assert_int_equal(cf_meta_labels_set(m, &au_ok,
	    ns.id, "", ch, NULL, NULL), CF_OK);
	assert_int_equal(cf_meta_labels_set(m, &au_ok,
	    ns.id, "model.bin", ch, NULL, NULL), CF_E_NOTFOUND);
	(void)put_version(m, "ml-dev", "model.bin", false);
	assert_int_equal(cf_meta_labels_set(m, &au_ok,
	    ns.id, "model.bin", ch, NULL, NULL), CF_OK);
	json_decref(ch);
	ch = kv("{\"stage\":\"eval\"}");
	assert_int_equal(cf_meta_labels_set(m, &au_ok,
	    ns.id, "model.bin", ch, NULL, NULL), CF_OK);
	json_decref(ch);
	assert_int_equal(cf_meta_labels_get(m, ns.id, "", &got, NULL), CF_OK);
	assert_json_eq(got, "{\"pii\":\"true\"}");
	json_decref(got);
	/* A new version keeps them; so does a delete marker, on which
	 * nothing new is set but removing works. */
	(void)put_version(m, "ml-dev", "model.bin", false);
	(void)put_version(m, "ml-dev", "model.bin", true);
	assert_int_equal(cf_meta_labels_get(m, ns.id, "model.bin", &got,
	    NULL), CF_OK);
	assert_json_eq(got, "{\"pii\":\"true\",\"stage\":\"eval\"}");
	json_decref(got);
	/* By the namespace's name: the same, in one query. */
	assert_int_equal(cf_meta_labels_get_ns(m, "ml-dev", "model.bin", &got,
	    NULL), CF_OK);
	assert_json_eq(got, "{\"pii\":\"true\",\"stage\":\"eval\"}");
	json_decref(got);
	assert_int_equal(cf_meta_labels_get_ns(m, "no-such-ns", "model.bin",
	    &got, NULL), CF_OK);
	assert_int_equal(json_object_size(got), 0);
	json_decref(got);
	ch = kv("{\"x\":\"y\"}");
	assert_int_equal(cf_meta_labels_set(m, &au_ok,
	    ns.id, "model.bin", ch, NULL, NULL), CF_E_NOTFOUND);
	json_decref(ch);
	ch = kv("{\"stage\":null}");
	assert_int_equal(cf_meta_labels_set(m, &au_ok,
	    ns.id, "model.bin", ch, NULL, NULL), CF_OK);
	json_decref(ch);
	assert_int_equal(cf_meta_labels_get(m, ns.id, "model.bin", &got,
	    NULL), CF_OK);
	assert_json_eq(got, "{\"pii\":\"true\"}");
	json_decref(got);

	/* Every version of the key removed (as a permanent delete will):
	 * its labels go; the namespace's stay. */
	(void)put_version(m, "ml-dev", "other", false);
	ch = kv("{\"keep\":\"1\"}");
	assert_int_equal(cf_meta_labels_set(m, &au_ok, ns.id, "other", ch, NULL,
	    NULL), CF_OK);
	json_decref(ch);
	cf_meta_close(m);
	path_in(path, sizeof(path), "meta.db");
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM versions WHERE"
	    " key = CAST('model.bin' AS BLOB)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	m = meta_open();
	assert_int_equal(cf_meta_labels_get(m, ns.id, "model.bin", &got,
	    NULL), CF_OK);
	assert_int_equal(json_object_size(got), 0);
	json_decref(got);
	assert_int_equal(cf_meta_labels_get(m, ns.id, "other", &got, NULL),
	    CF_OK);
	assert_json_eq(got, "{\"keep\":\"1\"}");
	json_decref(got);
	assert_int_equal(cf_meta_labels_get(m, ns.id, "", &got, NULL), CF_OK);
	assert_json_eq(got, "{\"pii\":\"true\"}");
	json_decref(got);

	/* Deleting the namespace removes all of them; one re-created
	 * under the name starts bare, and the old id takes nothing. */
	(void)put_version(m, "ml-dev", "other", true);
	assert_int_equal(cf_meta_ns_delete(m, &au_ok,
	    "ml-dev", NULL, NULL, NULL), CF_OK);
	mk_ns(m, "ml-dev");
	assert_int_equal(cf_meta_ns_get(m, "ml-dev", &ns2, NULL), CF_OK);
	assert_true(ns2.id != ns.id);
	assert_int_equal(cf_meta_labels_get(m, ns2.id, "", &got, NULL),
	    CF_OK);
	assert_int_equal(json_object_size(got), 0);
	json_decref(got);
	ch = kv("{\"pii\":\"true\"}");
	assert_int_equal(cf_meta_labels_set(m, &au_ok,
	    ns.id, "", ch, NULL, NULL), CF_E_NOTFOUND);
	json_decref(ch);
	cf_meta_close(m);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	{
		sqlite3_stmt *st = NULL;
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM"
		    " labels", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

/* Wrapped keys by KEK: MFA and S3 secrets are counted and listed by
 * kind, and a replace is compare and set (a row changed meanwhile is
 * left alone). */
static void
test_store_meta_wrapped_kinds(void **state)
{
	struct cf_meta			*m;
	struct cf_meta_kek_count	 cn[4];
	struct cf_meta_wrapped		 w[4], nw[4];
	struct cf_s3key_rec		 k;
	size_t				 n = 0, done = 9;
	int64_t				 pid;

	(void)state;
	m = meta_open();
	pid = mk_user(m, "alice");
	mk_mfa(m, pid, 1);
	memset(&k, 0, sizeof(k));
	(void)cf_strlcpy(k.id, "CFAKAAAAAAAAAAAAAAAA", sizeof(k.id));
	k.principal_id = pid;
	(void)cf_strlcpy(k.kek_id, "kek-1", sizeof(k.kek_id));
	memset(k.wrapped, 0x33, sizeof(k.wrapped));
	k.created_us = 1;
	assert_int_equal(cf_meta_s3key_insert(m, &au_ok, &k, NULL), CF_OK);
	assert_int_equal(cf_meta_kek_counts(m, cn, 4, &n, NULL), CF_OK);
	assert_int_equal(n, 1);
	assert_string_equal(cn[0].kek_id, "kek-1");
	assert_int_equal(cn[0].versions, 0);
	assert_int_equal(cn[0].mfa, 1);
	assert_int_equal(cn[0].s3_keys, 1);
	assert_int_equal(cf_meta_wrapped_not_under(m, "kek-2",
	    CF_WRAPPED_S3KEY, 0, w, 4, &n, NULL), CF_OK);
	assert_int_equal(n, 1);
	assert_int_equal(w[0].kind, CF_WRAPPED_S3KEY);
	assert_string_equal(w[0].s3_key_id, k.id);
	assert_int_equal(w[0].principal_id, pid);
	nw[0] = w[0];
	(void)cf_strlcpy(nw[0].kek_id, "kek-2", sizeof(nw[0].kek_id));
	memset(nw[0].wrapped, 0x44, sizeof(nw[0].wrapped));
	assert_int_equal(cf_meta_wrapped_replace(m, &au_ok, w, nw, 1, &done,
	    NULL), CF_OK);
	assert_int_equal(done, 1);
	/* Again from the stale read: nothing changes. */
	assert_int_equal(cf_meta_wrapped_replace(m, &au_ok, w, nw, 1, &done,
	    NULL), CF_OK);
	assert_int_equal(done, 0);
	assert_int_equal(cf_meta_wrapped_not_under(m, "kek-2",
	    CF_WRAPPED_S3KEY, 0, w, 4, &n, NULL), CF_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cf_meta_s3key_get(m, k.id, &k, NULL), CF_OK);
	assert_string_equal(k.kek_id, "kek-2");
	assert_int_equal(k.wrapped[0], 0x44);
	assert_int_equal(cf_meta_wrapped_not_under(m, "kek-2",
	    CF_WRAPPED_MFA, 0, w, 4, &n, NULL), CF_OK);
	assert_int_equal(n, 1);
	assert_int_equal(w[0].principal_id, pid);
	/* Kinds do not mix in one batch. */
	nw[0] = w[0];
	nw[0].kind = CF_WRAPPED_S3KEY;
	assert_int_equal(cf_meta_wrapped_replace(m, &au_ok, w, nw, 1, &done,
	    NULL), CF_E_INVAL);
	cf_meta_close(m);
}

/* An artifact version of ns/name whose one file "w" is object version
 * fv (of key name/w); sensitivity sens.  Returns its number. */
static int64_t
art_push1(struct cf_meta *m, const char *ns, const char *name,
    const struct cf_version_rec *fv, const char *sens, unsigned int n)
{
	struct cf_art_rec	v;
	struct cf_art_file	f;
	struct cf_ns_rec	nsr;

	assert_int_equal(cf_meta_ns_get(m, ns, &nsr, NULL), CF_OK);
	memset(&v, 0, sizeof(v));
	v.ns_id = nsr.id;
	(void)cf_strlcpy(v.ns, ns, sizeof(v.ns));
	(void)cf_strlcpy(v.name, name, sizeof(v.name));
	(void)snprintf(v.version_id, sizeof(v.version_id), "%032x",
	    0x70000000u + n);
	(void)cf_strlcpy(v.kind, "model", sizeof(v.kind));
	memset(v.digest, 'd', CF_SHA256_HEX_LEN);
	v.size = fv->size;
	v.files = 1;
	(void)cf_strlcpy(v.meta, "{}", sizeof(v.meta));
	(void)cf_strlcpy(v.sensitivity, sens, sizeof(v.sensitivity));
	(void)cf_strlcpy(v.created_by, "alice", sizeof(v.created_by));
	v.created_us = 5000 + n;
	f.path = "w";
	f.version_id = fv->version_id;
	f.sha256 = fv->sha256;
	f.size = fv->size;
	assert_int_equal(cf_meta_art_push(m, &au_ok, &v, &f, 1, NULL, 0,
	    NULL), CF_OK);
	return v.number;
}

/* What a read of an artifact's file is decided on: the artifact
 * versions naming that object version, folded (newest record, highest
 * sensitivity, every stage); and the stage limit per artifact. */
static void
test_store_meta_art_of_version(void **state)
{
	struct cf_meta		*m;
	struct cf_version_rec	 f1, f2, plain;
	struct cf_art_rec	 a;
	struct cf_art_sel	 sel;
	struct cf_error		 e = { 0 };
	char			 st[CF_ART_STAGES_TEXT], name[CF_STAGE_MAX];
	int64_t			 n1, n2, n3;
	int			 i;

	(void)state;
	m = meta_open();
	mk_ns(m, "ml");
	f1 = *put_version(m, "ml", "net/w", false);
	f2 = *put_version(m, "ml", "net/w", false);
	plain = *put_version(m, "ml", "loose.bin", false);
	n1 = art_push1(m, "ml", "net", &f1, "internal", 1);
	/* v2 reuses v1's file; v3 has a new one. */
	n2 = art_push1(m, "ml", "net", &f1, "restricted", 2);
	n3 = art_push1(m, "ml", "net", &f2, "public", 3);
	assert_int_equal(n1, 1);
	assert_int_equal(n3, 3);
	memset(&sel, 0, sizeof(sel));
	sel.number = n2;
	assert_int_equal(cf_meta_art_get(m, "ml", "net", &sel, &a, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_art_stage_set(m, &au_ok, a.artifact_id,
	    "staging", n1, "alice", 1, NULL), CF_OK);
	assert_int_equal(cf_meta_art_stage_set(m, &au_ok, a.artifact_id,
	    "production", n2, "alice", 2, NULL), CF_OK);
	assert_int_equal(cf_meta_art_stage_set(m, &au_ok, a.artifact_id,
	    "canary", n3, "alice", 3, NULL), CF_OK);
	assert_int_equal(cf_meta_art_of_version(m, f1.version_id, &a, st,
	    &e), CF_OK);
	assert_int_equal(a.number, n2);
	assert_string_equal(a.sensitivity, "restricted");
	assert_string_equal(st, "production staging");
	assert_int_equal(cf_meta_art_of_version(m, f2.version_id, &a, st,
	    &e), CF_OK);
	assert_int_equal(a.number, n3);
	assert_string_equal(a.sensitivity, "public");
	assert_string_equal(st, "canary");
	assert_int_equal(cf_meta_art_of_version(m, plain.version_id, &a, st,
	    NULL), CF_E_NOTFOUND);
	assert_string_equal(st, "");
	assert_int_equal(cf_meta_art_version_stages(m, a.artifact_id, n2, st,
	    NULL), CF_OK);
	assert_string_equal(st, "production");
	assert_int_equal(cf_meta_art_version_stages(m, a.artifact_id, n3 + 9,
	    st, NULL), CF_OK);
	assert_string_equal(st, "");
	/* At most CF_ART_STAGES_MAX stages; moving one is no new one. */
	for (i = 3; i < CF_ART_STAGES_MAX; i++) {
		(void)snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(cf_meta_art_stage_set(m, &au_ok,
		    a.artifact_id, name, n1, "alice", 4, NULL), CF_OK);
	}
	assert_int_equal(cf_meta_art_stage_set(m, &au_ok, a.artifact_id,
	    "one-more", n1, "alice", 5, &e), CF_E_LIMIT);
	assert_int_equal(cf_meta_art_stage_set(m, &au_ok, a.artifact_id,
	    "canary", n1, "alice", 6, NULL), CF_OK);
	assert_int_equal(cf_meta_art_version_stages(m, a.artifact_id, n3, st,
	    NULL), CF_OK);
	assert_string_equal(st, "");
	assert_int_equal(cf_meta_art_of_version(m, f1.version_id, &a, st,
	    NULL), CF_OK);
	assert_int_equal((int)strlen(st) > 0, 1);
	cf_meta_close(m);
}

/* Share links: found by their token's hash only; a one-use link counts
 * its download once (the second is refused), and no download counts on
 * a revoked or expired link. */
static void
test_store_meta_share_links(void **state)
{
	struct cf_meta		*m;
	struct cf_principal_rec	 p;
	struct cf_share_rec	 s, got;
	uint8_t			 other[32];

	(void)state;
	m = meta_open();
	memset(&p, 0, sizeof(p));
	(void)cf_strlcpy(p.name, "ann", sizeof(p.name));
	(void)cf_strlcpy(p.kind, "user", sizeof(p.kind));
	assert_int_equal(cf_meta_principal_create(m, &au_ok, &p, NULL), CF_OK);
	memset(&s, 0, sizeof(s));
	(void)cf_strlcpy(s.id, "00112233445566aa", sizeof(s.id));
	memset(s.hash, 0x5a, sizeof(s.hash));
	(void)cf_strlcpy(s.ns, "ml", sizeof(s.ns));
	(void)cf_strlcpy(s.key, "a/b.bin", sizeof(s.key));
	(void)cf_strlcpy(s.version_id, "0123456789abcdef0123456789abcdef",
	    sizeof(s.version_id));
	(void)cf_strlcpy(s.sensitivity, "internal", sizeof(s.sensitivity));
	s.creator_id = p.id;
	s.created_us = 1000;
	s.expires_us = 5000;
	s.max_downloads = 1;
	assert_int_equal(cf_meta_share_insert(m, NULL, &s, NULL),
	    CF_E_INTERNAL);
	assert_int_equal(cf_meta_share_insert(m, &au_ok, &s, NULL), CF_OK);
	assert_int_equal(cf_meta_share_insert(m, &au_ok, &s, NULL),
	    CF_E_CONFLICT);
	memset(other, 0x5b, sizeof(other));
	assert_int_equal(cf_meta_share_find(m, other, &got, NULL),
	    CF_E_NOTFOUND);
	assert_int_equal(cf_meta_share_find(m, s.hash, &got, NULL), CF_OK);
	assert_string_equal(got.id, s.id);
	assert_string_equal(got.creator, "ann");
	assert_int_equal(got.downloads, 0);
	/* Expired at 5000: no download counts. */
	assert_int_equal(cf_meta_share_use(m, &au_ok, s.id, 5000, NULL),
	    CF_E_LIMIT);
	assert_int_equal(cf_meta_share_use(m, &au_ok, s.id, 4000, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_share_use(m, &au_ok, s.id, 4000, NULL),
	    CF_E_LIMIT);
	assert_int_equal(cf_meta_share_get(m, s.id, &got, NULL), CF_OK);
	assert_int_equal(got.downloads, 1);
	/* Revoked: kept with its time, and no download counts. */
	(void)cf_strlcpy(s.id, "00112233445566bb", sizeof(s.id));
	memset(s.hash, 0x6a, sizeof(s.hash));
	s.max_downloads = 0;
	assert_int_equal(cf_meta_share_insert(m, &au_ok, &s, NULL), CF_OK);
	assert_int_equal(cf_meta_share_revoke(m, &au_ok, s.id, 2000, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_share_revoke(m, &au_ok, s.id, 3000, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_share_get(m, s.id, &got, NULL), CF_OK);
	assert_int_equal(got.revoked_us, 2000);
	assert_int_equal(cf_meta_share_use(m, &au_ok, s.id, 2500, NULL),
	    CF_E_LIMIT);
	assert_int_equal(cf_meta_share_revoke(m, &au_ok, "nope", 3000, NULL),
	    CF_E_NOTFOUND);
	cf_meta_close(m);
}

/* --- promotions and copies (cf_meta_promotion_*, cf_meta_art_copy) --- */

/* What completing src_ns/name@number into dst writes: one object
 * version sharing fv's blob (a new id, sealed_as fv's), one artifact
 * version naming it. */
struct promo_payload {
	struct cf_version_rec	obj;
	struct cf_art_rec	art;
	struct cf_art_file	file;
	struct cf_promotion_new	nv;
};

static int	hook_calls;

static void
count_hook(void *arg)
{
	(void)arg;
	hook_calls++;
}

static void
promo_payload(struct cf_meta *m, struct promo_payload *pp,
    const struct cf_version_rec *fv, const char *dst, unsigned int n)
{
	struct cf_ns_rec	dnr;

	assert_int_equal(cf_meta_ns_get(m, dst, &dnr, NULL), CF_OK);
	memset(pp, 0, sizeof(*pp));
	pp->obj = *fv;
	(void)snprintf(pp->obj.version_id, sizeof(pp->obj.version_id),
	    "%032x", 0x71000000u + n);
	(void)cf_strlcpy(pp->obj.sealed_as, fv->version_id,
	    sizeof(pp->obj.sealed_as));
	(void)cf_strlcpy(pp->obj.ns, dst, sizeof(pp->obj.ns));
	pp->obj.ns_id = dnr.id;
	pp->obj.seq = 0;
	pp->art.ns_id = dnr.id;
	(void)cf_strlcpy(pp->art.ns, dst, sizeof(pp->art.ns));
	(void)cf_strlcpy(pp->art.name, "net", sizeof(pp->art.name));
	(void)snprintf(pp->art.version_id, sizeof(pp->art.version_id),
	    "%032x", 0x72000000u + n);
	(void)cf_strlcpy(pp->art.kind, "model", sizeof(pp->art.kind));
	memset(pp->art.digest, 'd', CF_SHA256_HEX_LEN);
	pp->art.size = fv->size;
	pp->art.files = 1;
	(void)cf_strlcpy(pp->art.meta, "{}", sizeof(pp->art.meta));
	(void)cf_strlcpy(pp->art.sensitivity, "internal",
	    sizeof(pp->art.sensitivity));
	(void)cf_strlcpy(pp->art.created_by, "alice",
	    sizeof(pp->art.created_by));
	pp->art.created_us = 9000 + n;
	pp->file.path = "w";
	pp->file.version_id = pp->obj.version_id;
	pp->file.sha256 = pp->obj.sha256;
	pp->file.size = pp->obj.size;
	pp->nv.objs = &pp->obj;
	pp->nv.nobjs = 1;
	pp->nv.art = &pp->art;
	pp->nv.files = &pp->file;
	pp->nv.nfiles = 1;
	pp->nv.hook = count_hook;
}

static void
promo_rec(struct cf_promotion_rec *p, const char *id, int64_t aid,
    int64_t number, const char *dst, int64_t required)
{
	memset(p, 0, sizeof(*p));
	(void)cf_strlcpy(p->id, id, sizeof(p->id));
	(void)cf_strlcpy(p->src_ns, "ml", sizeof(p->src_ns));
	(void)cf_strlcpy(p->src_name, "net", sizeof(p->src_name));
	p->src_artifact_id = aid;
	p->src_number = number;
	(void)cf_strlcpy(p->dst_ns, dst, sizeof(p->dst_ns));
	(void)cf_strlcpy(p->requester, "alice", sizeof(p->requester));
	(void)cf_strlcpy(p->reason, "CHG-1", sizeof(p->reason));
	(void)cf_strlcpy(p->state, "open", sizeof(p->state));
	p->required = required;
	p->created_us = 1000;
	p->expires_us = 100000;
}

static cf_err
count_art(void *arg, const struct cf_promotion_rec *p, struct cf_error *err)
{
	(void)p;
	(void)err;
	(*(int *)arg)++;
	return CF_OK;
}

static cf_err
link_cb(void *arg, const struct cf_art_rec *v, struct cf_error *err)
{
	(void)err;
	*(struct cf_art_rec *)arg = *v;
	return CF_OK;
}

/* Requests: insert, get, list, approvals by distinct principals, the
 * completion exactly once with its payload, rejection, expiry, a source
 * gone (nothing written, not even the approval); and a copy. */
static void
test_store_meta_promotions(void **state)
{
	struct cf_meta		*m;
	struct cf_version_rec	 f1, got;
	struct cf_promotion_rec	 p, q;
	struct promo_payload	 pp;
	struct cf_art_rec	 a, src;
	struct cf_art_sel	 sel;
	struct cf_art_rec	 lk;
	bool			 done = true;
	size_t			 gone = 0;
	int			 n = 0;
	int64_t			 n1;

	(void)state;
	m = meta_open();
	mk_ns(m, "ml");
	mk_ns(m, "prod");
	f1 = *put_version(m, "ml", "net/w", false);
	n1 = art_push1(m, "ml", "net", &f1, "internal", 1);
	memset(&sel, 0, sizeof(sel));
	assert_int_equal(cf_meta_art_get(m, "ml", "net", &sel, &src, NULL),
	    CF_OK);

	/* Insert: an unknown target is NOTFOUND; a good one is open. */
	promo_rec(&p, "00000000000000a1", src.artifact_id, n1, "nosuch", 2);
	assert_int_equal(cf_meta_promotion_insert(m, &au_ok, &p, NULL, NULL),
	    CF_E_NOTFOUND);
	promo_rec(&p, "00000000000000a1", src.artifact_id, n1, "prod", 2);
	assert_int_equal(cf_meta_promotion_insert(m, &au_ok, &p, NULL, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_promotion_insert(m, &au_ok, &p, NULL, NULL),
	    CF_E_CONFLICT);
	assert_int_equal(cf_meta_promotion_get(m, p.id, &q, NULL), CF_OK);
	assert_string_equal(q.state, "open");
	assert_string_equal(q.dst_ns, "prod");
	assert_string_equal(q.reason, "CHG-1");
	assert_int_equal(q.required, 2);
	assert_int_equal(q.napprovals, 0);
	assert_int_equal(q.dst_number, 0);
	assert_int_equal(cf_meta_promotion_get(m, "00000000000000ff", &q,
	    NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_promotion_list(m, 10, count_art, &n, NULL),
	    CF_OK);
	assert_int_equal(n, 1);

	/* First approval: counted, not done; the same principal again:
	 * CONFLICT, not counted. */
	promo_payload(m, &pp, &f1, "prod", 1);
	hook_calls = 0;
	assert_int_equal(cf_meta_promotion_approve(m, &au_ok, p.id, "bob",
	    2000, &pp.nv, &done, NULL), CF_OK);
	assert_false(done);
	assert_int_equal(hook_calls, 0);
	assert_int_equal(cf_meta_promotion_approve(m, &au_ok, p.id, "bob",
	    2001, &pp.nv, &done, NULL), CF_E_CONFLICT);
	assert_false(done);
	assert_int_equal(cf_meta_promotion_get(m, p.id, &q, NULL), CF_OK);
	assert_int_equal(q.napprovals, 1);
	assert_string_equal(q.approvers[0], "bob");
	assert_int_equal(cf_meta_art_get(m, "prod", "net", &sel, &a, NULL),
	    CF_E_NOTFOUND);

	/* Second: completes with the payload, in the same transaction. */
	assert_int_equal(cf_meta_promotion_approve(m, &au_ok, p.id, "carol",
	    3000, &pp.nv, &done, NULL), CF_OK);
	assert_true(done);
	assert_int_equal(hook_calls, 1);
	assert_int_equal(cf_meta_promotion_get(m, p.id, &q, NULL), CF_OK);
	assert_string_equal(q.state, "completed");
	assert_string_equal(q.closed_by, "carol");
	assert_int_equal(q.closed_us, 3000);
	assert_int_equal(q.dst_number, 1);
	assert_int_equal(q.napprovals, 2);
	assert_int_equal(cf_meta_art_get(m, "prod", "net", &sel, &a, NULL),
	    CF_OK);
	assert_int_equal(a.number, 1);
	assert_string_equal(a.digest, src.digest);
	assert_int_equal(cf_meta_version_get(m, "prod", "net/w",
	    pp.obj.version_id, &got, NULL), CF_OK);
	assert_string_equal(got.blob_id, f1.blob_id);
	assert_string_equal(got.sealed_as, f1.version_id);
	memset(&lk, 0, sizeof(lk));
	assert_int_equal(cf_meta_art_links(m, a.artifact_id, a.number, true,
	    link_cb, &lk, &gone, NULL), CF_OK);
	assert_int_equal(lk.artifact_id, src.artifact_id);
	assert_int_equal(lk.number, n1);
	/* Closed: no more approvals, no rejection. */
	assert_int_equal(cf_meta_promotion_approve(m, &au_ok, p.id, "dave",
	    4000, &pp.nv, &done, NULL), CF_E_CONFLICT);
	assert_int_equal(cf_meta_promotion_close(m, &au_ok, p.id, "rejected",
	    "dave", 4000, NULL), CF_E_CONFLICT);

	/* Rejection. */
	promo_rec(&p, "00000000000000a2", src.artifact_id, n1, "prod", 1);
	assert_int_equal(cf_meta_promotion_insert(m, &au_ok, &p, NULL, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_promotion_close(m, &au_ok, p.id, "rejected",
	    "dave", 5000, NULL), CF_OK);
	assert_int_equal(cf_meta_promotion_close(m, &au_ok, p.id, "rejected",
	    "dave", 5001, NULL), CF_E_CONFLICT);
	assert_int_equal(cf_meta_promotion_close(m, &au_ok, "00000000000000fe",
	    "rejected", "dave", 5001, NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_promotion_get(m, p.id, &q, NULL), CF_OK);
	assert_string_equal(q.state, "rejected");
	assert_string_equal(q.closed_by, "dave");

	/* Expiry: decided against at_us inside the transaction. */
	promo_rec(&p, "00000000000000a3", src.artifact_id, n1, "prod", 1);
	assert_int_equal(cf_meta_promotion_insert(m, &au_ok, &p, NULL, NULL),
	    CF_OK);
	promo_payload(m, &pp, &f1, "prod", 3);
	assert_int_equal(cf_meta_promotion_approve(m, &au_ok, p.id, "bob",
	    p.expires_us, &pp.nv, &done, NULL), CF_E_CONFLICT);
	assert_false(done);
	assert_int_equal(cf_meta_promotion_get(m, p.id, &q, NULL), CF_OK);
	assert_int_equal(q.napprovals, 0);

	/* A source gone: NOTFOUND and nothing written, the approval
	 * included. */
	promo_rec(&p, "00000000000000a4", src.artifact_id, 99, "prod", 1);
	assert_int_equal(cf_meta_promotion_insert(m, &au_ok, &p, NULL, NULL),
	    CF_OK);
	promo_payload(m, &pp, &f1, "prod", 4);
	assert_int_equal(cf_meta_promotion_approve(m, &au_ok, p.id, "bob",
	    2000, &pp.nv, &done, NULL), CF_E_NOTFOUND);
	assert_false(done);
	assert_int_equal(cf_meta_promotion_get(m, p.id, &q, NULL), CF_OK);
	assert_string_equal(q.state, "open");
	assert_int_equal(q.napprovals, 0);
	assert_int_equal(cf_meta_version_get(m, "prod", "net/w",
	    pp.obj.version_id, &got, NULL), CF_E_NOTFOUND);

	/* Insert with a payload (no approval needed): completed at once. */
	promo_rec(&p, "00000000000000a5", src.artifact_id, n1, "prod", 0);
	promo_payload(m, &pp, &f1, "prod", 5);
	assert_int_equal(cf_meta_promotion_insert(m, &au_ok, &p, &pp.nv,
	    NULL), CF_OK);
	assert_int_equal(cf_meta_promotion_get(m, p.id, &q, NULL), CF_OK);
	assert_string_equal(q.state, "completed");
	assert_int_equal(q.dst_number, 2);

	/* A copy: the same payload, no request. */
	promo_payload(m, &pp, &f1, "prod", 6);
	hook_calls = 0;
	assert_int_equal(cf_meta_art_copy(m, &au_ok, &pp.nv, src.artifact_id,
	    n1, NULL), CF_OK);
	assert_int_equal(hook_calls, 1);
	assert_int_equal(pp.art.number, 3);
	promo_payload(m, &pp, &f1, "prod", 7);
	assert_int_equal(cf_meta_art_copy(m, &au_ok, &pp.nv, src.artifact_id,
	    99, NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_version_get(m, "prod", "net/w",
	    pp.obj.version_id, &got, NULL), CF_E_NOTFOUND);
	/* A target namespace replaced (another id): CONFLICT. */
	promo_payload(m, &pp, &f1, "prod", 8);
	pp.art.ns_id += 1000;
	pp.obj.ns_id = 0;
	assert_int_equal(cf_meta_art_copy(m, &au_ok, &pp.nv, src.artifact_id,
	    n1, NULL), CF_E_CONFLICT);
	cf_meta_close(m);
}

/* The purge rule: non-current, older than purge_days and retain_days,
 * under no hold, not a protected artifact file; checked again when one
 * is purged. */
static size_t
purge_ids(struct cf_meta *m, int64_t now, char ids[8][CF_VERSION_ID_LEN + 1])
{
	struct cf_purge_item	it[8];
	size_t			n = 99, i;

	assert_int_equal(cf_meta_purge_candidates(m, now, 0, it, 8, &n, NULL),
	    CF_OK);
	for (i = 0; i < n; i++)
		(void)cf_strlcpy(ids[i], it[i].version_id, sizeof(ids[i]));
	return n;
}

static void
test_store_meta_purge_rule(void **state)
{
	struct cf_meta		*m;
	struct cf_version_rec	 v1, v2, v3, o1, a1, a2;
	struct cf_purge_item	 it[8];
	struct cf_erasure_rec	 e, got;
	struct cf_hold_rec	 h;
	struct cf_ns_rec	 nsr;
	char			 ids[8][CF_VERSION_ID_LEN + 1];
	int64_t			 day = 86400LL * 1000000, n1;
	size_t			 n;

	(void)state;
	m = meta_open();
	mk_ns(m, "pg");
	mk_ns(m, "other");
	v1 = *put_version(m, "pg", "k", false);
	v2 = *put_version(m, "pg", "k", false);
	v3 = *put_version(m, "pg", "k", false);
	o1 = *put_version(m, "other", "k", false);
	(void)put_version(m, "other", "k", false);
	/* No purge period: nothing. */
	assert_int_equal(purge_ids(m, 10 * day, ids), 0);
	assert_int_equal(cf_meta_ns_set_purge(m, &au_ok, "pg", 1, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_ns_set_purge(m, &au_ok, "nope", 1, NULL),
	    CF_E_NOTFOUND);
	assert_int_equal(cf_meta_ns_get(m, "pg", &nsr, NULL), CF_OK);
	assert_int_equal(nsr.purge_days, 1);
	/* Too young, then the two non-current ones (never the current). */
	assert_int_equal(purge_ids(m, day / 2, ids), 0);
	assert_int_equal(purge_ids(m, 2 * day, ids), 2);
	assert_string_equal(ids[0], v1.version_id);
	assert_string_equal(ids[1], v2.version_id);
	/* Retention wins. */
	assert_int_equal(cf_meta_ns_set_retention(m, &au_ok, "pg", 3, NULL),
	    CF_OK);
	assert_int_equal(purge_ids(m, 2 * day, ids), 0);
	assert_int_equal(purge_ids(m, 4 * day, ids), 2);
	/* A hold on the key (and one on a mere prefix text: no effect). */
	memset(&h, 0, sizeof(h));
	(void)cf_strlcpy(h.id, "hold-00000000000001", sizeof(h.id));
	(void)cf_strlcpy(h.ns, "pg", sizeof(h.ns));
	(void)cf_strlcpy(h.key, "k", sizeof(h.key));
	(void)cf_strlcpy(h.reason, "case", sizeof(h.reason));
	(void)cf_strlcpy(h.created_by, "admin", sizeof(h.created_by));
	assert_int_equal(cf_meta_hold_insert(m, &au_ok, &h, NULL), CF_OK);
	assert_int_equal(purge_ids(m, 4 * day, ids), 0);
	/* Candidates read before a hold: the apply refuses them. */
	assert_int_equal(cf_meta_hold_delete(m, &au_ok, h.id, NULL, NULL),
	    CF_OK);
	assert_int_equal(cf_meta_purge_candidates(m, 4 * day, 0, it, 8, &n,
	    NULL), CF_OK);
	assert_int_equal(n, 2);
	assert_int_equal(cf_meta_hold_insert(m, &au_ok, &h, NULL), CF_OK);
	memset(&e, 0, sizeof(e));
	(void)cf_strlcpy(e.id, "purge-00000000000001", sizeof(e.id));
	(void)cf_strlcpy(e.by, "system", sizeof(e.by));
	e.at_us = 4 * day;
	(void)cf_strlcpy(e.reason, "purge", sizeof(e.reason));
	(void)cf_strlcpy(e.request_id, "req-1", sizeof(e.request_id));
	assert_int_equal(cf_meta_purge_apply(m, &au_ok, &e, 4 * day, &it[0],
	    NULL), CF_E_CONFLICT);
	assert_int_equal(cf_meta_erasure_get(m, v1.version_id, &got, NULL),
	    CF_E_NOTFOUND);
	assert_int_equal(cf_meta_hold_delete(m, &au_ok, h.id, NULL, NULL),
	    CF_OK);
	/* Purged: a tombstone, and never a candidate again. */
	assert_int_equal(cf_meta_purge_apply(m, &au_ok, &e, 4 * day, &it[0],
	    NULL), CF_OK);
	assert_int_equal(cf_meta_erasure_get(m, v1.version_id, &got, NULL),
	    CF_OK);
	assert_string_equal(got.id, e.id);
	assert_int_equal(purge_ids(m, 4 * day, ids), 1);
	assert_string_equal(ids[0], v2.version_id);
	assert_int_equal(cf_meta_purge_apply(m, &au_ok, &e, 4 * day, &it[0],
	    NULL), CF_E_CONFLICT);
	/* Artifact files: the latest version's and a staged one's are
	 * kept, an older unstaged one's goes. */
	a1 = *put_version(m, "pg", "m/w", false);
	n1 = art_push1(m, "pg", "m", &a1, "internal", 1);
	a2 = *put_version(m, "pg", "m/w", false);
	(void)art_push1(m, "pg", "m", &a2, "internal", 2);
	(void)put_version(m, "pg", "m/w", false);
	n = purge_ids(m, 400 * day, ids);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], v2.version_id);
	assert_string_equal(ids[1], a1.version_id);
	assert_int_equal(cf_meta_art_stage_set(m, &au_ok, 1, "prod", n1,
	    "alice", 7000, NULL), CF_OK);
	assert_int_equal(purge_ids(m, 400 * day, ids), 1);
	(void)v3;
	(void)o1;
	cf_meta_close(m);
}

static cf_err
pii_collect(void *arg, const struct cf_pii_row *row, struct cf_error *err)
{
	char	*out = arg;
	char	 line[256];

	(void)err;
	(void)snprintf(line, sizeof(line), "%s %s/%s@%lld%s %s %s;",
	    row->kind, row->ns, row->name, (long long)row->number,
	    row->inherited ? "+" : "", row->sources != NULL ? row->sources :
	    "-", row->derived != NULL ? row->derived : "-");
	(void)cf_strlcat(out, line, 4096);
	return CF_OK;
}

/* The privacy report's rows: labels on a namespace and a key, artifact
 * versions pii=true by metadata or inherited, with direct lineage. */
static void
test_store_meta_pii_rows(void **state)
{
	struct cf_meta		*m;
	struct cf_version_rec	 f;
	struct cf_art_rec	 v;
	struct cf_art_file	 af;
	struct cf_ns_rec	 a, b;
	json_t			*ch;
	char			 out[4096];
	int64_t			 src[1][2];
	bool			 trunc = true, changed;

	(void)state;
	m = meta_open();
	mk_ns(m, "pa");
	mk_ns(m, "pb");
	assert_int_equal(cf_meta_ns_get(m, "pa", &a, NULL), CF_OK);
	assert_int_equal(cf_meta_ns_get(m, "pb", &b, NULL), CF_OK);
	(void)put_version(m, "pa", "crm.csv", false);
	ch = json_pack("{s:s}", "pii", "true");
	assert_int_equal(cf_meta_labels_set(m, &au_ok, a.id, "crm.csv", ch,
	    &changed, NULL), CF_OK);
	assert_int_equal(cf_meta_labels_set(m, &au_ok, b.id, "", ch, &changed,
	    NULL), CF_OK);
	json_decref(ch);
	/* pa/data@1 pii=true; pb/model@1 derived from it (inherited). */
	f = *put_version(m, "pa", "data/x", false);
	memset(&v, 0, sizeof(v));
	v.ns_id = a.id;
	(void)cf_strlcpy(v.ns, "pa", sizeof(v.ns));
	(void)cf_strlcpy(v.name, "data", sizeof(v.name));
	(void)cf_strlcpy(v.version_id, "71000000000000000000000000000001",
	    sizeof(v.version_id));
	(void)cf_strlcpy(v.kind, "dataset", sizeof(v.kind));
	memset(v.digest, 'd', CF_SHA256_HEX_LEN);
	v.size = f.size;
	v.files = 1;
	(void)cf_strlcpy(v.meta, "{\"pii\":\"true\"}", sizeof(v.meta));
	(void)cf_strlcpy(v.sensitivity, "internal", sizeof(v.sensitivity));
	(void)cf_strlcpy(v.created_by, "alice", sizeof(v.created_by));
	af.path = "x";
	af.version_id = f.version_id;
	af.sha256 = f.sha256;
	af.size = f.size;
	assert_int_equal(cf_meta_art_push(m, &au_ok, &v, &af, 1, NULL, 0,
	    NULL), CF_OK);
	src[0][0] = v.artifact_id;
	src[0][1] = v.number;
	f = *put_version(m, "pb", "model/w", false);
	v.ns_id = b.id;
	(void)cf_strlcpy(v.ns, "pb", sizeof(v.ns));
	(void)cf_strlcpy(v.name, "model", sizeof(v.name));
	(void)cf_strlcpy(v.version_id, "71000000000000000000000000000002",
	    sizeof(v.version_id));
	af.path = "w";
	af.version_id = f.version_id;
	af.sha256 = f.sha256;
	af.size = f.size;
	assert_int_equal(cf_meta_art_push(m, &au_ok, &v, &af, 1,
	    (const int64_t (*)[2])src, 1, NULL), CF_OK);
	out[0] = '\0';
	assert_int_equal(cf_meta_pii_rows(m, NULL, 10, pii_collect, out,
	    &trunc, NULL), CF_OK);
	assert_false(trunc);
	assert_string_equal(out,
	    "artifact pa/data@1 [] [{\"ns\":\"pb\",\"name\":\"model\","
	    "\"number\":1}];"
	    "object pa/crm.csv@0 - -;"
	    "artifact pb/model@1+ [{\"ns\":\"pa\",\"name\":\"data\","
	    "\"number\":1}] [];"
	    "namespace pb/@0 - -;");
	/* One namespace; a cap marks the cut. */
	out[0] = '\0';
	assert_int_equal(cf_meta_pii_rows(m, "pb", 1, pii_collect, out,
	    &trunc, NULL), CF_OK);
	assert_true(trunc);
	assert_string_equal(out, "artifact pb/model@1+ [{\"ns\":\"pa\","
	    "\"name\":\"data\",\"number\":1}] [];");
	cf_meta_close(m);
}

/* --- S3 versioning: the view over an immutable history --- */

/* An audit log that refuses: nothing may change. */
static cf_err
record_refuse(void *arg, struct cf_error *err)
{
	(void)arg;
	return cf_error_set(err, CF_E_IO, "audit log refuses");
}

static const struct cf_meta_audit	au_off = { record_refuse, NULL };

struct s3scan {
	char	ids[8][CF_VERSION_ID_LEN + 1];
	int	null[8];
	bool	latest[8];
	size_t	n;
};

static cf_err
s3scan_cb(void *arg, const struct cf_version_rec *v, bool latest,
    struct cf_error *err)
{
	struct s3scan	*x = arg;

	(void)err;
	assert_true(x->n < 8);
	(void)cf_strlcpy(x->ids[x->n], v->version_id, sizeof(x->ids[0]));
	x->null[x->n] = v->s3_null;
	x->latest[x->n] = latest;
	x->n++;
	return CF_OK;
}

static void
s3scan(struct cf_meta *m, const char *ns, struct s3scan *x)
{
	char	nk[CF_OBJKEY_MAX], nv[CF_VERSION_ID_LEN + 1];
	bool	trunc = true;

	memset(x, 0, sizeof(*x));
	assert_int_equal(cf_meta_version_scan(m, ns, "", "", "", "", 100,
	    s3scan_cb, NULL, x, &trunc, nk, nv, NULL), CF_OK);
	assert_false(trunc);
}

static size_t	count_versions;

static cf_err
count_cb(void *arg, const struct cf_version_rec *v, struct cf_error *err)
{
	(void)arg;
	(void)v;
	(void)err;
	count_versions++;
	return CF_OK;
}

static void
test_store_meta_s3_view(void **state)
{
	struct cf_meta		*m = meta_open();
	struct cf_ns_rec	 ns;
	struct cf_version_rec	 got, mk, v1, v2, v3, v4;
	struct cf_error		 e = { 0 };
	struct s3scan		 x;
	bool			 marked = false;

	(void)state;
	/* A namespace made without a state is enabled: real ids. */
	mk_ns(m, "rest-ns");
	assert_int_equal(cf_meta_ns_get(m, "rest-ns", &ns, NULL), CF_OK);
	assert_string_equal(ns.versioning, "enabled");
	assert_int_equal(put_version(m, "rest-ns", "k", false)->s3_null, 0);
	memset(&ns, 0, sizeof(ns));
	(void)cf_strlcpy(ns.name, "s3-ns", sizeof(ns.name));
	(void)cf_strlcpy(ns.env, "dev", sizeof(ns.env));
	(void)cf_strlcpy(ns.created_by, "admin", sizeof(ns.created_by));
	(void)cf_strlcpy(ns.versioning, "unversioned", sizeof(ns.versioning));
	assert_int_equal(cf_meta_ns_create(m, &au_ok, &ns, NULL), CF_OK);

	/* Unversioned: each put is the null version and replaces the one
	 * before in S3's view; both stay. */
	v1 = *put_version(m, "s3-ns", "k", false);
	v2 = *put_version(m, "s3-ns", "k", false);
	assert_int_equal(v1.s3_null, 1);
	assert_int_equal(v2.s3_null, 1);
	assert_int_equal(cf_meta_version_get(m, "s3-ns", "k", "null", &got,
	    NULL), CF_OK);
	assert_string_equal(got.version_id, v2.version_id);
	assert_int_equal(cf_meta_version_get(m, "s3-ns", "k", v1.version_id,
	    &got, NULL), CF_OK);
	assert_true(got.s3_hidden);
	s3scan(m, "s3-ns", &x);
	assert_int_equal(x.n, 1);
	assert_string_equal(x.ids[0], v2.version_id);
	assert_true(x.latest[0]);

	/* Never back to unversioned; enabled: real ids again. */
	assert_int_equal(cf_meta_ns_set_versioning(m, &au_ok, "s3-ns",
	    "unversioned", &e), CF_E_INPUT);
	assert_int_equal(cf_meta_ns_set_versioning(m, &au_ok, "nope-ns",
	    "enabled", NULL), CF_E_NOTFOUND);
	assert_int_equal(cf_meta_ns_set_versioning(m, &au_off, "s3-ns",
	    "enabled", NULL), CF_E_IO);
	assert_int_equal(cf_meta_ns_get(m, "s3-ns", &ns, NULL), CF_OK);
	assert_string_equal(ns.versioning, "unversioned");
	assert_int_equal(cf_meta_ns_set_versioning(m, &au_ok, "s3-ns",
	    "enabled", NULL), CF_OK);
	v3 = *put_version(m, "s3-ns", "k", false);
	assert_int_equal(v3.s3_null, 0);
	s3scan(m, "s3-ns", &x);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.ids[0], v3.version_id);
	assert_string_equal(x.ids[1], v2.version_id);
	/* Still the null version; S3 now names it "null" in answers. */
	assert_int_equal(x.null[1], 2);

	/* Suspended: a new null version replaces the old null one, the
	 * real version stays listed. */
	assert_int_equal(cf_meta_ns_set_versioning(m, &au_ok, "s3-ns",
	    "suspended", NULL), CF_OK);
	v4 = *put_version(m, "s3-ns", "k", false);
	assert_int_equal(v4.s3_null, 2);
	s3scan(m, "s3-ns", &x);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.ids[0], v4.version_id);
	assert_string_equal(x.ids[1], v3.version_id);

	/* Deleting the null version through S3: out of the view, a marker
	 * S3 does not list, every row still there. */
	memset(&mk, 0, sizeof(mk));
	mk_version(&mk, "s3-ns", "k", true);
	assert_int_equal(cf_meta_version_s3_delete(m, &au_ok, "s3-ns", "k",
	    v2.version_id, &mk, &marked, NULL), CF_E_CONFLICT);
	assert_false(marked);
	assert_int_equal(cf_meta_version_s3_delete(m, &au_off, "s3-ns", "k",
	    v4.version_id, &mk, &marked, NULL), CF_E_IO);
	assert_int_equal(cf_meta_version_get(m, "s3-ns", "k", "null", &got,
	    NULL), CF_OK);
	assert_string_equal(got.version_id, v4.version_id);
	assert_int_equal(cf_meta_version_s3_delete(m, &au_ok, "s3-ns", "k",
	    v4.version_id, &mk, &marked, NULL), CF_OK);
	assert_true(marked);
	assert_int_equal(cf_meta_version_get(m, "s3-ns", "k", NULL, &got,
	    NULL), CF_OK);
	assert_true(got.delete_marker);
	assert_true(got.s3_hidden);
	assert_int_equal(cf_meta_version_get(m, "s3-ns", "k", "null", &got,
	    NULL), CF_E_NOTFOUND);
	s3scan(m, "s3-ns", &x);
	assert_int_equal(x.n, 1);
	assert_string_equal(x.ids[0], v3.version_id);
	assert_false(x.latest[0]);
	/* A real version leaves the view the same way, without a marker
	 * when it is not the latest. */
	mk_version(&mk, "s3-ns", "k", true);
	assert_int_equal(cf_meta_version_s3_delete(m, &au_ok, "s3-ns", "k",
	    v3.version_id, &mk, &marked, NULL), CF_OK);
	assert_false(marked);
	s3scan(m, "s3-ns", &x);
	assert_int_equal(x.n, 0);
	assert_int_equal(cf_meta_version_get(m, "s3-ns", "k", v3.version_id,
	    &got, NULL), CF_OK);
	assert_true(got.s3_hidden);
	count_versions = 0;
	assert_int_equal(cf_meta_version_list(m, "s3-ns", "k", count_cb, NULL,
	    NULL), CF_OK);
	assert_int_equal(count_versions, 5);
	cf_meta_close(m);
}

/* --- backups (meta_backup.c) --- */

struct erow_list {
	struct cf_erasure_row	rows[8];
	size_t			n;
};

static cf_err
erow_collect(void *arg, const struct cf_erasure_row *row,
    struct cf_error *err)
{
	struct erow_list	*l = arg;

	(void)err;
	assert_true(l->n < 8);
	l->rows[l->n++] = *row;
	return CF_OK;
}

/* meta_int_prep keeps statements prepared per connection: the same text
 * gives the same statement back once it was returned; a statement in use
 * is never handed out twice; a buffer reused for another text gets that
 * text's statement (the pointer is only the key's first half); past its
 * size it evicts statements not in use and still answers. */
static int64_t
prep_value(struct conn *c, const char *sql, sqlite3_stmt **keep)
{
	struct cf_error	 e = { 0 };
	sqlite3_stmt	*st = NULL;
	int64_t		 v;

	assert_int_equal(meta_int_prep(c, sql, &st, &e), CF_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	if (keep != NULL)
		*keep = st;
	else
		meta_int_unprep(c, st);
	return v;
}

static void
test_store_meta_stmt_cache(void **state)
{
	struct cf_meta	*m = meta_open();
	struct cf_error	 e = { 0 };
	struct conn	*c = NULL;
	sqlite3_stmt	*a = NULL, *b = NULL, *again = NULL;
	static const char lit[] = "SELECT 41 + 1";
	char		 buf[64];
	int		 i;

	assert_int_equal(meta_int_rtx_begin(m, &c, &e), CF_OK);
	assert_int_equal(prep_value(c, lit, &a), 42);
	/* In use: a second caller gets a statement of its own. */
	assert_int_equal(prep_value(c, lit, &b), 42);
	assert_ptr_not_equal(a, b);
	meta_int_unprep(c, a);
	meta_int_unprep(c, b);
	/* Returned: the next call reuses one, reset and unbound. */
	assert_int_equal(prep_value(c, lit, &again), 42);
	assert_true(again == a || again == b);
	meta_int_unprep(c, again);
	/* One buffer, two texts: each gets its own answer. */
	(void)snprintf(buf, sizeof(buf), "SELECT %d", 7);
	assert_int_equal(prep_value(c, buf, NULL), 7);
	(void)snprintf(buf, sizeof(buf), "SELECT %d", 8);
	assert_int_equal(prep_value(c, buf, NULL), 8);
	/* Many more texts than the cache holds, one held throughout. */
	assert_int_equal(prep_value(c, lit, &a), 42);
	for (i = 0; i < 200; i++) {
		(void)snprintf(buf, sizeof(buf), "SELECT %d + 0", i);
		assert_int_equal(prep_value(c, buf, NULL), i);
	}
	assert_int_equal(sqlite3_column_int64(a, 0), 42);
	meta_int_unprep(c, a);
	assert_int_equal(prep_value(c, lit, NULL), 42);
	/* A statement that was never kept is finalized: NULL is a no-op. */
	meta_int_unprep(c, NULL);
	meta_int_rtx_end(m, c);
	cf_meta_close(m);
	(void)state;
}

static void
test_store_meta_backup(void **state)
{
	struct cf_meta		*m, *copy = NULL;
	struct cf_version_rec	 got, *v;
	struct cf_erase_item	 it;
	struct cf_erasure_rec	 e;
	struct erow_list	 l;
	struct cf_error		 err = { 0 };
	struct stat		 sb;
	char			 p[300], vid[CF_VERSION_ID_LEN + 1];
	char			 kept[CF_VERSION_ID_LEN + 1];
	int			 ks = -1;

	(void)state;
	m = meta_open();
	mk_ns(m, "bk");
	v = put_version(m, "bk", "a", false);
	(void)cf_strlcpy(vid, v->version_id, sizeof(vid));
	v = put_version(m, "bk", "b", false);
	(void)cf_strlcpy(kept, v->version_id, sizeof(kept));
	path_in(p, sizeof(p), "copy.db");
	assert_int_equal(cf_meta_backup(m, p, &err), CF_OK);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* Never over an existing file. */
	assert_int_equal(cf_meta_backup(m, p, NULL), CF_E_CONFLICT);
	/* Erase a in the original, after the copy. */
	memset(&it, 0, sizeof(it));
	(void)cf_strlcpy(it.version_id, vid, sizeof(it.version_id));
	(void)cf_strlcpy(it.ns, "bk", sizeof(it.ns));
	(void)cf_strlcpy(it.key, "a", sizeof(it.key));
	memset(it.sha256, 'a', CF_SHA256_HEX_LEN);
	(void)cf_strlcpy(it.blob_id, "b1", sizeof(it.blob_id));
	(void)cf_strlcpy(it.why, "named", sizeof(it.why));
	memset(&e, 0, sizeof(e));
	(void)cf_strlcpy(e.id, "erasure-00000000000001", sizeof(e.id));
	(void)cf_strlcpy(e.by, "admin", sizeof(e.by));
	e.at_us = 5;
	(void)cf_strlcpy(e.reason, "art. 17", sizeof(e.reason));
	(void)cf_strlcpy(e.request_id, "r1", sizeof(e.request_id));
	assert_int_equal(cf_meta_erase_apply(m, &au_ok, &e, &it, 1, "{}",
	    &err), CF_OK);
	assert_int_equal(cf_meta_version_keystate(m, vid, &ks, &err), CF_OK);
	assert_int_equal(ks, CF_META_KEY_ERASED);
	assert_int_equal(cf_meta_version_keystate(m, "nope", &ks, &err),
	    CF_OK);
	assert_int_equal(ks, CF_META_KEY_ABSENT);
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_erasure_list(m, erow_collect, &l, &err),
	    CF_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.rows[0].rec.id, e.id);
	assert_string_equal(l.rows[0].item.version_id, vid);
	assert_string_equal(l.rows[0].item.blob_id, "b1");
	assert_string_equal(l.rows[0].rec.reason, "art. 17");
	/* The copy is the snapshot before the erasure: a's key is held. */
	assert_int_equal(cf_meta_open(p, &copy, &err), CF_OK);
	assert_int_equal(cf_meta_version_keystate(copy, vid, &ks, &err),
	    CF_OK);
	assert_int_equal(ks, CF_META_KEY_HELD);
	assert_int_equal(cf_meta_version_get(copy, "bk", "b", kept, &got,
	    &err), CF_OK);
	assert_string_equal(got.kek_id, "kek-1");
	memset(&l, 0, sizeof(l));
	assert_int_equal(cf_meta_erasure_list(copy, erow_collect, &l, &err),
	    CF_OK);
	assert_int_equal(l.n, 0);
	cf_meta_close(copy);
	cf_meta_close(m);
}

/* A version completed by reference: its segments go in with its row, in
 * order, their sizes adding up to its size; their blobs count as
 * referenced (orphan sweep) until their versions are gone, and a
 * namespace's deletion reports them. */
static void
test_store_meta_segments(void **state)
{
	struct cf_meta		*m;
	struct cf_version_rec	 v, got;
	struct cf_segment_rec	 segs[3], out[4];
	struct cf_meta_wrapped	 w[4];
	struct blobids		 ids;
	char			 bid[2][CF_BLOB_ID_LEN + 1];
	bool			 ref[2];
	size_t			 n, i;
	char			 ad[CF_SEGMENT_AD_MAX];

	(void)state;
	m = meta_open();
	mk_ns(m, "seg");
	mk_ns(m, "other");
	memset(segs, 0, sizeof(segs));
	for (i = 0; i < 3; i++) {
		segs[i].n = (uint32_t)i;
		(void)snprintf(segs[i].blob_id, sizeof(segs[i].blob_id),
		    "%032zx", 0xb10b0 + i);
		(void)snprintf(segs[i].sealed_as, sizeof(segs[i].sealed_as),
		    "%032zx", 0x9a470 + i);
		(void)cf_strlcpy(segs[i].kek_id, "kek-1",
		    sizeof(segs[i].kek_id));
		memset(segs[i].wrapped_dek, (int)(i + 1),
		    sizeof(segs[i].wrapped_dek));
		segs[i].size = 5u * (i + 1);
		/* The parts it was made of: numbered with gaps, and one
		 * without a checksum. */
		segs[i].part_number = (uint32_t)(2 * i + 1);
		if (i != 1)
			(void)snprintf(segs[i].checksum,
			    sizeof(segs[i].checksum), "crc32:AAAAA%zu==", i);
	}
	mk_version(&v, "seg", "k", false);
	v.blob_id[0] = '\0';
	(void)cf_strlcpy(v.kek_id, CF_KEK_SEGMENTS, sizeof(v.kek_id));
	memset(v.wrapped_dek, 0, sizeof(v.wrapped_dek));
	v.segs = segs;
	v.nsegs = 3;
	/* The sizes must add up to the version's. */
	v.size = 31;
	assert_int_equal(cf_meta_version_put(m, &au_ok, &v, NULL),
	    CF_E_INVAL);
	v.size = 30;
	/* In order, from 0. */
	segs[1].n = 2;
	assert_int_equal(cf_meta_version_put(m, &au_ok, &v, NULL),
	    CF_E_INVAL);
	segs[1].n = 1;
	/* Part numbers ascend, 1 to 10000 (0: not kept). */
	segs[1].part_number = 1;
	assert_int_equal(cf_meta_version_put(m, &au_ok, &v, NULL),
	    CF_E_INVAL);
	segs[1].part_number = 10001;
	assert_int_equal(cf_meta_version_put(m, &au_ok, &v, NULL),
	    CF_E_INVAL);
	segs[1].part_number = 3;
	/* A segmented version has no blob or key of its own. */
	(void)cf_strlcpy(v.blob_id, segs[0].blob_id, sizeof(v.blob_id));
	assert_int_equal(cf_meta_version_put(m, &au_ok, &v, NULL),
	    CF_E_INVAL);
	v.blob_id[0] = '\0';
	assert_int_equal(cf_meta_version_put(m, &au_ok, &v, NULL), CF_OK);

	assert_int_equal(cf_meta_version_get(m, "seg", "k", NULL, &got, NULL),
	    CF_OK);
	assert_int_equal(got.nsegs, 3);
	assert_null(got.segs);
	assert_int_equal(cf_meta_segments(m, got.version_id, out, 4, &n,
	    NULL), CF_OK);
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(out[i].n, i);
		assert_string_equal(out[i].blob_id, segs[i].blob_id);
		assert_string_equal(out[i].sealed_as, segs[i].sealed_as);
		assert_int_equal(out[i].size, segs[i].size);
		assert_memory_equal(out[i].wrapped_dek, segs[i].wrapped_dek,
		    CF_WRAPPED_DEK_LEN);
		assert_int_equal(out[i].part_number, 2 * i + 1);
		assert_string_equal(out[i].checksum, segs[i].checksum);
	}
	assert_string_equal(out[1].checksum, "");
	/* Fewer slots than segments: refused, not cut. */
	assert_int_equal(cf_meta_segments(m, got.version_id, out, 2, &n,
	    NULL), CF_E_INTEGRITY);
	/* A version of one blob has none. */
	(void)put_version(m, "seg", "plain", false);
	assert_int_equal(cf_meta_segments(m, "00000000000000000000000000000000",
	    out, 4, &n, NULL), CF_OK);
	assert_int_equal(n, 0);

	/* Referenced: the orphan sweep keeps their blobs. */
	(void)cf_strlcpy(bid[0], segs[2].blob_id, sizeof(bid[0]));
	(void)snprintf(bid[1], sizeof(bid[1]), "%032x", 0xdead);
	assert_int_equal(cf_meta_blobs_referenced(m,
	    (const char (*)[CF_BLOB_ID_LEN + 1])bid, 2, ref, NULL), CF_OK);
	assert_true(ref[0]);
	assert_false(ref[1]);

	/* Their keys are wrapped keys of their own kind, for the rewrap;
	 * the version row's is not one. */
	assert_int_equal(cf_meta_wrapped_not_under(m, "kek-2",
	    CF_WRAPPED_SEGMENT, 0, w, 4, &n, NULL), CF_OK);
	assert_int_equal(n, 3);
	assert_string_equal(w[1].version_id, got.version_id);
	assert_int_equal(w[1].seg_n, 1);
	assert_int_equal(cf_segment_ad(got.version_id, 1, ad),
	    strlen("seg:") + CF_VERSION_ID_LEN + 2);
	assert_int_equal(cf_meta_wrapped_not_under(m, "kek-1",
	    CF_WRAPPED_VERSION, 0, w, 4, &n, NULL), CF_OK);
	assert_int_equal(n, 0);

	/* The namespace's deletion reports every segment's blob. */
	{
		struct cf_version_rec	mk;

		mk_version(&mk, "seg", "k", true);
		assert_int_equal(cf_meta_version_put(m, &au_ok, &mk, NULL),
		    CF_OK);
		mk_version(&mk, "seg", "plain", true);
		assert_int_equal(cf_meta_version_put(m, &au_ok, &mk, NULL),
		    CF_OK);
	}
	memset(&ids, 0, sizeof(ids));
	assert_int_equal(cf_meta_ns_delete(m, &au_ok, "seg", blob_collect,
	    &ids, NULL), CF_OK);
	for (i = 0; i < 3; i++)
		assert_true(has_id(&ids, segs[i].blob_id));
	assert_int_equal(cf_meta_segments(m, got.version_id, out, 4, &n,
	    NULL), CF_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cf_meta_blobs_referenced(m,
	    (const char (*)[CF_BLOB_ID_LEN + 1])bid, 1, ref, NULL), CF_OK);
	assert_false(ref[0]);
	cf_meta_close(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_meta_namespaces,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_versions,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_ns_delete,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_principals,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_tokens,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_bindings,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_binding_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_list_reference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_concurrency,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_nested_callbacks, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_read_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_migrate_oidc_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_reopen,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_policies,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_policy_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_migrate_policies, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_open_alloc_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_blob_roundtrip,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_blob_whole,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_binding_order,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_blob_budget,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_blob_seq_reader,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_blob_direct_used,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_blob_abort,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_blob_stale_tmp,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_blob_malformed_ids,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_blob_faults,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_blob_concurrent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_blob_alloc_failure,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_crash_sigkill,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_recovery_codes_single_shot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_totp_last_step,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_auth_failures,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_revoke_sessions,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_needs_obligation,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_audited_commit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_unaudited_writes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_blob_sweep,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_blob_sweep_alone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_blobs_referenced, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_art_of_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_attrs_bounds,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_labels_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_decision_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_wrapped_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_share_links,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_promotions,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_purge_rule,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_pii_rows,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_s3_view,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_backup,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_stmt_cache,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_meta_review_revoke_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta_segments,
		    setup, teardown),
	};

	if (cf_crypto_init(NULL) != CF_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
