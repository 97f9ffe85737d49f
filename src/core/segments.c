/* src/core/segments.c: versions completed by reference (S3 multipart):
 * the reader of a segmented version's plaintext, the rebinding of its
 * segments' data keys for a version that shares them (a copy), and the
 * removal of their blobs once nothing references them
 * (docs/internals/STORE.md, "Segments").
 *
 * A segmented version's bytes are its segments' plaintexts in order;
 * each segment is an ordinary blob (docs/internals/CRYPTO.md) sealed
 * under its sealed_as (the part id it was uploaded as) with a data key
 * of its own, wrapped with the associated data "seg:<version>:<n>".
 * SEC: the metadata is the trusted source of the list and of every
 * segment's plaintext size, as it is of a blob's size: the opener
 * refuses a blob whose length does not match the size the row gives,
 * so a truncated, extended, swapped or reordered segment fails like a
 * truncated blob (a swapped one also fails its key's unwrap and its
 * chunks' associated data). */
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "crypto/aead.h"
#include "core/core_int.h"

struct core_segs {
	struct cf_core		*c;
	char			 version_id[CF_VERSION_ID_LEN + 1];
	struct cf_segment_rec	*v;		/* n, wrapped keys wiped on
						 * close */
	uint64_t		*off;		/* off[i]: plaintext offset
						 * of segment i */
	size_t			 n;
	uint64_t		 size;
	size_t			 cur;		/* segment open in br/op */
	struct cf_blob_reader	*br;
	struct cf_opener	*op;
};

static cf_err
nomem(struct cf_error *err)
{
	return cf_error_set(err, CF_E_NOMEM, "out of memory");
}

cf_err
core_segs_load(struct cf_core *c, const char *version_id, uint32_t nsegs,
    struct cf_segment_rec **out, size_t *n, struct cf_error *err)
{
	struct cf_segment_rec	*v;
	cf_err			 rc;

	*out = NULL;
	*n = 0;
	if (nsegs == 0 || nsegs > CF_SEGMENTS_MAX)
		return cf_error_set(err, CF_E_INTEGRITY, "version %s: bad "
		    "segment count %u", version_id, (unsigned)nsegs);
	v = cf_calloc(nsegs, sizeof(*v));
	if (v == NULL)
		return nomem(err);
	rc = cf_meta_segments(c->meta, version_id, v, nsegs, n, err);
	/* SEC: the row says how many; fewer rows is a loss, not a
	 * shorter object. */
	if (rc == CF_OK && *n != nsegs)
		rc = cf_error_set(err, CF_E_INTEGRITY, "version %s has %zu "
		    "of its %u segments", version_id, *n, (unsigned)nsegs);
	if (rc != CF_OK) {
		core_segs_free(v, nsegs);
		*n = 0;
		return rc;
	}
	*out = v;
	return CF_OK;
}

void
core_segs_free(struct cf_segment_rec *v, size_t n)
{
	if (v == NULL)
		return;
	cf_wipe(v, n * sizeof(*v));
	cf_free(v);
}

cf_err
core_segs_open(struct cf_core *c, const struct cf_version_rec *ver,
    struct core_segs **out, struct cf_error *err)
{
	struct core_segs	*s;
	uint64_t		 total = 0;
	size_t			 i;
	cf_err			 rc;

	s = cf_calloc(1, sizeof(*s));
	if (s == NULL)
		return nomem(err);
	s->c = c;
	s->cur = SIZE_MAX;
	cf_strlcpy(s->version_id, ver->version_id, sizeof(s->version_id));
	rc = core_segs_load(c, ver->version_id, ver->nsegs, &s->v, &s->n,
	    err);
	if (rc == CF_OK && (s->off = cf_calloc(s->n, sizeof(*s->off))) ==
	    NULL)
		rc = nomem(err);
	for (i = 0; rc == CF_OK && i < s->n; i++) {
		s->off[i] = total;
		if (s->v[i].size > UINT64_MAX - total)
			rc = cf_error_set(err, CF_E_INTEGRITY, "segment sizes "
			    "overflow");
		else
			total += s->v[i].size;
	}
	if (rc == CF_OK && total != ver->size)
		rc = cf_error_set(err, CF_E_INTEGRITY, "version %s: its "
		    "segments hold %llu bytes, not %llu", ver->version_id,
		    (unsigned long long)total, (unsigned long long)ver->size);
	if (rc != CF_OK) {
		core_segs_close(s);
		return rc;
	}
	s->size = total;
	*out = s;
	return CF_OK;
}

void
core_segs_close(struct core_segs *s)
{
	if (s == NULL)
		return;
	cf_opener_free(s->op);
	cf_blob_close(s->br);
	core_segs_free(s->v, s->n);
	cf_free(s->off);
	cf_free(s);
}

