/* src/crypto/checksum.c: S3's data checksums (checksum.h).  CRC32 is
 * zlib's (vectorised); CRC32C and CRC64/NVME are reflected CRCs computed
 * eight bytes at a time from tables built once (slicing-by-8). */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <zlib.h>

#include "base/log.h"
#include "base/mem.h"
#include "crypto/checksum.h"
#include "crypto/crypto.h"

#define CRC32C_POLY	0x82f63b78u
#define CRC64NVME_POLY	0x9a6c9329ac4bc9b5ull

static uint32_t		crc32c_tab[8][256];
static uint64_t		crc64_tab[8][256];
static pthread_once_t	tab_once = PTHREAD_ONCE_INIT;

static void
tables(void)
{
	uint32_t	c32;
	uint64_t	c64;
	int		i, j, k;

	for (i = 0; i < 256; i++) {
		c32 = (uint32_t)i;
		c64 = (uint64_t)i;
		for (j = 0; j < 8; j++) {
			c32 = (c32 & 1) ? (c32 >> 1) ^ CRC32C_POLY : c32 >> 1;
			c64 = (c64 & 1) ? (c64 >> 1) ^ CRC64NVME_POLY :
			    c64 >> 1;
		}
		crc32c_tab[0][i] = c32;
		crc64_tab[0][i] = c64;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++) {
			c32 = crc32c_tab[k - 1][i];
			crc32c_tab[k][i] = (c32 >> 8) ^
			    crc32c_tab[0][c32 & 0xff];
			c64 = crc64_tab[k - 1][i];
			crc64_tab[k][i] = (c64 >> 8) ^ crc64_tab[0][c64 & 0xff];
		}
}

static uint32_t
crc32c_update(uint32_t c, const uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);

		c = crc32c_tab[7][lo & 0xff] ^ crc32c_tab[6][(lo >> 8) & 0xff] ^
		    crc32c_tab[5][(lo >> 16) & 0xff] ^ crc32c_tab[4][lo >> 24] ^
		    crc32c_tab[3][p[4]] ^ crc32c_tab[2][p[5]] ^
		    crc32c_tab[1][p[6]] ^ crc32c_tab[0][p[7]];
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		c = (c >> 8) ^ crc32c_tab[0][(c ^ *p++) & 0xff];
	return c;
}

static uint64_t
crc64_update(uint64_t c, const uint8_t *p, size_t n)
{
	int	i;

	while (n >= 8) {
		uint64_t v = 0;

		for (i = 7; i >= 0; i--)
			v = v << 8 | p[i];
		v ^= c;
		c = crc64_tab[7][v & 0xff] ^ crc64_tab[6][(v >> 8) & 0xff] ^
		    crc64_tab[5][(v >> 16) & 0xff] ^
		    crc64_tab[4][(v >> 24) & 0xff] ^
		    crc64_tab[3][(v >> 32) & 0xff] ^
		    crc64_tab[2][(v >> 40) & 0xff] ^
		    crc64_tab[1][(v >> 48) & 0xff] ^ crc64_tab[0][v >> 56];
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		c = (c >> 8) ^ crc64_tab[0][(c ^ *p++) & 0xff];
	return c;
}

struct cf_cksum {
	enum cf_cksum_alg	 alg;
	uint32_t		 c32;
	uint64_t		 c64;
	gnutls_hash_hd_t	 h;
	bool			 have_h;
	bool			 done;
};

static const struct {
	const char		*name;
	enum cf_cksum_alg	 alg;
	size_t			 len;
} algs[] = {
	{ "crc32", CF_CKSUM_CRC32, 4 },
	{ "crc32c", CF_CKSUM_CRC32C, 4 },
	{ "crc64nvme", CF_CKSUM_CRC64NVME, 8 },
	{ "sha1", CF_CKSUM_SHA1, 20 },
	{ "sha256", CF_CKSUM_SHA256, 32 },
};

enum cf_cksum_alg
cf_cksum_alg_of(const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcasecmp(name, algs[i].name) == 0)
			return algs[i].alg;
	return CF_CKSUM_NONE;
}

const char *
cf_cksum_name(enum cf_cksum_alg alg)
{
	size_t	i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (algs[i].alg == alg)
			return algs[i].name;
	return "";
}

size_t
cf_cksum_len(enum cf_cksum_alg alg)
{
	size_t	i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (algs[i].alg == alg)
			return algs[i].len;
	return 0;
}

cf_err
cf_cksum_new(enum cf_cksum_alg alg, struct cf_cksum **out,
    struct cf_error *err)
{
	struct cf_cksum	*h;
	int		 grc = 0;

	if (cf_cksum_len(alg) == 0)
		return cf_error_set(err, CF_E_INVAL, "no such checksum");
	(void)pthread_once(&tab_once, tables);
	h = cf_calloc(1, sizeof(*h));
	if (h == NULL)
		return cf_error_set(err, CF_E_NOMEM, "out of memory");
	h->alg = alg;
	h->c32 = alg == CF_CKSUM_CRC32 ? (uint32_t)crc32(0L, Z_NULL, 0) :
	    0xffffffffu;
	h->c64 = ~0ull;
	if (alg == CF_CKSUM_SHA1 || alg == CF_CKSUM_SHA256) {
		grc = gnutls_hash_init(&h->h, alg == CF_CKSUM_SHA1 ?
		    GNUTLS_DIG_SHA1 : GNUTLS_DIG_SHA256);
		h->have_h = grc >= 0;
	}
	if (grc < 0) {
		cf_free(h);
		return cf_error_set(err, CF_E_INTERNAL, "checksum init: %s",
		    gnutls_strerror(grc));
	}
	*out = h;
	return CF_OK;
}

