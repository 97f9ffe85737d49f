/* src/server/s3copy.h: the copy-source headers of S3's CopyObject and
 * UploadPartCopy (x-amz-copy-source-range, x-amz-copy-source-if-*-since),
 * the HTTP dates of conditional GETs and GetObjectAttributes'
 * x-amz-object-attributes.  Pure: unit-tested in
 * tests/unit/test_server.c, fuzzed by fuzz/fuzz_s3copy.c. */
#ifndef CF_SERVER_S3COPY_H
#define CF_SERVER_S3COPY_H

#include <stdbool.h>
#include <stdint.h>

/* x-amz-copy-source-range: exactly "bytes=FIRST-LAST", decimal, FIRST
 * <= LAST (S3 takes no suffix or open range, no list).  false: not of
 * that form.  Whether the range fits the source is the core's check. */
bool	cf_s3_copy_range_parse(const char *v, uint64_t *first,
	    uint64_t *last);
/* An HTTP date as microseconds since the epoch: RFC 9110's IMF-fixdate
 * ("Sun, 06 Nov 1994 08:49:37 GMT") or one of the obsolete forms it
 * has recipients accept (RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT",
 * asctime "Sun Nov  6 08:49:37 1994").  false: not such a date (NULL
 * too). */
bool	cf_s3_http_date_parse(const char *v, int64_t *us);

/* The attributes GetObjectAttributes is asked for. */
#define CF_S3_ATTR_ETAG		(1u << 0)
#define CF_S3_ATTR_CHECKSUM	(1u << 1)
#define CF_S3_ATTR_PARTS	(1u << 2)	/* ObjectParts */
#define CF_S3_ATTR_CLASS	(1u << 3)	/* StorageClass */
#define CF_S3_ATTR_SIZE		(1u << 4)	/* ObjectSize */
/* x-amz-object-attributes: an HTTP list (commas, blanks around the
 * elements) of ETag, Checksum, ObjectParts, StorageClass and
 * ObjectSize, in any case, each any number of times; *mask gets those
 * named (untouched on false).  false: NULL, no element, or an element
 * that is none of them (S3's 400 InvalidArgument). */
bool	cf_s3_object_attrs_parse(const char *v, unsigned *mask);

#endif