/* Open segment i for reading (closing the one open). */
static cf_err
seg_switch(struct core_segs *s, size_t i, struct cf_error *err)
{
	const struct cf_segment_rec	*g = &s->v[i];
	struct cf_key			*dek = NULL;
	char				 ad[CF_SEGMENT_AD_MAX];
	size_t				 adlen;
	cf_err				 rc;

	cf_opener_free(s->op);
	s->op = NULL;
	cf_blob_close(s->br);
	s->br = NULL;
	s->cur = SIZE_MAX;
	adlen = cf_segment_ad(s->version_id, g->n, ad);
	rc = cf_keyprov_unwrap(s->c->kp, g->kek_id, ad, adlen,
	    g->wrapped_dek, &dek, err);
	if (rc != CF_OK)
		return rc;
	core_metrics_key_op(s->c, CORE_METRIC_KEY_UNWRAP);
	rc = cf_blob_open(s->c->blobs, g->blob_id, &s->br, err);
	if (rc == CF_E_NOTFOUND) {
		cf_error_clear(err);
		rc = cf_error_set(err, CF_E_INTEGRITY, "stored data of "
		    "segment %zu of version %s is missing", i, s->version_id);
	}
	/* SEC: the chunks' associated data is the id the segment was
	 * sealed under (its part's), and its length must be that of size
	 * bytes of plaintext. */
	if (rc == CF_OK)
		rc = cf_opener_new(dek, g->sealed_as, strlen(g->sealed_as),
		    g->size, cf_blob_size(s->br), cf_blob_pread, s->br,
		    &s->op, err);
	cf_key_free(dek);
	if (rc != CF_OK) {
		cf_blob_close(s->br);
		s->br = NULL;
		return rc;
	}
	s->cur = i;
	return CF_OK;
}

/* The segment holding byte pos (< size): the last with off <= pos and
 * some bytes. */
static size_t
seg_at(const struct core_segs *s, uint64_t pos)
{
	size_t	lo = 0, hi = s->n, mid;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (s->off[mid] <= pos)
			lo = mid;
		else
			hi = mid;
	}
	while (lo < s->n && s->off[lo] + s->v[lo].size <= pos)
		lo++;
	return lo;
}

cf_err
core_segs_read(struct core_segs *s, uint64_t pos, void *buf, size_t max,
    size_t *got, struct cf_error *err)
{
	uint8_t		*dst = buf;
	size_t		 i, want, n, total = 0;
	uint64_t	 in, left;
	cf_err		 rc = CF_OK;

	*got = 0;
	if (pos >= s->size || max == 0)
		return cf_error_set(err, CF_E_INVAL, "read past the end");
	/* Fill buf across segment boundaries, as one blob's reader would. */
	while (total < max && pos < s->size) {
		i = seg_at(s, pos);
		if (i >= s->n)
			return cf_error_set(err, CF_E_INTEGRITY, "no segment "
			    "at %llu", (unsigned long long)pos);
		if (i != s->cur && (rc = seg_switch(s, i, err)) != CF_OK)
			break;
		in = pos - s->off[i];
		left = s->v[i].size - in;
		want = max - total < left ? max - total : (size_t)left;
		n = 0;
		rc = cf_opener_read(s->op, in, dst + total, want, &n, err);
		if (rc == CF_OK && n == 0)
			rc = cf_error_set(err, CF_E_INTEGRITY, "segment %zu "
			    "ends early", i);
		if (rc != CF_OK)
			break;
		total += n;
		pos += n;
	}
	if (rc != CF_OK) {
		/* SEC: nothing of a failed read is left behind. */
		cf_wipe(buf, total);
		return rc;
	}
	*got = total;
	return CF_OK;
}

cf_err
core_segs_layout(const struct cf_segment_rec *v, size_t n, char **out,
    struct cf_error *err)
{
	char	*s;
	size_t	 i, j, len = 0;
	int	 k;

	*out = NULL;
	s = cf_malloc(CF_SEGMENT_LAYOUT_MAX);
	if (s == NULL)
		return nomem(err);
	s[0] = '\0';
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j].size == v[i].size; j++)
			;
		k = snprintf(s + len, CF_SEGMENT_LAYOUT_MAX - len,
		    "%s%llux%zu", i == 0 ? "" : ",",
		    (unsigned long long)v[i].size, j - i);
		if (k < 0 || (size_t)k >= CF_SEGMENT_LAYOUT_MAX - len) {
			/* Too many runs for a header: no layout. */
			cf_free(s);
			return CF_OK;
		}
		len += (size_t)k;
	}
	*out = s;
	return CF_OK;
}

cf_err
core_segs_layout_of(const struct core_segs *s, char **out,
    struct cf_error *err)
{
	return core_segs_layout(s->v, s->n, out, err);
}

const struct cf_segment_rec *
core_segs_recs(const struct core_segs *s, size_t *n)
{
	*n = s->n;
	return s->v;
}