void
cf_cksum_update(struct cf_cksum *h, const void *p, size_t len)
{
	const uint8_t	*b = p;
	size_t		 n;

	if (h->done)
		fatalx("crypto: checksum update after final");
	switch (h->alg) {
	case CF_CKSUM_CRC32:
		/* zlib takes a uInt length. */
		while (len > 0) {
			n = len > (1u << 30) ? (1u << 30) : len;
			h->c32 = (uint32_t)crc32(h->c32, b, (uInt)n);
			b += n;
			len -= n;
		}
		break;
	case CF_CKSUM_CRC32C:
		h->c32 = crc32c_update(h->c32, b, len);
		break;
	case CF_CKSUM_CRC64NVME:
		h->c64 = crc64_update(h->c64, b, len);
		break;
	default:
		if (len > 0 && gnutls_hash(h->h, b, len) < 0)
			fatalx("crypto: checksum update failed");
		break;
	}
}

void
cf_cksum_final(struct cf_cksum *h, uint8_t out[CF_CKSUM_MAX])
{
	uint32_t	c32 = h->c32;
	int		i;

	if (h->done)
		fatalx("crypto: checksum final twice");
	h->done = true;
	switch (h->alg) {
	case CF_CKSUM_CRC32C:
		c32 ^= 0xffffffffu;
		/* FALLTHROUGH */
	case CF_CKSUM_CRC32:
		for (i = 0; i < 4; i++)
			out[i] = (uint8_t)(c32 >> (24 - 8 * i));
		break;
	case CF_CKSUM_CRC64NVME:
		for (i = 0; i < 8; i++)
			out[i] = (uint8_t)(~h->c64 >> (56 - 8 * i));
		break;
	default:
		gnutls_hash_output(h->h, out);
		break;
	}
}

void
cf_cksum_free(struct cf_cksum *h)
{
	if (h == NULL)
		return;
	if (h->have_h)
		gnutls_hash_deinit(h->h, NULL);
	cf_free(h);
}

/* GF(2) matrix times vector: the rows of mat (width of them, one per
 * bit of vec, lowest first) that vec's set bits select, added. */
static uint64_t
gf2_times(const uint64_t *mat, uint64_t vec)
{
	uint64_t	sum = 0;

	while (vec != 0) {
		if ((vec & 1) != 0)
			sum ^= *mat;
		vec >>= 1;
		mat++;
	}
	return sum;
}

static void
gf2_square(uint64_t *sq, const uint64_t *mat, int width)
{
	int	n;

	for (n = 0; n < width; n++)
		sq[n] = gf2_times(mat, mat[n]);
}

/* zlib's crc32_combine for any reflected CRC whose initial value equals
 * its final xor (all three of S3's): apply to crc1 the operator that
 * appends len2 zero bytes (squared up from the one for one zero bit,
 * built from the polynomial), then add crc2.  The init/xorout terms
 * cancel, so no table and no byte of the data is needed. */
static uint64_t
crc_combine(uint64_t poly, int width, uint64_t crc1, uint64_t crc2,
    uint64_t len2)
{
	uint64_t	even[64], odd[64], row;
	int		n;

	if (len2 == 0)
		return crc1;
	odd[0] = poly;			/* one zero bit */
	row = 1;
	for (n = 1; n < width; n++) {
		odd[n] = row;
		row <<= 1;
	}
	gf2_square(even, odd, width);	/* two zero bits */
	gf2_square(odd, even, width);	/* four */
	/* Apply len2 zero bytes: the first square is one byte. */
	do {
		gf2_square(even, odd, width);
		if ((len2 & 1) != 0)
			crc1 = gf2_times(even, crc1);
		len2 >>= 1;
		if (len2 == 0)
			break;
		gf2_square(odd, even, width);
		if ((len2 & 1) != 0)
			crc1 = gf2_times(odd, crc1);
		len2 >>= 1;
	} while (len2 != 0);
	return crc1 ^ crc2;
}

static uint64_t
be_get(const uint8_t *p, size_t n)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

cf_err
cf_cksum_combine(enum cf_cksum_alg alg, const uint8_t *a, const uint8_t *b,
    uint64_t len_b, uint8_t out[CF_CKSUM_MAX])
{
	uint64_t	poly, v;
	size_t		n = cf_cksum_len(alg), i;

	switch (alg) {
	case CF_CKSUM_CRC32:
		poly = 0xedb88320u;
		break;
	case CF_CKSUM_CRC32C:
		poly = CRC32C_POLY;
		break;
	case CF_CKSUM_CRC64NVME:
		poly = CRC64NVME_POLY;
		break;
	default:
		return CF_E_INVAL;
	}
	v = crc_combine(poly, (int)(8 * n), be_get(a, n), be_get(b, n),
	    len_b);
	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return CF_OK;
}