cf_err
core_segs_rebind(struct cf_core *c, const char *src_id, uint32_t nsegs,
    const char *dst_id, struct cf_segment_rec **out, struct cf_error *err)
{
	struct cf_segment_rec	*v = NULL;
	struct cf_key		*dek = NULL;
	char			 ad[CF_SEGMENT_AD_MAX];
	size_t			 n = 0, i, adlen;
	cf_err			 rc;

	*out = NULL;
	rc = core_segs_load(c, src_id, nsegs, &v, &n, err);
	for (i = 0; rc == CF_OK && i < n; i++) {
		adlen = cf_segment_ad(src_id, v[i].n, ad);
		rc = cf_keyprov_unwrap(c->kp, v[i].kek_id, ad, adlen,
		    v[i].wrapped_dek, &dek, err);
		if (rc != CF_OK)
			break;
		core_metrics_key_op(c, CORE_METRIC_KEY_UNWRAP);
		/* SEC: the blob and its sealed_as are shared; the key is
		 * bound to the new version's segment, as a copy's key is to
		 * the copy (core_dek_rebind). */
		adlen = cf_segment_ad(dst_id, v[i].n, ad);
		rc = cf_keyprov_wrap(c->kp, dek, ad, adlen, v[i].kek_id,
		    v[i].wrapped_dek, err);
		cf_key_free(dek);
		dek = NULL;
		if (rc == CF_OK)
			core_metrics_key_op(c, CORE_METRIC_KEY_WRAP);
	}
	if (rc != CF_OK) {
		core_segs_free(v, n);
		return rc;
	}
	*out = v;
	return CF_OK;
}

cf_err
core_segs_blobs(struct cf_core *c, const struct cf_version_rec *ver,
    struct core_blobset *bs, struct cf_error *err)
{
	struct cf_segment_rec	*v = NULL;
	size_t			 n = 0, i;
	cf_err			 rc;

	if (ver->nsegs == 0) {
		if (ver->blob_id[0] == '\0')
			return CF_OK;
		return core_blobset_add(bs, ver->blob_id, err);
	}
	rc = core_segs_load(c, ver->version_id, ver->nsegs, &v, &n, err);
	for (i = 0; rc == CF_OK && i < n; i++)
		rc = core_blobset_add(bs, v[i].blob_id, err);
	core_segs_free(v, n);
	return rc;
}

cf_err
core_segs_blobs_by_id(struct cf_core *c, const char *version_id,
    struct core_blobset *bs, struct cf_error *err)
{
	return core_segs_blobs_meta(c->meta, version_id, bs, err);
}

cf_err
core_segs_blobs_meta(struct cf_meta *m, const char *version_id,
    struct core_blobset *bs, struct cf_error *err)
{
	struct cf_segment_rec	*v;
	size_t			 n = 0, i, max = 16;
	cf_err			 rc;

	/* Most versions have none, most multipart ones a few hundred at
	 * most: a small array first, the largest only when it is short. */
	for (;;) {
		v = cf_calloc(max, sizeof(*v));
		if (v == NULL)
			return nomem(err);
		rc = cf_meta_segments(m, version_id, v, max, &n, err);
		if (rc != CF_E_INTEGRITY || max == CF_SEGMENTS_MAX)
			break;
		core_segs_free(v, max);
		cf_error_clear(err);
		max = CF_SEGMENTS_MAX;
	}
	for (i = 0; rc == CF_OK && i < n; i++)
		rc = core_blobset_add(bs, v[i].blob_id, err);
	core_segs_free(v, max);
	return rc;
}

cf_err
core_blobset_add(struct core_blobset *bs, const char *id,
    struct cf_error *err)
{
	char	(*nv)[CF_BLOB_ID_LEN + 1];
	size_t	 cap;

	if (id[0] == '\0')
		return CF_OK;
	if (bs->n == bs->cap) {
		cap = bs->cap == 0 ? 16 : 2 * bs->cap;
		nv = cf_reallocarray(bs->ids, cap, sizeof(*nv));
		if (nv == NULL)
			return nomem(err);
		bs->ids = nv;
		bs->cap = cap;
	}
	cf_strlcpy(bs->ids[bs->n++], id, sizeof(bs->ids[0]));
	return CF_OK;
}

#define DROP_BATCH	64

size_t
core_blobset_drop(struct core_blobset *bs, struct cf_meta *m,
    struct cf_blobstore *blobs)
{
	bool	ref[DROP_BATCH];
	size_t	i, k, n, left = 0;

	/* SEC: a blob goes only once no version, segment or part names it
	 * (a copy shares its source's blobs); on an error it stays, for
	 * the orphan sweep. */
	for (i = 0; i < bs->n; i += n) {
		n = bs->n - i < DROP_BATCH ? bs->n - i : DROP_BATCH;
		if (cf_meta_blobs_referenced(m, (const char (*)[
		    CF_BLOB_ID_LEN + 1])&bs->ids[i], n, ref, NULL) != CF_OK) {
			left += n;
			continue;
		}
		for (k = 0; k < n; k++)
			if (ref[k])
				left++;
			else if (cf_blob_delete(blobs, bs->ids[i + k], NULL) !=
			    CF_OK)
				left++;
	}
	return left;
}

void
core_blobset_free(struct core_blobset *bs)
{
	cf_free(bs->ids);
	bs->ids = NULL;
	bs->n = bs->cap = 0;
}
